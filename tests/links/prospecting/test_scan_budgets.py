"""Budgets of the broken-link finder: scans at once per member and per campaign
(refused with a sentence, nothing queued), links per page and per scan (the
scan stops at the cap and says so)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from links.prospecting import services
from links.prospecting.models import BrokenLinkScan, ScanState
from links.verification.fetch import FetchConfig, Fetcher
from links.verification.outbound import extract_outbound
from links.verification.parse import parse_html
from tests.factories import BrokenLinkScanFactory, CampaignFactory, UserFactory
from tests.support.site import TestSite

# Transactions commit, so each started scan really lands on the broker.
pytestmark = pytest.mark.django_db(transaction=True)

TASK = "links.prospecting.tasks.run_broken_link_scan"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.BROKEN_LINKS_TIMEOUT_SECONDS = 1
    settings.BROKEN_LINKS_RETRY_SECONDS = 0


def queued_scans(client: redis.Redis) -> list[str]:
    """Task ids of the scans waiting on the broker's default queue."""
    return [
        message["headers"]["id"]
        for message in map(json.loads, client.lrange("celery", 0, -1))
        if message["headers"]["task"] == TASK
    ]


def start(client, campaign, n: int):
    return client.post(
        reverse("prospecting:scan_list", args=[campaign.slug]),
        {"urls": f"https://resources{n}.example/links"},
    )


# --- scans at once -----------------------------------------------------------------


def test_a_member_runs_so_many_scans_at_once(signed_in, campaign, member, queue, settings):
    settings.BROKEN_LINKS_SCANS_PER_USER = 2
    settings.BROKEN_LINKS_SCANS_PER_CAMPAIGN = 10
    assert start(signed_in, campaign, 1).status_code == 302
    assert start(signed_in, campaign, 2).status_code == 302
    response = start(signed_in, campaign, 3)
    assert response.status_code == 429
    assert "You already have 2 broken-link scans queued or running" in response.content.decode()
    # Another campaign of the same member counts too: the budget is the member's.
    other = CampaignFactory(members=[member])
    assert start(signed_in, other, 4).status_code == 429

    scans = BrokenLinkScan.objects.all()
    assert scans.count() == 2
    assert sorted(queued_scans(queue)) == sorted(scan.task_id for scan in scans)


def test_a_campaign_runs_so_many_scans_at_once(client, campaign, queue, settings):
    settings.BROKEN_LINKS_SCANS_PER_USER = 5
    settings.BROKEN_LINKS_SCANS_PER_CAMPAIGN = 2
    members = UserFactory.create_batch(3)
    campaign.members.add(*members)
    for n, user in enumerate(members[:2]):
        client.force_login(user)
        assert start(client, campaign, n).status_code == 302
    client.force_login(members[2])
    response = start(client, campaign, 9)
    assert response.status_code == 429
    assert "This campaign already has 2 broken-link scans queued or running" in (
        response.content.decode()
    )
    assert BrokenLinkScan.objects.filter(campaign=campaign).count() == 2
    assert len(queued_scans(queue)) == 2


def test_finished_cancelled_and_stalled_scans_free_their_slot(
    signed_in, campaign, member, queue, settings
):
    settings.BROKEN_LINKS_SCANS_PER_USER = 1
    long_ago = timezone.now() - timedelta(hours=1)
    BrokenLinkScanFactory(campaign=campaign, created_by=member, state=ScanState.DONE)
    BrokenLinkScanFactory(
        campaign=campaign,
        created_by=member,
        state=ScanState.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )  # its worker died
    assert start(signed_in, campaign, 1).status_code == 302
    assert start(signed_in, campaign, 2).status_code == 429
    services.request_cancel(BrokenLinkScan.objects.get(state=ScanState.QUEUED))
    assert start(signed_in, campaign, 3).status_code == 302
    assert len(queued_scans(queue)) == 2


# --- links per page and per scan -----------------------------------------------------


