"""The real path: the digest run → Redis → a Celery worker process → a receiver
on 127.0.0.1 that answers 500 until it doesn't. The worker's own settings make
the backoff tiny (50 ms doubling) and allow three attempts."""

from __future__ import annotations

import pytest
from django.conf import settings

from links.channels import services
from links.channels.models import AlertChannel, ChannelKind, Delivery
from tests.factories import AlertFactory, CampaignFactory, UserFactory
from tests.support.waiting import wait_until
from tests.support.workers import Worker, purge_queue, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
    "ALERT_DELIVERY_RETRY_BASE_MS": "50",
    "ALERT_DELIVERY_MAX_ATTEMPTS": "3",
}
Status = Delivery.Status


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        purge_queue()
        # The signing secret is encrypted with a key derived from SECRET_KEY:
        # the worker must have this process's.
        env = {**WORKER_ENV, "SECRET_KEY": settings.SECRET_KEY}
        started = Worker("alerts", env=env, concurrency=2, log_dir=tmp_path_factory.mktemp("w"))
        started.wait_ready()
    yield started
    stop_all([started])
    purge_queue()


def webhook_digest(receiver) -> Delivery:
    campaign = CampaignFactory(owner=UserFactory(email="owner@team.example"))
    channel = AlertChannel(
        campaign=campaign, kind=ChannelKind.WEBHOOK, name="Ops", url=receiver.url()
    )
    channel.new_secret()
    channel.save()
    AlertFactory(campaign=campaign)
    assert services.send_alert_digests() == 1
    return Delivery.objects.get(channel=channel)


def settled(delivery: Delivery) -> Delivery | None:
    delivery.refresh_from_db()
    return delivery if delivery.status in (Status.DELIVERED, Status.FAILED) else None


def test_a_500_is_retried_with_backoff_until_the_receiver_takes_it(worker, receiver):
    receiver.answer(500, 500)
    delivery = webhook_digest(receiver)
    wait_until(lambda: settled(delivery), 30, "the delivery to settle", explain=worker.output)
    assert delivery.status == Status.DELIVERED, delivery.last_error
    assert delivery.attempts == 3
    assert delivery.http_status == 200
    assert receiver.hit_count == 3
    # Every attempt carried the same delivery id and body, each freshly signed.
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.header("X-Anchorage-Delivery") for r in receiver.requests} == {str(delivery.pk)}


def test_after_the_last_attempt_it_gives_up_and_the_log_says_so(worker, receiver):
    receiver.answer(500, 502, 500, 500)
    delivery = webhook_digest(receiver)
    wait_until(lambda: settled(delivery), 30, "the delivery to settle", explain=worker.output)
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 3
    assert delivery.http_status == 500
    assert delivery.last_error.startswith("gave up after 3 attempts: the server answered 500")
    assert delivery.finished_at is not None
    assert receiver.hit_count == 3
