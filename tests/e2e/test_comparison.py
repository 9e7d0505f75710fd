"""Us against competitors and the new dashboard charts, drawn in Chromium under
the Content-Security-Policy (the ``page`` fixture fails on any violation)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign, User
from links.prospecting import gap
from tests.e2e.test_dashboard import CANVAS_IS_DRAWN
from tests.factories import PASSWORD

EXPORT = (
    "Referring page URL,Domain rating,Target URL,Anchor,Nofollow,First seen\n"
    "https://runblog.example/a,55,https://{site}/shoes,{site},false,2026-09-01\n"
    "https://gearlist.example/b,71,https://{site}/,click here,true,2026-10-03\n"
    "https://trailnews.example/c,38,https://{site}/shoes,trail shoes,false,2026-11-04\n"
)
COMPARISON_CHARTS = ["cmp-domains", "cmp-dr", "cmp-follow", "cmp-anchors", "cmp-months"]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    manager = User.objects.get(username="manager")
    manager.set_password(PASSWORD)
    manager.save()
    campaign = Campaign.objects.get(slug="demo")
    for site in ("rival-one.example", "rival-two.example"):
        data = EXPORT.format(site=site).encode()
        gap.import_export(campaign, SimpleUploadedFile(f"{site}.csv", data), by=manager)
    return manager


def test_the_comparison_page_draws_every_chart(page, login, demo):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(demo)
    page.goto(reverse("prospecting:link_gap", args=["demo"]))
    page.get_by_role("link", name="Us vs competitors").click()

    expect(page.get_by_role("heading", name="Us vs competitors", level=1)).to_be_visible()
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(len(COMPARISON_CHARTS))
    for chart_id in COMPARISON_CHARTS:
        canvas = page.locator(f"#{chart_id}-chart")
        page.wait_for_function(CANVAS_IS_DRAWN, arg=canvas.element_handle())
    pages = page.locator("#most-linked tbody tr")
    expect(pages.first).to_contain_text("rival-")
    assert errors == []


def test_the_new_dashboard_charts_draw(page, login, demo):
    login(demo)
    page.goto("/campaigns/demo/dashboard/")
    for chart_id in ("quality", "new-domains"):
        canvas = page.locator(f"#{chart_id}-chart")
        expect(canvas).to_have_count(1)
        page.wait_for_function(CANVAS_IS_DRAWN, arg=canvas.element_handle())


def test_a_quality_score_explains_itself_on_hover(page, login, demo):
    login(demo)
    page.goto(reverse("links:backlink_list", args=["demo"]) + "?sort=-quality")
    badge = page.locator(".badge.quality").first
    expect(badge).to_be_visible()
    title = badge.get_attribute("title") or ""
    assert title.startswith("Domain rating:")
    assert "New referring domain:" in title