def no_such_host(host: str, port: int) -> list[str]:
    raise OSError(f"Name or service not known: {host}")


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    # Every linked name fails to resolve at once: the links are judged dead
    # without a packet leaving the machine. Room for the whole hostile page.
    instance = Fetcher(
        FetchConfig(
            timeout=10.0,
            max_bytes=16 * 1024 * 1024,
            allow_private_networks=True,
            resolver=no_such_host,
        )
    )
    yield instance
    instance.close()


def links_page(site: TestSite, path: str, count: int, *, prefix: str = "l") -> str:
    anchors = "".join(f'<a href="http://{prefix}{n}.example/">{n}</a>\n' for n in range(count))
    return site.page(path, f"<html><body><p>Resources:</p>\n{anchors}</body></html>")


def test_a_page_with_200000_links_stops_at_the_cap_and_says_so(
    site, fetcher, campaign, member, settings, signed_in
):
    settings.BROKEN_LINKS_MAX_LINKS_PER_PAGE = 1000
    settings.BROKEN_LINKS_MAX_LINKS_PER_SCAN = 5000
    url = links_page(site, "/huge", 200_000)
    scan = services.start_scan(campaign, by=member, urls=[url])
    finished = services.run_scan(scan.pk, fetcher=fetcher)

    assert finished.state == ScanState.DONE
    page = finished.pages.get()
    assert (page.links_found, page.links_capped) == (1000, True)
    assert (finished.links_total, finished.links_checked) == (1000, 1000)
    assert finished.dead_count == 1000
    assert "1 page has more than 1,000 outbound links" in finished.cap_notice
    assert "only the first 1,000 of a page are checked" in finished.cap_notice

    text = signed_in.get(
        reverse("prospecting:scan_detail", args=[campaign.slug, scan.pk])
    ).content.decode()
    assert finished.cap_notice in text
    assert "(the first; the page has more)" in text


def test_a_scan_stops_at_its_cap_of_links(site, fetcher, campaign, member, settings):
    settings.BROKEN_LINKS_MAX_LINKS_PER_PAGE = 100
    settings.BROKEN_LINKS_MAX_LINKS_PER_SCAN = 150
    first = links_page(site, "/a", 100, prefix="a")
    second = links_page(site, "/b", 100, prefix="b")
    third = links_page(site, "/c", 100, prefix="c")
    scan = services.start_scan(campaign, by=member, urls=[first, second, third])
    finished = services.run_scan(scan.pk, fetcher=fetcher)

    assert (finished.links_total, finished.links_checked) == (150, 150)
    assert finished.dead_links.count() == 150
    assert "The scan stopped at 150 links, the most one scan checks" in finished.cap_notice
    pages = list(finished.pages.order_by("position"))
    assert [p.links_capped for p in pages] == [False, False, False]
    assert site.hits_for("/c") == 0  # not fetched: the scan was already full
    assert "Not read: the scan already has 150 links" in pages[2].error


def test_a_page_at_the_cap_exactly_is_not_capped(site, fetcher, campaign, member, settings):
    settings.BROKEN_LINKS_MAX_LINKS_PER_PAGE = 50
    url = links_page(site, "/fifty", 50)
    scan = services.start_scan(campaign, by=member, urls=[url])
    finished = services.run_scan(scan.pk, fetcher=fetcher)
    assert finished.pages.get().links_capped is False
    assert finished.cap_notice == ""
    assert finished.links_total == 50


def test_the_first_links_of_a_huge_block_cost_milliseconds_each():
    # 200,000 links in one <body>: each kept link's sentence used to read and
    # split the whole body again (minutes for a thousand links).
    anchors = "".join(f'<a href="http://l{n}.example/">{n}</a>\n' for n in range(200_000))
    page = parse_html(f"<html><body>{anchors}</body></html>".encode(), "utf-8")
    # CPU time: the bound is on the work, not on what else shares the cores.
    started = time.process_time()
    links = extract_outbound(page, "http://127.0.0.1/huge", max_links=1000)
    assert len(links) == 1000
    assert time.process_time() - started < 3.0
