"""Keyset (seek) cursor pagination over the same total orders the tables use.

Every sort of the tables (``outreach.queries.SORTS``, ``links.queries.SORTS``)
ends in the id, in the same direction as the key, so a position in the order is
the last row's (key, id) and the next page is

    WHERE (key, id) > (v, last id) ORDER BY key, id LIMIT n + 1

(``<`` when descending): the (key, id) index is read from the cursor on, with no
OFFSET to walk and no COUNT, so page 1,000 costs what page 1 costs. One row more
than the page tells whether there is a next one.

A nullable key sorted with its nulls at one end is two runs: the rows with a
value (a plain row comparison, which never matches a null) and then the null
rows in id order; a page that crosses from one to the other reads both (two
queries), every other page one. The cursor is signed and names the order it
belongs to: a cursor used with another ``sort`` is a 400, not a silently wrong
page.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import F, Func, QuerySet, Value
from django.db.models.expressions import OrderBy
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

_SALT = "api.keyset"


class _Row(Func):
    """``(a, b, ...)``: a row constructor."""

    function = ""
    output_field = models.Field()


class _RowAfter(Func):
    """``(a, b) > (x, y)`` (or ``<``): PostgreSQL compares rows left to right,
    and uses a (a, b) index for it as one range."""

    arg_joiner = " > "
    output_field = models.BooleanField()
    template = "%(expressions)s"


class _RowBefore(_RowAfter):
    arg_joiner = " < "


@dataclass(frozen=True)
class Term:
    field: models.Field
    descending: bool
    nulls_last: bool

    @property
    def name(self) -> str:
        return self.field.attname

    def ordering(self) -> str:
        # Plain ASC/DESC: within one run there are no nulls, and the bare
        # direction is what a (key, id) index read forwards or backwards gives.
        return f"-{self.name}" if self.descending else self.name


def order_terms(queryset: QuerySet) -> list[Term]:
    """The queryset's ORDER BY as terms, checked to be a keyset order: model
    fields all in one direction, ending in the primary key, only the first of
    them nullable."""
    meta = queryset.model._meta
    terms = []
    for item in queryset.query.order_by:
        if isinstance(item, str):
            descending, name = item.startswith("-"), item.lstrip("-")
            nulls_last = None
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            descending, name = item.descending, item.expression.name
            nulls_last = True if item.nulls_last else (False if item.nulls_first else None)
        else:
            raise ImproperlyConfigured(f"keyset pagination cannot order by {item!r}")
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist as exc:
            raise ImproperlyConfigured(f"keyset pagination needs model fields: {name}") from exc
        if field.is_relation and field.attname != name:
            # Ordering by "campaign" would order by Campaign's Meta.ordering.
            raise ImproperlyConfigured(f"order by {field.attname}, not {name}")
        if nulls_last is None:
            # PostgreSQL's default: nulls are the largest values.
            nulls_last = not descending
        terms.append(Term(field, descending, nulls_last))
    if not terms or terms[-1].field is not meta.pk:
        raise ImproperlyConfigured(f"{meta.label}: the order must end in the id")
    if len({t.descending for t in terms}) != 1:
        raise ImproperlyConfigured(f"{meta.label}: every key of the order must run one way")
    if any(t.field.null for t in terms[1:]):
        raise ImproperlyConfigured(f"{meta.label}: only the first key may be nullable")
    return terms


def signature(terms: list[Term]) -> str:
    """What a cursor is valid for: the list's model and its order (two lists
    with the same order, such as -created_at,-id, must not share cursors)."""
    model = terms[-1].field.model._meta.label
    return f"{model}:" + ",".join(t.ordering() for t in terms)


def reversed_terms(terms: list[Term]) -> list[Term]:
    """The same order read backwards (the nulls change ends too)."""
    return [Term(t.field, not t.descending, not t.nulls_last) for t in terms]


def _dump(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def encode(terms: list[Term], row: Any, *, backwards: bool = False) -> str:
    """The cursor that reads on after ``row`` (before it when ``backwards``)."""
    values = [_dump(getattr(row, t.name)) for t in terms]
    position = {"o": signature(terms), "v": values, "b": backwards}
    return signing.dumps(position, salt=_SALT, compress=True)


def decode(terms: list[Term], raw: str) -> tuple[list[Any], bool]:
    """The (key..., id) values a cursor holds and whether it reads backwards;
    a 400 for a forged cursor or one of another sort."""
    try:
        position = signing.loads(raw, salt=_SALT)
        if not isinstance(position, dict) or not isinstance(position.get("v"), list):
            raise ValueError
    except (signing.BadSignature, ValueError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
    if position.get("o") != signature(terms) or len(position["v"]) != len(terms):
        raise ValidationError(
            {"cursor": ["This cursor belongs to another sort order: start again without it."]}
        )
    try:
        values = [
            None if v is None else t.field.to_python(v)
            for t, v in zip(terms, position["v"], strict=True)
        ]
    except Exception as exc:  # signed by us, but not readable as these fields
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
    return values, bool(position.get("b"))


def _after(queryset: QuerySet, terms: list[Term], values: list[Any]) -> QuerySet:
    compare = _RowBefore if terms[0].descending else _RowAfter
    lhs = _Row(*[F(t.name) for t in terms])
    rhs = _Row(*[Value(v, output_field=t.field) for t, v in zip(terms, values, strict=True)])
    return queryset.filter(compare(lhs, rhs))


def page_after(
    queryset: QuerySet, terms: list[Term], values: list[Any] | None, limit: int
) -> list[Any]:
    """Up to ``limit`` rows of ``queryset`` in the order ``terms`` after the
    position ``values`` (from the start when None), reading the (key, id) index
    from the position on."""
    first = terms[0]
    if not first.field.null:
        page = queryset.order_by(*[t.ordering() for t in terms])
        if values is not None:
            page = _after(page, terms, values)
        return list(page[:limit])
    # A nullable key: the run with values, then the null run (in id order), in
    # the order the table's NULLS FIRST/LAST puts them.
    valued = queryset.filter(**{f"{first.name}__isnull": False}).order_by(
        *[t.ordering() for t in terms]
    )
    nulls = queryset.filter(**{f"{first.name}__isnull": True}).order_by(
        *[t.ordering() for t in terms[1:]]
    )
    runs = [(valued, terms, False), (nulls, terms[1:], True)]
    if not first.nulls_last:
        runs.reverse()
    rows: list[Any] = []
    started = values is None
    for run, run_terms, of_nulls in runs:
        if values is not None and not started:
            if (values[0] is None) != of_nulls:
                continue  # the position is in the other run
            started = True
            run = _after(run, run_terms, values[1:] if of_nulls else values)
        rows += run[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


class KeysetCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        size = self.page_size = self._page_size(request)
        self.terms = order_terms(queryset)
        raw = request.query_params.get(self.cursor_query_param)
        values, backwards = decode(self.terms, raw) if raw else (None, False)
        if backwards:
            # The rows before the position, read backwards, then put in order.
            rows = page_after(queryset, reversed_terms(self.terms), values, size + 1)
            self.has_previous, self.has_next = len(rows) > size, True
            self.rows = rows[:size][::-1]
        else:
            rows = page_after(queryset, self.terms, values, size + 1)
            self.has_previous, self.has_next = values is not None, len(rows) > size
            self.rows = rows[:size]
        return self.rows

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        maximum = settings.API_MAX_PAGE_SIZE
        if raw.isdigit() and int(raw) > 0:
            return min(int(raw), maximum)
        return min(settings.API_PAGE_SIZE, maximum)

    def _link(self, row: Any, *, backwards: bool) -> str:
        url = self.request.build_absolute_uri()
        cursor = encode(self.terms, row, backwards=backwards)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        next_link = previous = None
        if self.rows and self.has_next:
            next_link = self._link(self.rows[-1], backwards=False)
        if self.rows and self.has_previous:
            previous = self._link(self.rows[0], backwards=True)
        elif self.has_previous:  # an empty page past the end: back to the start
            url = self.request.build_absolute_uri()
            previous = remove_query_param(url, self.cursor_query_param)
        return Response({"next": next_link, "previous": previous, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last one.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The page before; null on the first one.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "The opaque cursor of a page's `next` or `previous` link; it belongs to "
                    "that page's `sort` (another sort answers 400)."
                ),
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
