"""A member working their prospects and links in a real browser.

The "re-check" tests play the worker themselves (they write the check result the
verifier would write), so the polling UI is tested without one."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns.models import Role
from links.models import Backlink, BacklinkState
from outreach.models import Kind, Status, StatusChange
from tests.factories import (
    AlertFactory,
    BacklinkFactory,
    CampaignFactory,
    LinkCheckFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)


@pytest.fixture
def world(transactional_db):
    member = UserFactory(username="mia", role=Role.MEMBER)
    campaign = CampaignFactory(name="Acme shoes", slug="acme", members=[member])
    target = TargetPageFactory(
        campaign=campaign, url="https://acme.example/trail-shoes/", title="Trail shoes"
    )
    blogger = ProspectFactory(
        campaign=campaign,
        url="https://runner-blog.example/best-shoes/",
        contact_name="Jo Novak",
        assignee=member,
        next_follow_up=timezone.localdate(),
    )
    broken = ProspectFactory(
        campaign=campaign,
        kind=Kind.BROKEN_LINK,
        url="https://trail-club.example/resources/",
        dead_url="https://gone.example/old-guide",
        offered_target=target,
        status=Status.NEGOTIATING,
    )
    haro = ProspectFactory(
        campaign=campaign,
        kind=Kind.HARO,
        url="https://health-desk.example/q/123",
        outlet="Health Desk",
        query_text="Looking for running coaches",
        deadline=timezone.now() + timedelta(hours=20),
    )
    other = CampaignFactory(name="Not yours", slug="not-yours")
    ProspectFactory(campaign=other, url="https://secret.example/")
    return {
        "member": member,
        "campaign": campaign,
        "target": target,
        "blogger": blogger,
        "broken": broken,
        "haro": haro,
        "other": other,
    }


def mark_page(page: Page) -> None:
    """A flag that survives htmx swaps but not a full page load."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"


def test_member_lands_on_my_day(page, login, world):
    login(world["member"])
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    follow_ups = page.locator("section", has=page.get_by_role("heading", name="Follow-ups due"))
    expect(follow_ups).to_contain_text("runner-blog.example")
    expect(follow_ups).to_contain_text("today")
    haro = page.locator("section", has=page.get_by_role("heading", name=re.compile("HARO")))
    expect(haro).to_contain_text("Health Desk")


def test_member_changes_a_status_inline_and_sees_the_history(page, login, world):
    login(world["member"])
    page.goto("/campaigns/acme/prospects/")
    mark_page(page)
    row = page.locator(f"#prospect-{world['blogger'].pk}")
    row.get_by_label("Status of runner-blog.example", exact=True).select_option("contacted")
    row.get_by_role("button", name="Set status of runner-blog.example").click()
    expect(row).to_contain_text("mia · now")
    assert_not_reloaded(page)
    change = StatusChange.objects.get(prospect=world["blogger"])
    assert (change.from_status, change.to_status, change.changed_by) == (
        "new",
        "contacted",
        world["member"],
    )

    row.get_by_role("link", name="runner-blog.example").click()
    timeline = page.locator("#prospect-timeline")
    expect(timeline).to_contain_text("New → Contacted")
    expect(timeline).to_contain_text("by mia")


def test_status_change_works_from_the_keyboard(page, login, world):
    login(world["member"])
    page.goto("/campaigns/acme/prospects/")
    select = page.get_by_label("Status of runner-blog.example", exact=True)
    select.focus()
    select.select_option("qualified")  # what arrow keys on a focused select do
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Set status of runner-blog.example")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#prospect-{world['blogger'].pk}")).to_contain_text("mia · now")
    # htmx keeps the focus on the button it swapped, so the keyboard user stays put.
    expect(page.get_by_role("button", name="Set status of runner-blog.example")).to_be_focused()


