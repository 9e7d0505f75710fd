"""Conventions every view keeps, checked over the whole URLconf and source:
a GET that answers htmx with another body says so in ``Vary: HX-Request``, and
the role decorator always sits above ``@require_POST``."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils.cache import has_vary_header

from tests.test_url_access import ROUTES, Route, ctx, project_url_names  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
APPS = ("campaigns", "config", "links", "outreach")

# The element each htmx GET swaps, where the view answers only that target
# with a fragment (the page's hx-get sends it as HX-Target).
HX_TARGETS = {
    "outreach:prospect_list": "prospect-table",
    "outreach:prospect_detail": "prospect-timeline",
    "outreach:email_preview": "email-preview",
    "outreach:outreach_stats": "outreach-stats",
    "links:backlink_list": "backlink-table",
    "links:backlink_detail": "check-history",
}

# Per-request noise that is not a different answer: CSRF tokens (masked anew on
# every render) and CSP nonces.
_NOISE = re.compile(
    rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": "|nonce="|csrf-token" content=")[^"]*'
)
# Relative times ("in 23 hours, 59 minutes") move between two requests made a
# second apart; the page is the same page.
_RELATIVE_TIME = re.compile(rb"(<time\b[^>]*>)[^<]*")


def _get_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in ROUTES:
        if route.method == "get" and route.name not in seen:
            seen[route.name] = route
    return list(seen.values())


def _answer(response: Any) -> tuple[int, str, bytes]:
    content_type = response.get("Content-Type", "")
    if response.streaming or not content_type.startswith("text/html"):
        # Downloads: a workbook stamps its own creation time; type and status suffice.
        return response.status_code, content_type, b""
    body = _NOISE.sub(rb"\1", response.content)
    return response.status_code, content_type, _RELATIVE_TIME.sub(rb"\1", body)


def test_every_get_url_of_the_urlconf_is_walked():
    """The walk below covers the whole URLconf: every named URL that answers a
    GET in the role matrix is requested (the matrix itself lists every URL)."""
    walked = {route.name for route in _get_routes()}
    assert walked <= project_url_names()
    assert len(walked) > 30


@pytest.mark.django_db
def test_get_views_that_answer_htmx_differently_vary_on_hx_request(client, ctx):  # noqa: F811
    client.force_login(ctx["users"]["admin"])
    branching: list[str] = []
    missing: list[str] = []
    for route in _get_routes():
        url = reverse(route.name, kwargs=route.kwargs(ctx))
        data = route.data(ctx)
        plain = client.get(url, data=data)
        headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{url}"}
        if route.name in HX_TARGETS:
            headers["HX-Target"] = HX_TARGETS[route.name]
        htmx = client.get(url, data=data, headers=headers)
        if _answer(plain) == _answer(htmx):
            continue
        branching.append(route.name)
        if not (has_vary_header(plain, "HX-Request") and has_vary_header(htmx, "HX-Request")):
            missing.append(route.name)
    assert not missing, f"GET views that branch on htmx without Vary: HX-Request: {missing}"
    # The walk must meet the views known to branch, or it proves nothing.
    assert {"outreach:prospect_list", "links:backlink_list", "imports:status"} <= set(branching)


# --- decorator order -------------------------------------------------------------

ROLE_DECORATORS = {"member_required", "manager_required", "admin_required"}
METHOD_DECORATORS = {"require_POST", "require_GET", "require_safe", "require_http_methods"}


def _name(decorator: ast.expr) -> str:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _decorator_order_violations(source: str, filename: str) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = [_name(d) for d in node.decorator_list]
        roles = [i for i, n in enumerate(names) if n in ROLE_DECORATORS]
        methods = [i for i, n in enumerate(names) if n in METHOD_DECORATORS]
        if roles and methods and max(roles) > min(methods):
            out.append(f"{filename}:{node.lineno} {node.name}")
    return out


def test_the_role_decorator_sits_above_the_method_decorator():
    """One order everywhere: the access check first (a stranger is sent to log
    in or refused before learning which methods a URL takes), then the method."""
    violations: list[str] = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            violations += _decorator_order_violations(path.read_text(), str(path.relative_to(ROOT)))
    assert not violations, f"@require_POST above the role decorator: {violations}"


def test_the_decorator_order_check_catches_the_other_order():
    source = "@require_POST\n@member_required\ndef view(request): ...\n"
    assert _decorator_order_violations(source, "x.py") == ["x.py:3 view"]
    assert _decorator_order_violations(source.replace("@require_POST\n", ""), "x.py") == []


# --- template fragments ------------------------------------------------------------


def test_fragments_live_in_one_place():
    """A fragment of one page is a {% partialdef %} in it; a shared one lives in
    an ``includes/`` folder. No ``partials/`` folders or ``_name.html`` files."""
    templates = ROOT / "templates"
    odd = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if "partials" in path.parts or path.name.startswith("_")
    ]
    assert odd == []
