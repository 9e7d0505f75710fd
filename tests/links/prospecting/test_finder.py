"""The broken-link finder's services, run directly (the Celery task is a thin
wrapper) against real servers on loopback and the real PostgreSQL and Redis."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from links.prospecting import services
from links.prospecting.models import BrokenLinkScan, DeadLink, DeadLinkVerdict, ScanState
from links.verification.fetch import FetchConfig, Fetcher
from outreach.models import Kind, Prospect, StatusChange
from tests.factories import ProspectFactory, TargetPageFactory
from tests.support.site import RequestHandler, TestSite

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.BROKEN_LINKS_TIMEOUT_SECONDS = 1
    settings.BROKEN_LINKS_RETRY_SECONDS = 0


@pytest.fixture
def elsewhere() -> Iterator[TestSite]:
    server = TestSite(address="127.0.3.1")
    yield server
    server.close()


def resolver(host: str, port: int) -> list[str]:
    raise OSError(f"Name or service not known: {host}")


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    instance = Fetcher(FetchConfig(timeout=1.0, allow_private_networks=True, resolver=resolver))
    yield instance
    instance.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flaky_once():
    """A 503 the first time, then fine: passing trouble, not a dead link."""
    calls = {"n": 0}

    def handler(request: RequestHandler) -> None:
        calls["n"] += 1
        request.send_response(503 if calls["n"] <= 2 else 200)  # HEAD + GET fail once
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def slow(request: RequestHandler) -> None:
    time.sleep(2)
    request.send_response(200)
    request.send_header("Content-Length", "0")
    request.end_headers()


def resource_page(site: TestSite, elsewhere: TestSite) -> str:
    elsewhere.page("/live", "<html>ok</html>")
    elsewhere.route("/dead", status=404)
    elsewhere.route("/removed", status=410)
    elsewhere.route("/broken", status=500)
    elsewhere.route("/flaky", handler=flaky_once())
    elsewhere.route("/slow", handler=slow)
    refused = f"http://127.0.3.2:{closed_port()}/tool"
    links = [
        ("live", "A live page"),
        ("dead", "Trail shoe guide"),
        ("removed", "Marathon training plan"),
        ("broken", "Broken server"),
        ("flaky", "Flaky server"),
        ("slow", "Slow server"),
    ]
    items = "".join(
        f'<li>Read the <a href="{elsewhere.url("/" + path)}">{text}</a> today.</li>'
        for path, text in links
    )
    items += f'<li>Try the <a href="{refused}">pace tool</a>.</li>'
    items += '<li>Old: <a href="http://expired-domain.test/x">expired resource</a>.</li>'
    items += '<li>Ours: <a href="/about">about</a></li>'
    return site.page("/resources", f"<html><body><ul>{items}</ul></body></html>")


def test_a_scan_lists_dead_and_maybe_dead_links_with_their_words(
    site, elsewhere, fetcher, campaign, member
):
    url = resource_page(site, elsewhere)
    scan = services.start_scan(campaign, by=member, urls=[url])
    finished = services.run_scan(scan.pk, fetcher=fetcher)

    assert finished.state == ScanState.DONE
    assert (finished.pages_done, finished.links_total, finished.links_checked) == (1, 8, 8)
    dead = {d.anchor_text: d for d in DeadLink.objects.filter(scan=scan)}
    assert {k for k, d in dead.items() if d.verdict == DeadLinkVerdict.DEAD} == {
        "Trail shoe guide",
        "Marathon training plan",
        "pace tool",
        "expired resource",
    }
    # 5xx and timeouts are listed apart, and only if they fail a second time.
    assert {k for k, d in dead.items() if d.verdict == DeadLinkVerdict.MAYBE_DEAD} == {
        "Broken server",
        "Slow server",
    }
    assert dead["Trail shoe guide"].context == "Read the Trail shoe guide today."
    assert dead["Trail shoe guide"].http_status == 404
    assert dead["expired resource"].reason.startswith("no such host")
    assert dead["pace tool"].reason == "connection refused"
    assert (finished.dead_count, finished.maybe_count) == (4, 2)
    assert elsewhere.hits_for("/flaky") == 3  # HEAD, GET, then HEAD on the retry


def test_running_a_scan_twice_does_the_work_once(site, elsewhere, fetcher, campaign, member):
    url = resource_page(site, elsewhere)
    scan = services.start_scan(campaign, by=member, urls=[url])
    services.run_scan(scan.pk, fetcher=fetcher)
    hits = site.hit_count + elsewhere.hit_count
    assert services.run_scan(scan.pk, fetcher=fetcher) is None
    assert site.hit_count + elsewhere.hit_count == hits
    assert DeadLink.objects.filter(scan=scan).count() == 6


def test_a_refused_resource_page_is_reported_not_fetched(settings, site, campaign, member):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = False
    site.page("/resources", "<html></html>")
    scan = BrokenLinkScan.objects.create(campaign=campaign, pages_total=1)
    scan.pages.create(url=site.url("/resources"))
    services.run_scan(scan.pk, fetcher=Fetcher(FetchConfig(timeout=1.0)))
    page = scan.pages.get()
    assert page.error.startswith("Refused: 127.0.0.1 is 127.0.0.1 (loopback)")
    assert site.hit_count == 0


def test_a_page_disallowed_by_robots_txt_is_not_fetched(site, fetcher, campaign, member):
    site.route(
        "/robots.txt", "User-agent: *\nDisallow: /\n", headers=[("Content-Type", "text/plain")]
    )
    url = site.page("/resources", "<html></html>")
    scan = services.start_scan(campaign, by=member, urls=[url])
    services.run_scan(scan.pk, fetcher=fetcher)
    assert "disallows crawling" in scan.pages.get().error
    assert site.hits_for("/resources") == 0


def test_a_cancelled_queued_scan_never_runs(site, elsewhere, fetcher, campaign, member):
    url = resource_page(site, elsewhere)
    scan = services.start_scan(campaign, by=member, urls=[url])
    services.request_cancel(scan)
    assert scan.state == ScanState.CANCELLED
    assert services.run_scan(scan.pk, fetcher=fetcher) is None
    assert site.hit_count == 0


@pytest.mark.django_db(transaction=True)
def test_a_running_scan_stops_when_cancelled(site, elsewhere, fetcher, campaign, member):
    def cancel_then_slow(request: RequestHandler) -> None:
        # Another connection, as the cancel button's request would be.
        BrokenLinkScan.objects.filter(pk=scan.pk).update(cancel_requested=True)
        connection.close()
        slow(request)

    for n in range(40):
        elsewhere.route(f"/s{n}", handler=cancel_then_slow)
    links = "".join(f'<a href="{elsewhere.url(f"/s{n}")}">{n}</a>' for n in range(40))
    url = site.page("/resources", f"<html><body>{links}</body></html>")
    scan = services.start_scan(campaign, by=member, urls=[url])
    started = time.monotonic()
    finished = services.run_scan(scan.pk, fetcher=fetcher)
    assert finished.state == ScanState.CANCELLED
    assert time.monotonic() - started < 8
    assert elsewhere.hit_count < 40


def test_read_page_urls_explains_each_refusal(settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = False
    read = services.read_page_urls(
        "blog.example/resources\n\nhttp://127.0.0.1/admin\nftp://x.example/\n"
        "https://blog.example/resources/\n"
    )
    assert read.urls == ["https://blog.example/resources"]
    assert read.errors == [
        "http://127.0.0.1/admin: 127.0.0.1 is not a public internet address, which the checker "
        "may not reach",
        "ftp://x.example/: only http:// and https:// pages can be checked, not ftp:",
    ]


def test_start_scan_needs_a_page(campaign, member):
    with pytest.raises(ValidationError):
        services.start_scan(campaign, by=member, urls=[])


def test_picked_prospects_are_scanned(campaign, member):
    prospect = ProspectFactory(campaign=campaign, kind=Kind.BROKEN_LINK)
    scan = services.start_scan(
        campaign, by=member, urls=["https://other.example/links"], prospects=[prospect]
    )
    assert [(p.url, p.prospect_id) for p in scan.pages.all()] == [
        (prospect.url, prospect.pk),
        ("https://other.example/links", None),
    ]


# -- dead link to prospect ----------------------------------------------------------------------


def dead_link(campaign, page_url="https://resources.example/list"):
    scan = BrokenLinkScan.objects.create(campaign=campaign, state=ScanState.DONE)
    page = scan.pages.create(url=page_url, final_url=page_url)
    return DeadLink.objects.create(
        scan=scan,
        page=page,
        url="https://old-blog.example/trail-shoe-guide",
        anchor_text="trail shoe guide",
        context="Read this trail shoe guide first.",
        verdict=DeadLinkVerdict.DEAD,
        reason="answered 404",
        http_status=404,
    )


def test_one_click_makes_a_broken_link_prospect(campaign, member):
    target = TargetPageFactory(campaign=campaign, keywords="trail shoes")
    link = dead_link(campaign)
    prospect = services.make_prospect(link, target=target, by=member)
    assert prospect.kind == Kind.BROKEN_LINK
    assert prospect.url == "https://resources.example/list"
    assert prospect.dead_url == "https://old-blog.example/trail-shoe-guide"
    assert prospect.offered_target == target
    assert "trail shoe guide" in prospect.notes
    assert StatusChange.objects.filter(prospect=prospect, changed_by=member).count() == 1
    link.refresh_from_db()
    assert link.prospect == prospect
    # A double click gives the same prospect, not an error or a second one.
    assert services.make_prospect(link, target=target, by=member) == prospect
    assert Prospect.objects.count() == 1


def test_a_picked_prospect_gets_the_dead_link_filled_in(campaign, member):
    picked = ProspectFactory(
        campaign=campaign, kind=Kind.BROKEN_LINK, url="https://resources.example/list"
    )
    prospect = services.make_prospect(dead_link(campaign), target=None, by=member)
    assert prospect.pk == picked.pk
    picked.refresh_from_db()
    assert picked.dead_url == "https://old-blog.example/trail-shoe-guide"


def test_a_page_that_is_another_kind_of_prospect_is_refused(campaign, member):
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, url="https://resources.example/list")
    with pytest.raises(ValidationError, match="already a prospect"):
        services.make_prospect(dead_link(campaign), target=None, by=member)


def test_a_target_page_of_another_campaign_is_refused(campaign, other_campaign, member):
    with pytest.raises(ValidationError, match="another campaign"):
        services.make_prospect(
            dead_link(campaign), target=TargetPageFactory(campaign=other_campaign), by=member
        )


# -- re-check before the email ------------------------------------------------------------------


def recheck(prospect, member, *, at=None):
    """Ask for a re-check and run its task's body, as a worker would."""
    asked = services.request_dead_link_check(prospect, by=member, now=at)
    return services.run_dead_link_check(asked.pk)


