"""One error body for every refusal: ``{"detail": "...", "errors": {field: [...]}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"


def _as_lists(errors: Any) -> dict[str, Any]:
    if isinstance(errors, dict):
        return {
            str(key): value if isinstance(value, (list, dict)) else [value]
            for key, value in errors.items()
        }
    if isinstance(errors, list):
        return {NON_FIELD: errors}
    return {NON_FIELD: [errors]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # A service refused (a duplicate URL, a target page of another campaign):
        # its per-field messages are the API's per-field errors.
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        if isinstance(detail, dict) and "__all__" in detail:
            detail = {NON_FIELD: detail.pop("__all__"), **detail}
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_lists(response.data)
        first = next(iter(errors.get(NON_FIELD, [])), None)
        response.data = {"detail": str(first) if first else "Invalid input.", "errors": errors}
    else:
        data = response.data if isinstance(response.data, dict) else {}
        response.data = {"detail": str(data.get("detail", "Error.")), "errors": {}}
    return response
