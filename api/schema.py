"""How the OpenAPI schema describes the API's own authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token: `Authorization: Bearer anc_…`.",
        }


class ErrorSerializer(serializers.Serializer):
    """Every refusal's body (api/errors.py)."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(), help_text="Per field, what is wrong (lists of messages)."
    )


class ApiAutoSchema(AutoSchema):
    """Documents the refusals each operation can answer, with the one error
    body, so a client (and schemathesis) knows them: 401 (no usable token),
    403 (role), 429 (the token's budget) everywhere; 404 where an id is
    resolved (in the path, the campaign filter, or the body); 400 where
    anything is read (query strings, bodies); the upload's 411 and 413."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if direction != "response":
            return responses
        codes = [401, 403, 429]
        params = self._get_pagination_parameters() + self._get_filter_parameters()
        has_query = bool(params) or bool(self._get_format_parameters())
        reads_input = self.method != "GET" or has_query or self._is_list_view()
        names_ids = "{id}" in self.path or self.method != "GET" or self._is_list_view()
        if reads_input:
            codes.append(400)
        if names_ids:
            codes.append(404)
        if self.path.rstrip("/").endswith("/imports") and self.method == "POST":
            codes += [411, 413]
        for code in sorted(codes):
            responses.setdefault(str(code), self._get_response_for_code(ErrorSerializer, str(code)))
        return responses
