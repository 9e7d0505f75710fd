from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.dashboard.panels import PANELS
from campaigns.models import User
from tests.factories import PASSWORD

# True once the canvas has at least one painted pixel: Chart.js drew on it.
CANVAS_IS_DRAWN = """(canvas) => {
  if (!canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) {
    if (pixels[i] !== 0) return true;
  }
  return false;
}"""


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    users = {}
    for name in ("manager", "member"):
        user = User.objects.get(username=name)
        user.set_password(PASSWORD)
        user.save()
        users[name] = user
    return users


def test_manager_sees_every_chart_drawn_and_its_table(page, login, demo):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # e.g. drawn twice
    login(demo["manager"])
    page.get_by_role("link", name="Acme running shoes").click()
    page.get_by_role("link", name="Dashboard", exact=True).last.click()
    expect(page.get_by_role("heading", name="Dashboard: Acme running shoes")).to_be_visible()

    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(len(PANELS))
    for n in range(len(PANELS)):
        page.wait_for_function(CANVAS_IS_DRAWN, arg=canvases.nth(n).element_handle())

    for section in page.locator("section.chart-card").all():
        section.locator("summary").click()
        table = section.locator("table")
        expect(table).to_be_visible()
        expect(table.locator("caption")).not_to_be_empty()
        assert table.locator("tbody tr").count() > 0
    assert errors == []


def test_manager_reaches_the_all_campaigns_dashboard_from_the_nav(page, login, demo):
    login(demo["manager"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", name="Dashboard: all campaigns")).to_be_visible()
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(len(PANELS))
    page.wait_for_function(CANVAS_IS_DRAWN, arg=canvases.first.element_handle())


def test_a_bad_date_is_explained_next_to_its_field(page, login, demo):
    login(demo["manager"])
    page.goto("/campaigns/demo/dashboard/")
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("To").fill("2025-01-01")
    page.get_by_role("button", name="Show").click()

    expect(page.get_by_text("The start date must be on or before the end date.")).to_be_visible()
    expect(page.get_by_label("From")).to_have_attribute("aria-invalid", "true")


def test_member_gets_403_on_the_dashboard(page, login, demo):
    login(demo["member"])
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Dashboard")

    response = page.goto("/campaigns/demo/dashboard/")

    assert response is not None
    assert response.status == 403


def test_a_chart_that_fails_to_load_says_so_and_the_others_still_draw(page, login, demo):
    login(demo["manager"])
    page.route("**/dashboard/funnel/**", lambda route: route.fulfill(status=500, body="boom"))

    page.goto("/campaigns/demo/dashboard/")

    funnel = page.locator("#funnel")
    expect(funnel.get_by_role("status")).to_have_text(
        "These figures could not be loaded (the server answered 500). "
        "Reload the page to try again, or open them on their own page."
    )
    expect(funnel.get_by_role("link", name="open them on their own page")).to_have_attribute(
        "href", re.compile(r"^/campaigns/demo/dashboard/funnel/\?start=")
    )
    expect(funnel).not_to_contain_text("Loading the figures")
    canvases = page.locator("canvas[data-chart]")
    # Every chart but the funnel draws.
    expect(canvases).to_have_count(len(PANELS) - 1)
    for n in range(len(PANELS) - 1):
        page.wait_for_function(CANVAS_IS_DRAWN, arg=canvases.nth(n).element_handle())
