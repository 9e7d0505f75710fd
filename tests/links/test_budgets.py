"""Budgets of "re-check now": per member and per backlink, on the real Redis
(and in-process without it). A refused request says why and queues nothing."""

from __future__ import annotations

import time

import pytest
import redis
from django.urls import reverse

from links import budgets
from links.models import Backlink
from tests.factories import BacklinkFactory

pytestmark = pytest.mark.django_db(transaction=True)

TASK = b"links.tasks.check_backlinks"


@pytest.fixture(autouse=True)
def _budgets(fresh_budgets):
    pass


def queued_checks(client: redis.Redis) -> int:
    return sum(TASK in raw for raw in client.lrange("celery", 0, -1))


def recheck_url(backlink: Backlink) -> str:
    return reverse("links:backlink_recheck", args=[backlink.campaign.slug, backlink.pk])


def row(backlink: Backlink) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": f"backlink-{backlink.pk}"}


# --- the counter ------------------------------------------------------------------


def test_spend_counts_in_redis_and_says_when_there_is_room():
    assert budgets.spend("test:a", limit=2, window=60) is None
    assert budgets.spend("test:a", limit=2, window=60) is None
    refused = budgets.spend("test:a", limit=2, window=60)
    assert refused is not None
    assert 0 < refused.retry_after <= 60
    assert budgets.spend("test:b", limit=2, window=60) is None  # another key
    # Shared by every process: the count is in Redis, not here.
    budgets._local.clear()
    assert budgets.spend("test:a", limit=2, window=60) is not None


def test_spend_frees_room_when_the_window_passes():
    assert budgets.spend("test:short", limit=1, window=0.2) is None
    assert budgets.spend("test:short", limit=1, window=0.2) is not None
    time.sleep(0.3)
    assert budgets.spend("test:short", limit=1, window=0.2) is None


def test_without_redis_the_budget_holds_in_this_process(settings):
    settings.REDIS_URL = ""
    assert budgets.spend("test:local", limit=1, window=60) is None
    refused = budgets.spend("test:local", limit=1, window=60)
    assert refused is not None
    assert refused.retry_after <= 60


def test_with_redis_down_the_budget_holds_in_this_process(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    assert budgets.spend("test:down", limit=1, window=60) is None
    assert budgets.spend("test:down", limit=1, window=60) is not None


# --- re-check now -----------------------------------------------------------------


def test_a_member_has_so_many_rechecks_an_hour(signed_in, campaign, queue, settings):
    settings.RECHECK_PER_USER_PER_HOUR = 3
    backlinks = BacklinkFactory.create_batch(4, campaign=campaign)
    for backlink in backlinks[:3]:
        response = signed_in.post(recheck_url(backlink), headers=row(backlink))
        assert b"Checking" in response.content
    last = backlinks[3]
    response = signed_in.post(recheck_url(last), headers=row(last))
    assert response.status_code == 200  # htmx swaps only 2xx: the notice must show
    text = response.content.decode()
    assert "You have asked for 3 re-checks in the last hour, the most allowed" in text
    assert 'role="alert"' in text
    assert "hx-trigger" not in text  # not waiting for a check that was never queued

    response = signed_in.post(recheck_url(last))
    assert response.status_code == 429
    assert "You have asked for 3 re-checks in the last hour" in response.content.decode()
    assert 3000 <= int(response["Retry-After"]) <= 3600

    last.refresh_from_db()
    assert last.check_requested_at is None
    assert Backlink.objects.filter(check_requested_at__isnull=False).count() == 3
    assert queued_checks(queue) == 3


def test_two_hundred_posts_queue_no_more_than_the_budget(signed_in, campaign, queue, settings):
    settings.RECHECK_PER_USER_PER_HOUR = 60
    settings.RECHECK_LINK_INTERVAL_SECONDS = 300
    backlinks = BacklinkFactory.create_batch(100, campaign=campaign)
    statuses = [signed_in.post(recheck_url(b)).status_code for b in backlinks * 2]
    assert statuses.count(302) == 60
    assert statuses.count(429) == 140
    assert queued_checks(queue) == 60


def test_one_backlink_is_rechecked_at_most_once_per_interval(signed_in, campaign, queue, settings):
    settings.RECHECK_LINK_INTERVAL_SECONDS = 300
    backlink = BacklinkFactory(campaign=campaign)
    assert signed_in.post(recheck_url(backlink)).status_code == 302
    requested = Backlink.objects.get(pk=backlink.pk).check_requested_at

    response = signed_in.post(recheck_url(backlink), headers=row(backlink))
    text = response.content.decode()
    assert "one link can be re-checked once every 5 minutes" in text
    response = signed_in.post(recheck_url(backlink))
    assert response.status_code == 429
    assert "one link can be re-checked once every 5 minutes" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 300

    assert Backlink.objects.get(pk=backlink.pk).check_requested_at == requested
    assert queued_checks(queue) == 1


def test_a_refusal_by_the_member_budget_does_not_spend_the_link(
    signed_in, campaign, queue, settings
):
    settings.RECHECK_PER_USER_PER_HOUR = 1
    first, second = BacklinkFactory.create_batch(2, campaign=campaign)
    signed_in.post(recheck_url(first))
    assert signed_in.post(recheck_url(second)).status_code == 429
    # The per-link stamp was rolled back with the refusal: the link is not
    # blocked for five minutes by a check that never ran.
    assert Backlink.objects.get(pk=second.pk).check_requested_at is None
    assert queued_checks(queue) == 1
