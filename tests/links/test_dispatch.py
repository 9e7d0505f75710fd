"""Claims: due links are handed out once, with a lease, even to dispatchers
running at the same moment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from links import dispatch, services
from links.models import Backlink, LinkCheck
from links.outcome import CheckOutcome
from tests.factories import BacklinkFactory

LIVE = CheckOutcome(
    verdict="live",
    http_status=200,
    anchors=[{"href": "https://ours.example/", "text": "our guide", "rel": "", "dofollow": True}],
    page_hash="a" * 64,
)


def test_claim_due_takes_only_due_links_and_leases_them(db, settings):
    now = timezone.now()
    due = BacklinkFactory(next_check_at=now - timedelta(minutes=1))
    BacklinkFactory(next_check_at=now + timedelta(hours=1))
    claims = dispatch.claim_due(limit=10, now=now)
    assert [c.backlink_id for c in claims] == [due.pk]
    due.refresh_from_db()
    lease = now + timedelta(seconds=settings.VERIFIER_LEASE_SECONDS)
    assert due.lease_until == lease == claims[0].lease
    assert due.next_check_at == now - timedelta(minutes=1)  # the schedule is left alone
    assert dispatch.claim_due(limit=10, now=now) == []  # leased, not due any more
    assert not Backlink.objects.due(now).exists()


def test_a_lease_that_ran_out_is_claimed_again_with_a_new_lease(db, settings):
    now = timezone.now()
    backlink = BacklinkFactory(next_check_at=now - timedelta(minutes=1))
    first = dispatch.claim_due(limit=10, now=now)
    later = now + timedelta(seconds=settings.VERIFIER_LEASE_SECONDS)
    assert dispatch.claim_due(limit=10, now=later - timedelta(seconds=1)) == []
    second = dispatch.claim_due(limit=10, now=later)
    assert [c.backlink_id for c in second] == [backlink.pk]
    assert second[0].lease > first[0].lease
    # The first task, had it come back late, would find its lease gone.
    assert services.record_check(first[0], LIVE, now=later) is None
    assert services.record_check(second[0], LIVE, now=later) is not None
    backlink.refresh_from_db()
    assert backlink.lease_until is None  # recorded: held by no task
    assert backlink.next_check_at > later  # and scheduled again


def test_dispatch_due_claims_every_due_link_once_across_chunks(db, monkeypatch):
    # Chunks of 4 over 11 due links, several sharing a schedule: each chunk
    # starts at the last schedule of the one before, ties included.
    monkeypatch.setattr(dispatch, "CLAIM_CHUNK", 4)
    queued: list[int] = []
    monkeypatch.setattr(
        dispatch, "enqueue_checks", lambda claims: queued.extend(c.backlink_id for c in claims)
    )
    now = timezone.now()
    minutes = [9, 9, 9, 9, 9, 7, 7, 5, 3, 3, 1]
    due = [BacklinkFactory(next_check_at=now - timedelta(minutes=m)) for m in minutes]
    held = BacklinkFactory(
        next_check_at=now - timedelta(minutes=8), lease_until=now + timedelta(minutes=5)
    )
    BacklinkFactory(next_check_at=now + timedelta(minutes=1))
    assert dispatch.dispatch_due() == len(due)
    assert sorted(queued) == sorted(b.pk for b in due)
    assert held.pk not in queued
    assert not Backlink.objects.due().exists()


def test_claim_keeps_a_schedule_earlier_than_its_lease(db):
    now = timezone.now()
    overdue = BacklinkFactory(next_check_at=now - timedelta(hours=2))
    claim = dispatch.claim([overdue.pk], now=now)[0]
    overdue.refresh_from_db()
    assert overdue.lease_until == claim.lease
    assert overdue.next_check_at == now - timedelta(hours=2)


def test_re_check_now_during_a_dispatched_check_drops_the_older_result(db):
    now = timezone.now()
    backlink = BacklinkFactory(next_check_at=now - timedelta(minutes=1))
    dispatched = dispatch.claim_due(limit=10, now=now)[0]
    requested = dispatch.claim([backlink.pk], now=now + timedelta(seconds=30))[0]
    assert services.record_check(dispatched, LIVE, now=now + timedelta(seconds=40)) is None
    assert services.record_check(requested, LIVE, now=now + timedelta(seconds=50)) is not None
    assert LinkCheck.objects.filter(backlink=backlink).count() == 1


def test_claim_due_takes_the_most_overdue_first(db):
    now = timezone.now()
    late = BacklinkFactory(next_check_at=now - timedelta(days=2))
    BacklinkFactory(next_check_at=now - timedelta(minutes=1))
    assert [c.backlink_id for c in dispatch.claim_due(limit=1, now=now)] == [late.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_claim_the_same_link():
    now = timezone.now()
    BacklinkFactory.create_batch(300, next_check_at=now - timedelta(minutes=5))
    results: list[list[int]] = []
    barrier = threading.Barrier(3)

    def dispatcher() -> None:
        try:
            barrier.wait()
            mine: list[int] = []
            while batch := dispatch.claim_due(limit=20, now=now):
                mine.extend(c.backlink_id for c in batch)
            results.append(mine)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [pk for mine in results for pk in mine]
    assert len(claimed) == 300
    assert len(set(claimed)) == 300
    assert not Backlink.objects.due(now).exists()


def test_request_check_claims_and_queues_a_task_on_redis(db, django_capture_on_commit_callbacks):
    import redis
    from django.conf import settings as django_settings

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    client.delete("celery")
    backlink = BacklinkFactory(next_check_at=timezone.now() + timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        requested = dispatch.request_check(backlink)
    backlink.refresh_from_db()
    assert backlink.check_requested_at == requested
    assert backlink.lease_until > requested  # leased to this check
    # If that check never comes back, the link is due when the lease runs out.
    assert backlink.next_check_at == backlink.lease_until
    messages = client.lrange("celery", 0, -1)
    assert len(messages) == 1
    assert b"links.tasks.check_backlinks" in messages[0]
    client.delete("celery")
