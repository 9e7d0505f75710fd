""" "Re-check the dead link": the web request only queues a check on the real
Redis broker; the task (called directly, as a worker would) does the fetch; the
fragment polls until the answer is in. Budgets refuse with a sentence and queue
nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from django.urls import reverse

from links.prospecting import tasks
from links.prospecting.models import DeadLinkCheck
from outreach.models import Kind
from tests.factories import ProspectFactory
from tests.support.site import RequestHandler, SocketLog, TestSite, _events, _events_lock

# The task closes its database connection, as it must under gevent.
pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}
TASK = "links.prospecting.tasks.check_dead_link"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings, fresh_budgets):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.BROKEN_LINKS_TIMEOUT_SECONDS = 5


def queued_checks(client: redis.Redis) -> list[int]:
    """Ids of the dead-link checks waiting on the broker's default queue."""
    ids = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == TASK:
            ids.append(int(message["headers"]["argsrepr"].strip("(),")))
    return ids


@pytest.fixture
def slow_site() -> Iterator[TestSite]:
    """A server on loopback that answers 404 after a pause, like a slow host (short:
    the tests prove the web request never reaches it, not how long it waits)."""
    server = TestSite(address="127.0.3.2")

    def slow_404(handler: RequestHandler) -> None:
        time.sleep(0.3)
        handler.send_response(404)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.route("/gone", handler=slow_404)
    yield server
    server.close()


def broken(campaign, url: str):
    return ProspectFactory(campaign=campaign, kind=Kind.BROKEN_LINK, dead_url=url)


def recheck_url(prospect) -> str:
    return reverse("prospecting:recheck_dead_link", args=[prospect.campaign.slug, prospect.pk])


def poll_url(check: DeadLinkCheck) -> str:
    prospect = check.prospect
    return reverse(
        "prospecting:dead_link_check", args=[prospect.campaign.slug, prospect.pk, check.pk]
    )


def test_the_request_queues_the_check_and_the_worker_fetches(signed_in, campaign, slow_site, queue):
    prospect = broken(campaign, slow_site.url("/gone"))
    with _events_lock:
        during = SocketLog(start=len(_events))
    response = signed_in.post(recheck_url(prospect), headers=HTMX)
    # No network in the web request: the slow server saw nothing, and no socket
    # of this process connected to its address (Redis and PostgreSQL only).
    assert slow_site.hit_count == 0
    assert not during.connected_to("127.0.3.2")
    assert "127.0.3.2" not in during.lookups
    check = DeadLinkCheck.objects.get(prospect=prospect)
    assert check.checked_at is None
    assert queued_checks(queue) == [check.pk]
    text = response.content.decode()
    assert f'hx-get="{poll_url(check)}" hx-trigger="every 2s"' in text
    assert "Checking the dead link" in text

    # Polled while the task has not run: still polling.
    response = signed_in.get(poll_url(check), headers=HTMX)
    assert response.status_code == 200
    assert b'hx-trigger="every 2s"' in response.content

    tasks.check_dead_link(check.pk)  # what the worker runs
    assert slow_site.hits_for("/gone") >= 1
    check.refresh_from_db()
    assert (check.outcome, check.http_status) == ("dead", 404)

    response = signed_in.get(poll_url(check), headers=HTMX)
    assert response.status_code == 286  # htmx stops polling on this answer
    text = response.content.decode()
    assert "Still dead" in text
    assert "hx-trigger" not in text
    assert "Re-check the dead link" in text


def test_without_htmx_the_post_queues_and_redirects(signed_in, campaign, slow_site, queue):
    prospect = broken(campaign, slow_site.url("/gone"))
    back = reverse("outreach:prospect_detail", args=[campaign.slug, prospect.pk])
    response = signed_in.post(recheck_url(prospect), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    assert slow_site.hit_count == 0
    assert len(queued_checks(queue)) == 1


def test_a_second_click_while_waiting_queues_nothing(signed_in, campaign, slow_site, queue):
    prospect = broken(campaign, slow_site.url("/gone"))
    signed_in.post(recheck_url(prospect), headers=HTMX)
    response = signed_in.post(recheck_url(prospect), headers=HTMX)
    assert response.status_code == 200
    assert b"Checking the dead link" in response.content
    assert DeadLinkCheck.objects.filter(prospect=prospect).count() == 1
    assert len(queued_checks(queue)) == 1


def test_one_link_is_rechecked_at_most_once_per_interval(
    signed_in, campaign, slow_site, queue, settings
):
    settings.RECHECK_LINK_INTERVAL_SECONDS = 300
    prospect = broken(campaign, slow_site.url("/gone"))
    signed_in.post(recheck_url(prospect), headers=HTMX)
    tasks.check_dead_link(DeadLinkCheck.objects.get().pk)

    response = signed_in.post(recheck_url(prospect), headers=HTMX)
    assert response.status_code == 200  # htmx swaps only 2xx: the notice must show
    text = response.content.decode()
    assert "one link can be re-checked once every 5 minutes" in text
    assert "Still dead" in text  # the last answer stays in view

    response = signed_in.post(recheck_url(prospect))
    assert response.status_code == 429
    assert "one link can be re-checked once every 5 minutes" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 300

    assert DeadLinkCheck.objects.filter(prospect=prospect).count() == 1
    assert len(queued_checks(queue)) == 1


def test_a_member_has_so_many_rechecks_an_hour(signed_in, campaign, slow_site, queue, settings):
    settings.RECHECK_PER_USER_PER_HOUR = 3
    prospects = [broken(campaign, slow_site.url(f"/gone{n}")) for n in range(4)]
    for prospect in prospects[:3]:
        assert signed_in.post(recheck_url(prospect), headers=HTMX).status_code == 200
    response = signed_in.post(recheck_url(prospects[3]), headers=HTMX)
    assert "You have asked for 3 re-checks in the last hour" in response.content.decode()
    response = signed_in.post(recheck_url(prospects[3]))
    assert response.status_code == 429
    assert "You have asked for 3 re-checks in the last hour" in response.content.decode()

    assert not DeadLinkCheck.objects.filter(prospect=prospects[3]).exists()
    assert DeadLinkCheck.objects.count() == 3
    assert len(queued_checks(queue)) == 3
    assert slow_site.hit_count == 0