def test_filters_live_in_the_url_and_the_back_button_restores_them(page, login, world):
    login(world["member"])
    page.goto("/campaigns/acme/prospects/")
    table = page.locator("#prospect-table")
    expect(table).to_contain_text("3 prospects")
    page.get_by_label("Kind").select_option("haro")
    expect(table).to_contain_text("1 prospect")
    expect(page).to_have_url(re.compile(r"kind=haro"))
    page.get_by_role("searchbox", name="Search").fill("nothing-matches-this")
    expect(table).to_contain_text("No prospects match these filters")
    expect(page).to_have_url(re.compile(r"q=nothing-matches-this"))

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=nothing"))
    expect(table).to_contain_text("health-desk.example")

    # Column headers sort within the filters, and the sort survives a filter change.
    page.goto("/campaigns/acme/prospects/?status=open")
    page.get_by_role("link", name="Prospect", exact=True).click()
    expect(page).to_have_url(re.compile(r"status=open&sort=domain"))
    header = page.get_by_role("columnheader", name="Prospect", exact=True)
    expect(header).to_have_attribute("aria-sort", "ascending")
    domains = table.locator("tbody td:nth-child(2) strong")
    expect(domains).to_have_text(
        ["health-desk.example", "runner-blog.example", "trail-club.example"]
    )
    page.get_by_label("Kind").select_option("blogger")
    expect(page).to_have_url(re.compile(r"sort=domain"))

    # The URL is shareable: opening it fresh gives the same table.
    page.goto("/campaigns/acme/prospects/?kind=broken_link")
    expect(table).to_contain_text("trail-club.example")
    expect(table).not_to_contain_text("health-desk.example")
    expect(page.get_by_label("Kind")).to_have_value("broken_link")


def test_bulk_status_change_on_ticked_rows(page, login, world):
    login(world["member"])
    page.goto("/campaigns/acme/prospects/")
    page.get_by_label("Tick runner-blog.example").check()
    page.get_by_label("Tick health-desk.example").check()
    expect(page.locator("#selected-count")).to_have_text("(2 ticked)")
    page.get_by_label("Change status to").select_option("qualified")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#prospect-table")).to_contain_text("Moved 2 prospects to “Qualified”")
    qualified = StatusChange.objects.filter(to_status="qualified", changed_by=world["member"])
    assert qualified.count() == 2


def test_member_logs_an_activity_and_sets_the_next_follow_up(page, login, world):
    login(world["member"])
    page.goto(f"/campaigns/acme/prospects/{world['blogger'].pk}/")
    mark_page(page)
    next_week = timezone.localdate() + timedelta(days=7)
    page.get_by_label("What happened").select_option("email_sent")
    page.get_by_label("Summary").fill("Pitched our trail shoe guide")
    page.get_by_label("Next follow-up").fill(next_week.isoformat())
    page.get_by_role("button", name="Log activity").click()
    expect(page.get_by_role("status")).to_contain_text("Logged: Email sent")
    expect(page.locator("#prospect-timeline")).to_contain_text("Pitched our trail shoe guide")
    expect(page.locator("#prospect-follow-up")).to_contain_text(next_week.strftime("%b %-d"))
    expect(page.get_by_label("Summary")).to_have_value("")  # ready for the next one
    assert_not_reloaded(page)


def test_member_marks_a_prospect_won_and_sees_the_backlink(page, login, world):
    login(world["member"])
    broken = world["broken"]
    page.goto(f"/campaigns/acme/prospects/{broken.pk}/")
    expect(page.locator("body")).to_contain_text("https://gone.example/old-guide")
    page.get_by_role("link", name="Mark won…").click()
    form = page.locator("#won-form")
    expect(form.get_by_label("Page with the link (source URL)")).to_have_value(broken.url)
    # The target page offered in the broken-link pitch is preselected.
    expect(form.get_by_label("Target page")).to_have_value(str(world["target"].pk))
    form.get_by_label("Expected anchor text").fill("trail shoes")
    form.get_by_role("button", name="Save backlink").click()

    expect(page).to_have_url(re.compile(r"/campaigns/acme/backlinks/$"))
    expect(page.get_by_role("status").first).to_contain_text("first check queued")
    backlink = Backlink.objects.get(prospect=broken)
    row = page.locator(f"#backlink-{backlink.pk}")
    expect(row).to_contain_text("trail-club.example")
    expect(row).to_contain_text("Not checked yet")
    expect(row).to_contain_text("Checking…")  # its first check is queued
    broken.refresh_from_db()
    assert broken.status == Status.WON


