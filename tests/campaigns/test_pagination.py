"""The one pager (templates/includes/pagination.html) and its page_url tag."""

from __future__ import annotations

from pathlib import Path

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def pager(query: str = "", **context) -> str:
    request = RequestFactory().get(f"/list/?{query}")
    page = context.pop("page", Paginator(range(50), 10).get_page(2))
    return render_to_string("includes/pagination.html", {"page": page, **context}, request=request)


def test_pages_keep_the_requests_filters_and_replace_the_page():
    html = pager("q=shoe&kind=blogger&page=2")
    assert 'href="?q=shoe&amp;kind=blogger&amp;page=1" rel="prev"' in html
    assert 'href="?q=shoe&amp;kind=blogger&amp;page=3" rel="next"' in html
    assert "Page 2 of 5 · 50 in all" in html
    assert 'aria-label="Pages"' in html


def test_a_named_parameter_leaves_the_other_lists_pages_alone():
    html = pager("apage=4&fpage=1", param="fpage", label="Follow-up pages")
    assert 'href="?apage=4&amp;fpage=3"' in html
    assert 'aria-label="Follow-up pages"' in html


def test_keep_overrides_the_request_query():
    html = pager("", keep="status=open")
    assert 'href="?status=open&amp;page=3"' in html


def test_history_labels_and_htmx_target():
    html = pager("", history=True, hx_target="prospect-timeline", param="timeline_page")
    assert "← Newer" in html
    assert "Older →" in html
    assert 'hx-get="?timeline_page=3" hx-target="#prospect-timeline"' in html


def test_one_page_shows_no_pager():
    assert "<nav" not in pager(page=Paginator(range(5), 10).get_page(1))


def test_no_template_writes_its_own_pager():
    own = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if 'class="pagination"' in path.read_text()
        and path != TEMPLATES / "includes" / "pagination.html"
    ]
    assert own == []