def test_recheck_finds_a_fixed_link(elsewhere, campaign, member, settings, fresh_budgets):
    settings.RECHECK_LINK_INTERVAL_SECONDS = 60
    url = elsewhere.route("/guide", status=404)
    prospect = ProspectFactory(campaign=campaign, kind=Kind.BROKEN_LINK, dead_url=url)
    assert recheck(prospect, member, at=timezone.now() - timedelta(minutes=5)).still_dead
    elsewhere.page("/guide", "<html>back again</html>")
    check = recheck(prospect, member)
    assert not check.still_dead
    assert check.outcome == "ok"
    assert check.checked_by == member
    assert prospect.dead_checks.count() == 2


def test_a_check_is_answered_once(elsewhere, campaign, member, fresh_budgets):
    url = elsewhere.route("/guide", status=404)
    prospect = ProspectFactory(campaign=campaign, kind=Kind.BROKEN_LINK, dead_url=url)
    check = recheck(prospect, member)
    hits = elsewhere.hit_count
    assert services.run_dead_link_check(check.pk) is None  # a redelivered task
    assert elsewhere.hit_count == hits


def test_recheck_needs_a_dead_link(campaign, member):
    with pytest.raises(ValidationError):
        services.request_dead_link_check(ProspectFactory(campaign=campaign), by=member)


def test_a_scan_whose_worker_died_can_be_cleared(campaign, member):
    scan = services.start_scan(campaign, by=member, urls=["https://resources.example/"])
    long_ago = timezone.now() - timedelta(minutes=10)
    BrokenLinkScan.objects.filter(pk=scan.pk).update(
        state=ScanState.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    scan.refresh_from_db()
    assert scan.stalled
    services.request_cancel(scan)
    assert scan.state == ScanState.CANCELLED
    assert "stopped making progress" in scan.error


def test_a_running_scan_with_a_heartbeat_is_only_asked_to_stop(campaign, member):
    scan = services.start_scan(campaign, by=member, urls=["https://resources.example/"])
    BrokenLinkScan.objects.filter(pk=scan.pk).update(
        state=ScanState.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    scan.refresh_from_db()
    services.request_cancel(scan)
    assert (scan.state, scan.cancel_requested) == (ScanState.RUNNING, True)