def test_recheck_shows_progress_then_the_new_verdict(page, login, world):
    backlink = BacklinkFactory(
        campaign=world["campaign"],
        source_url="https://review-site.example/shoes/",
        state=BacklinkState.LIVE,
        last_checked_at=timezone.now() - timedelta(days=3),
    )
    login(world["member"])
    page.goto("/campaigns/acme/backlinks/")
    row = page.locator(f"#backlink-{backlink.pk}")
    row.get_by_role("button", name="Re-check review-site.example now").click()
    expect(row.get_by_role("status")).to_contain_text("Checking…")

    # Play the worker: record the result the verifier would.
    Backlink.objects.filter(pk=backlink.pk).update(
        state=BacklinkState.NOFOLLOW, last_verdict="nofollow", last_checked_at=timezone.now()
    )
    expect(row).to_contain_text("Nofollow", timeout=6_000)
    expect(row).not_to_contain_text("Checking…")
    expect(row.get_by_role("button", name="Re-check review-site.example now")).to_be_visible()


def test_recheck_gives_up_after_60_seconds_without_a_result(page, login, world):
    stale = BacklinkFactory(
        campaign=world["campaign"],
        source_url="https://stale-site.example/",
        check_requested_at=timezone.now() - timedelta(seconds=61),
    )
    login(world["member"])
    # Ten seconds before the timeout, made after the login: the page must show it
    # still checking however slowly a loaded machine renders it (three seconds of
    # margin were not always enough with the suite running in parallel).
    almost = BacklinkFactory(
        campaign=world["campaign"],
        source_url="https://slow-site.example/",
        check_requested_at=timezone.now() - timedelta(seconds=50),
    )
    page.goto("/campaigns/acme/backlinks/")
    message = "No result after 60 s — the check is still queued; reload later."
    expect(page.locator(f"#backlink-{stale.pk}")).to_contain_text(message)
    slow = page.locator(f"#backlink-{almost.pk}")
    expect(slow).to_contain_text("Checking…")
    expect(slow).to_contain_text(message, timeout=25_000)  # the poll stops with the message
    expect(slow).not_to_have_attribute("hx-trigger", re.compile("every"))


def test_backlink_history_and_alerts(page, login, world):
    backlink = BacklinkFactory(
        campaign=world["campaign"], source_url="https://gear-review.example/"
    )
    LinkCheckFactory(backlink=backlink, verdict="error", http_status=503, error="HTTP 503")
    AlertFactory(campaign=world["campaign"], backlink=backlink, message="Link lost on gear-review")
    login(world["member"])
    nav_count = page.locator("#nav-alert-count")
    expect(nav_count).to_contain_text("1")
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    page.get_by_role("button", name="Mark read").click()
    expect(page.locator("table.alerts")).to_contain_text("Read by mia")
    expect(nav_count).to_be_hidden()
    page.get_by_role("link", name="Open the backlink").click()
    expect(page.locator("#check-history")).to_contain_text("HTTP 503")


def test_member_cannot_open_another_campaigns_pages(page, login, world):
    login(world["member"])
    other_prospect = world["other"].prospects.get()
    for path in [
        "/campaigns/not-yours/prospects/",
        f"/campaigns/not-yours/prospects/{other_prospect.pk}/",
        f"/campaigns/acme/prospects/{other_prospect.pk}/",  # our slug, their prospect
        "/campaigns/not-yours/backlinks/",
    ]:
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto("/campaigns/acme/prospects/?q=secret")
    expect(page.locator("#prospect-table")).to_contain_text("No prospects match")


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("my-day", "/my-day/"),
        ("prospects", "/campaigns/acme/prospects/"),
        ("prospect", "/campaigns/acme/prospects/{broken}/"),
        ("backlinks", "/campaigns/acme/backlinks/"),
        ("backlink", "/campaigns/acme/backlinks/{backlink}/"),
        ("alerts", "/alerts/"),
    ],
)
def test_pages_fit_a_phone_screen(page, login, world, name, path):
    backlink = BacklinkFactory(
        campaign=world["campaign"],
        source_url="https://a-rather-long-domain-name-for-a-review-site.example/reviews/2026/trail-shoes/",
        state=BacklinkState.LIVE,
        noindex=True,
    )
    LinkCheckFactory(backlink=backlink, snippet="<p>" + "long text " * 40 + "</p>")
    AlertFactory(campaign=world["campaign"], backlink=backlink, message="Turned nofollow")
    login(world["member"])
    page.set_viewport_size(PHONE)
    page.goto(path.format(broken=world["broken"].pk, backlink=backlink.pk))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 390px"
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=f"{folder}/{name}-1280.png", full_page=True)
