"""Cursor pagination over the same total orders the tables use.

The tables sort by expressions DRF's CursorPagination cannot key on (pipeline
rank, nulls last), so the cursor is an opaque, signed position in the total
order (every sort ends in the id). One query per page: it reads one row more
than the page to know whether there is a next one, and never counts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

_SALT = "api.cursor"


class OpaqueCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.page_size = self._page_size(request)
        self.offset = self._offset(request)
        rows = list(queryset[self.offset : self.offset + self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        return rows[: self.page_size]

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        maximum = settings.API_MAX_PAGE_SIZE
        if raw.isdigit() and int(raw) > 0:
            return min(int(raw), maximum)
        return min(settings.API_PAGE_SIZE, maximum)

    def _offset(self, request: Request) -> int:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return 0
        try:
            offset = signing.loads(raw, salt=_SALT)
        except signing.BadSignature as exc:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
        if not isinstance(offset, int) or offset < 0:
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return offset

    def _link(self, offset: int) -> str:
        url = self.request.build_absolute_uri()
        if offset <= 0:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, signing.dumps(offset, salt=_SALT))

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link(self.offset + self.page_size) if self.has_next else None,
                "previous": self._link(self.offset - self.page_size) if self.offset else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The opaque cursor from a previous page's next/previous link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Rows per page (at most API_MAX_PAGE_SIZE).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
