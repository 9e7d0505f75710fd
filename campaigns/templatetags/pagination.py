"""The link of one page of a list, for templates/includes/pagination.html."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: int, param: str = "", keep: str = "") -> str:
    """``?…&param=number``, keeping the other parameters of ``keep`` (a query
    string) or, without one, of the request: a page of a filtered list stays
    filtered. ``param`` is ``page`` unless one URL pages several lists."""
    query = QueryDict(keep, mutable=True) if keep else context.request.GET.copy()
    query[param or "page"] = number
    return f"?{query.urlencode()}"
