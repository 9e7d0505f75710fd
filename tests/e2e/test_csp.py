"""Content-Security-Policy: every main page loads in Chromium, htmx fragments and
charts included, without one violation of the policy (the ``page`` fixture of
conftest.py fails any browser test whose pages report one)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign, User
from links.models import Backlink
from outreach.email.models import Sequence
from outreach.models import Kind, Prospect
from tests.factories import (
    PASSWORD,
    AlertFactory,
    BacklinkExportFactory,
    DeadLinkFactory,
    EmailTemplateFactory,
    ImportJobFactory,
    JournalistQueryFactory,
    LinkCheckFactory,
    MailboxFactory,
    ScanPageFactory,
)


@pytest.fixture
def world(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = User.objects.get(username="admin")
    admin.set_password(PASSWORD)
    admin.save()
    campaign = Campaign.objects.get(slug="demo")
    backlink = Backlink.objects.filter(campaign=campaign).first()
    LinkCheckFactory(backlink=backlink)
    AlertFactory(campaign=campaign, backlink=backlink)
    prospect = Prospect.objects.filter(campaign=campaign, kind=Kind.BLOGGER).first()
    template = EmailTemplateFactory(campaign=campaign)
    mailbox = MailboxFactory(email="mia@agency.example")
    Sequence.objects.create(
        campaign=campaign,
        prospect=prospect,
        template=template,
        mailbox=mailbox,
        domain=prospect.domain,
        to_email=prospect.contact_email or "jo@blog.example",
    )
    scan = ScanPageFactory(scan__campaign=campaign).scan
    DeadLinkFactory(page__scan=scan)
    BacklinkExportFactory(campaign=campaign)
    JournalistQueryFactory()
    job = ImportJobFactory(campaign=campaign, state="done", rejected_count=1)
    job.rejected_file.save("rejected.csv", ContentFile(b"URL,Reason\r\nx,bad\r\n"))
    return {
        "admin": admin,
        "slug": campaign.slug,
        "prospect": prospect,
        "backlink": backlink,
        "template": template,
        "mailbox": mailbox,
        "scan": scan,
        "job": job,
    }


def main_pages(world) -> list[str]:
    slug = world["slug"]
    return [
        reverse("links:my_day"),
        reverse("campaigns:list"),
        reverse("campaigns:detail", args=[slug]),
        reverse("campaigns:dashboard", args=[slug]),
        reverse("dashboard:all"),
        reverse("outreach:prospect_list", args=[slug]),
        reverse("outreach:prospect_detail", args=[slug, world["prospect"].pk]),
        reverse("links:backlink_list", args=[slug]),
        reverse("links:backlink_detail", args=[slug, world["backlink"].pk]),
        reverse("links:alert_list"),
        reverse("imports:history"),
        reverse("imports:new"),
        reverse("imports:detail", args=[world["job"].pk]),
        reverse("prospecting:scan_list", args=[slug]),
        reverse("prospecting:scan_detail", args=[slug, world["scan"].pk]),
        reverse("prospecting:link_gap", args=[slug]),
        reverse("inbox:queries"),
        reverse("inbox:paste"),
        reverse("outreach:email_templates", args=[slug]),
        reverse("outreach:email_template_create", args=[slug]),
        reverse("outreach:email_template_edit", args=[slug, world["template"].pk]),
        reverse("outreach:outreach_stats", args=[slug]),
        reverse("outreach:mailbox_list"),
        reverse("outreach:mailbox_create"),
        reverse("outreach:mailbox_edit", args=[world["mailbox"].pk]),
        reverse("outreach:do_not_contact"),
        reverse("password_change"),
    ]


# Counts htmx requests in flight, so the test waits for a page's fragments (and
# the fragments those load) rather than for half a second without any traffic
# ("networkidle"), which every one of the pages below would pay.
HTMX_IN_FLIGHT = """
window.__htmxInFlight = 0;
document.addEventListener("htmx:beforeRequest", () => { window.__htmxInFlight += 1; });
document.addEventListener("htmx:afterRequest", () => { window.__htmxInFlight -= 1; });
"""
# A fragment's own "load" requests start while it is swapped in, before the
# request that brought it ends: the count never touches 0 between the two.
HTMX_SETTLED = """() => document.readyState === "complete"
    && window.__htmxInFlight === 0
    && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")"""


def test_every_main_page_keeps_its_content_security_policy(page, login, world, csp_violations):
    page.add_init_script(HTMX_IN_FLIGHT)
    response = page.goto(reverse("login"))
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    page.goto(reverse("password_reset"))
    login(world["admin"])
    for path in main_pages(world):
        response = page.goto(path)
        assert response.status == 200, path
        # htmx fragments (charts, tables) load after the page: wait for them.
        page.wait_for_function(HTMX_SETTLED)
        page.evaluate("1")
        assert csp_violations == [], path


def test_dashboard_charts_are_sized_without_an_inline_style(page, login, world):
    login(world["admin"])
    page.goto(reverse("campaigns:dashboard", args=[world["slug"]]))
    # A horizontal bar chart: its height grows with its labels, so it differs
    # from the stylesheet's default and shows the script applied it.
    located = page.locator('.chart-box:not([data-height="280"])').first
    expect(located.locator("canvas")).to_be_visible()
    # One element from here on: the panels arrive in any order, so ".first"
    # may name another, not yet drawn, one a moment later.
    box = located.element_handle()
    expected = int(box.get_attribute("data-height"))
    assert expected != 280
    # The panel is swapped in before htmx's load event draws it: wait for the
    # script (it fails here, by timeout, if the height never comes).
    page.wait_for_function(
        "box => Math.abs(box.getBoundingClientRect().height - Number(box.dataset.height)) <= 1",
        arg=box,
        timeout=10_000,
    )
    assert abs(box.bounding_box()["height"] - expected) <= 1


def test_a_violation_is_caught(page, login, world, csp_violations):
    login(world["admin"])
    page.goto(reverse("links:my_day"))
    # An inline style attribute, as a template with style="..." would have.
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">inline</p>')"
    )
    page.wait_for_function("() => true")
    page.evaluate("1")
    assert [v["directive"] for v in csp_violations] == ["style-src-attr"]
    csp_violations.clear()
