"""The three prospecting flows in a real browser, from input to prospect created.

The broken-link scan and the mailbox poll are Celery jobs: a real worker
(tests/support/workers.py, gevent pool) runs them on the test database and
Redis; the pages only enqueue and poll. The links the scan checks, and the IMAP
server the poll reads, are servers this test starts on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from links.prospecting.models import BrokenLinkScan, ScanState
from outreach.journalist_queries.models import JournalistQuery, Mailbox
from outreach.models import Kind, Prospect
from tests.factories import CampaignFactory, TargetPageFactory, UserFactory
from tests.outreach.journalist_queries.samples import HARO_TEXT, qwoted_email
from tests.support.site import RequestHandler, TestSite
from tests.support.waiting import wait_until
from tests.support.workers import Worker, purge_queue

WORKER_ENV = {
    "VERIFIER_ALLOW_PRIVATE_NETWORKS": "1",
    "MAIL_ALLOW_PRIVATE_NETWORKS": "1",
    "BROKEN_LINKS_RETRY_SECONDS": "0",
    "BROKEN_LINKS_TIMEOUT_SECONDS": "2",
}


@pytest.fixture(autouse=True)
def _unhashed_static(settings):
    # The live server finds static files by their unhashed names: without this
    # the page asks for a hashed htmx, gets a 404, and never polls.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The test Dovecot is on 127.0.0.1, for the live server as for the worker.
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def worker(transactional_db, tmp_path) -> Iterator[Worker]:
    purge_queue()
    # The same SECRET_KEY as this process: the mailbox password is encrypted
    # with a key derived from it.
    env = {**WORKER_ENV, "SECRET_KEY": django_settings.SECRET_KEY}
    process = Worker("e2e-prospecting", env=env, concurrency=4, log_dir=tmp_path)
    process.wait_ready()
    yield process
    process.stop()
    purge_queue()


@pytest.fixture
def elsewhere() -> Iterator[TestSite]:
    server = TestSite(address="127.0.3.1")
    yield server
    server.close()


@pytest.fixture
def team(transactional_db):
    member = UserFactory(username="mia")
    campaign = CampaignFactory(name="Trail shoes", slug="trail", members=[member])
    TargetPageFactory(
        campaign=campaign,
        url="https://ours.example/trail-shoe-guide/",
        title="Trail shoe guide",
        keywords="trail shoes, trail running",
        priority=2,
    )
    TargetPageFactory(
        campaign=campaign, url="https://ours.example/socks/", title="Socks", keywords="socks"
    )
    return member, campaign


def test_broken_link_scan_to_prospect(page, login, settings, site, elsewhere, worker, team):
    member, campaign = team
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True  # the web process checks the form
    elsewhere.page("/alive", "<html>fine</html>")
    elsewhere.route("/old-guide", status=404)
    resource = site.page(
        "/resources",
        "<html><body><ul>"
        f"<li>Start with <a href='{elsewhere.url('/old-guide')}'>the trail shoe guide</a> "
        "by our coach. It covers grip.</li>"
        f"<li>Then <a href='{elsewhere.url('/alive')}'>a live page</a>.</li>"
        "</ul></body></html>",
    )

    login(member)
    page.goto(f"/campaigns/{campaign.slug}/")
    page.get_by_role("link", name="broken links").click()
    page.get_by_label("Resource page URLs, one per line").fill(resource)
    page.get_by_role("button", name="Find dead links").click()

    # The progress box polls until the worker is done, then the results load.
    expect(page.locator("#scan-progress")).to_contain_text("Done", timeout=30_000)
    row = page.locator("#dead-links tbody tr").first
    expect(row).to_contain_text("the trail shoe guide")
    expect(row).to_contain_text("answered 404")
    expect(row).to_contain_text("Start with the trail shoe guide by our coach.")
    expect(page.locator("#scan-counts")).to_contain_text("Links checked: 2 / 2")
    # The best replacement is suggested first.
    expect(row.get_by_label("Target page")).to_have_value(
        str(campaign.target_pages.get(title="Trail shoe guide").pk)
    )
    row.get_by_role("button", name="Make prospect").click()
    expect(row).to_contain_text("Prospect created, offering https://ours.example/trail-shoe-guide")

    prospect = Prospect.objects.get(campaign=campaign)
    assert prospect.kind == Kind.BROKEN_LINK
    assert prospect.url == resource
    assert prospect.dead_url == elsewhere.url("/old-guide")

    # Before the email: the link came back to life.
    elsewhere.page("/old-guide", "<html>restored</html>")
    row.get_by_role("button", name="Re-check the dead link").click()
    expect(row).to_contain_text("Not dead any more")


def test_a_scan_can_be_cancelled(page, login, settings, site, elsewhere, worker, team):
    member, campaign = team
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True

    def slow(request: RequestHandler) -> None:
        time.sleep(1.5)
        request.send_response(200)
        request.send_header("Content-Length", "0")
        request.end_headers()

    links = []
    for n in range(40):
        elsewhere.route(f"/slow{n}", handler=slow)
        links.append(f"<a href='{elsewhere.url(f'/slow{n}')}'>slow {n}</a>")
    resource = site.page("/many", f"<html><body>{''.join(links)}</body></html>")

    login(member)
    page.goto(f"/prospecting/{campaign.slug}/broken-links/")
    page.get_by_label("Resource page URLs, one per line").fill(resource)
    page.get_by_role("button", name="Find dead links").click()
    expect(page.locator("#scan-counts")).to_contain_text("Links checked: ", timeout=20_000)
    expect(page.locator("#scan-counts")).to_contain_text("/ 40", timeout=20_000)
    page.get_by_role("button", name="Cancel scan").click()
    expect(page.locator("#scan-progress")).to_contain_text("Cancelled", timeout=30_000)
    scan = BrokenLinkScan.objects.get()
    assert scan.state == ScanState.CANCELLED
    assert scan.links_checked < 40


def test_a_hostile_url_is_refused_in_the_form(page, login, team):
    member, campaign = team
    login(member)
    page.goto(f"/prospecting/{campaign.slug}/broken-links/")
    page.get_by_label("Resource page URLs, one per line").fill("http://169.254.169.254/latest/")
    page.get_by_role("button", name="Find dead links").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "169.254.169.254 is not a public internet address"
    )


AHREFS_A = (
    "Referring page URL,Domain rating,Target URL\n"
    "https://trailblog.example/best,62,https://rival-a.example/\n"
    "https://gearhub.example/list,48,https://rival-a.example/x\n"
    "https://onlya.example/p,30,https://rival-a.example/\n"
)
SEMRUSH_B = (
    "Page ascore,Source url,Target url\n"
    "55,https://trailblog.example/review,https://rival-b.example/\n"
    "40,https://gearhub.example/more,https://rival-b.example/\n"
)


def test_link_gap_upload_to_prospects(page, login, team, worker, tmp_path):
    _member, campaign = team
    manager = UserFactory(username="max", role="manager")
    (tmp_path / "rival-a.csv").write_text(AHREFS_A)
    (tmp_path / "rival-b.csv").write_text(SEMRUSH_B)

    login(manager)
    page.goto(f"/campaigns/{campaign.slug}/")
    page.get_by_role("link", name="competitor link gap").click()
    expect(
        page.get_by_text("Upload the backlink exports of two or more competitors")
    ).to_be_visible()
    for name in ("rival-a.csv", "rival-b.csv"):
        page.get_by_label("Backlink export (CSV or XLSX").set_input_files(tmp_path / name)
        page.get_by_role("button", name="Upload export").click()
        expect(page.get_by_role("status")).to_contain_text(f"Reading {name}")
        # The worker reads it; the exports table polls, then the page reloads.
        expect(page.locator("#gap-exports tbody tr").first).to_contain_text("Done", timeout=20_000)

    table = page.locator("#gap-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("trailblog.example")
    expect(table.locator("tbody tr").first).to_contain_text("62")
    # One row in one click...
    page.get_by_role("button", name="Make gearhub.example a prospect").click()
    expect(page.get_by_role("status")).to_contain_text("1 new prospect.")
    # ...or the ticked ones at once.
    page.get_by_label("Pick trailblog.example").check()
    page.get_by_label("Make the ticked sites prospects as").select_option("guest_post")
    page.get_by_role("button", name="Make the ticked sites prospects").click()
    expect(page.get_by_role("status")).to_contain_text("1 new prospect.")
    expect(table.locator("tbody tr").first).to_contain_text("prospect")
    assert set(Prospect.objects.values_list("domain", "kind", "domain_rating")) == {
        ("trailblog.example", "guest_post", 62),
        ("gearhub.example", "blogger", 48),
    }


def test_pasted_digest_to_haro_prospect(page, login, team):
    member, campaign = team
    login(member)
    page.get_by_role("link", name="Queries").click()
    expect(page.get_by_text("No journalist queries yet")).to_be_visible()
    page.get_by_role("link", name="Paste a digest", exact=True).click()
    page.get_by_label("Digest text").fill(HARO_TEXT)
    page.get_by_role("button", name="Add queries").click()
    expect(page.get_by_role("status")).to_contain_text("3 new queries.")

    page.get_by_label("For campaign").select_option(campaign.slug)
    page.get_by_label("Only queries matching the campaign's keywords").check()
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#queries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Trail running shoes for beginners")
    expect(rows.first).to_contain_text("matches trail running")
    rows.first.get_by_role("button", name="Make prospect").click()
    expect(rows.first).to_contain_text("Prospect of Trail shoes")

    prospect = Prospect.objects.get(campaign=campaign)
    assert (prospect.kind, prospect.outlet) == (Kind.HARO, "Runner's Weekly")
    assert prospect.deadline is not None


def test_mailbox_poll_to_haro_prospect(page, login, team, worker, imap_mailbox):
    _member, campaign = team
    admin = UserFactory(username="ada", role="admin")
    # Deadlines next year: the inbox hides queries whose deadline has passed.
    imap_mailbox.deliver(qwoted_email(deadline_year=timezone.now().year + 1))

    login(admin)
    # The admin sets up the mailbox; the password is stored encrypted.
    page.goto("/admin/inbox/mailbox/add/")
    page.locator("#id_name").fill("Press digests")
    page.locator("#id_host").fill(imap_mailbox.host)
    page.locator("#id_port").fill(str(imap_mailbox.port))
    page.locator("#id_security").select_option("none")
    page.locator("#id_username").fill(imap_mailbox.user)
    page.locator("#id_password").fill(imap_mailbox.password)
    page.get_by_role("button", name="Save", exact=True).click()
    mailbox = Mailbox.objects.get()
    assert imap_mailbox.password not in mailbox.password_encrypted

    page.goto(f"/inbox/?campaign={campaign.slug}")
    # The button posts and redirects back; reloading while that navigation is
    # in flight detaches the page, so wait for the worker in the database and
    # open the inbox once it has read the mailbox.
    with page.expect_navigation():
        page.get_by_role("button", name="Read mailboxes now").click()
    wait_until(
        lambda: JournalistQuery.objects.count() == 2,
        15,
        "the worker to store the mailbox's two queries",
        interval=0.2,
    )
    page.goto(f"/inbox/?campaign={campaign.slug}")
    rows = page.locator("#queries tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Looking for running coaches on marathon taper mistakes")
    rows.first.get_by_role("button", name="Make prospect").click()
    expect(rows.first).to_contain_text("Prospect of Trail shoes")
    prospect = Prospect.objects.get(campaign=campaign)
    assert prospect.url == "https://app.qwoted.com/opportunities/98765"
    assert prospect.deadline is not None
