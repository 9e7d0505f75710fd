"""Deliveries to a real receiver on 127.0.0.1, attempt by attempt, in this
process: the signature a receiver can check, the guard that refuses private
addresses, what is retried and what is not. (tests/links/channels/
test_workers.py runs the same through a Celery worker, with its backoff.)"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from links.channels import services, signing
from links.channels.models import AlertChannel, ChannelKind, Delivery
from tests.factories import AlertFactory, BacklinkFactory, CampaignFactory, UserFactory

Status = Delivery.Status


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="Shoes", slug="shoes", owner=UserFactory(email="o@team.example"))


def webhook(campaign, url: str) -> tuple[AlertChannel, str]:
    channel = AlertChannel(campaign=campaign, kind=ChannelKind.WEBHOOK, name="Ops", url=url)
    secret = channel.new_secret()
    channel.save()
    return channel, secret


def digest_delivery(campaign, channel) -> Delivery:
    backlink = BacklinkFactory(campaign=campaign, source_url="https://blog.example/post/")
    AlertFactory(campaign=campaign, backlink=backlink, message="Lost the link on blog.example")
    assert services.send_alert_digests() == 1
    return Delivery.objects.get(channel=channel)


def test_the_receiver_verifies_the_signature_and_refuses_a_tampered_or_old_request(
    campaign, receiver, settings
):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    channel, secret = webhook(campaign, receiver.url())
    delivery = digest_delivery(campaign, channel)

    assert services.attempt_delivery(delivery.pk) is None
    (request,) = receiver.requests
    stamp, sent = request.header("X-Anchorage-Timestamp"), request.header("X-Anchorage-Signature")
    assert sent.startswith("sha256=")
    assert signing.verify(secret, body=request.body, timestamp_header=stamp, signature_header=sent)
    # The receiver's own recomputation, as the documented recipe says.
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
    assert sent == "sha256=" + expected.hexdigest()

    tampered = request.body.replace(b"blog.example", b"evil.example")
    assert tampered != request.body
    assert not signing.verify(secret, body=tampered, timestamp_header=stamp, signature_header=sent)
    assert not signing.verify(
        "whsec_another", body=request.body, timestamp_header=stamp, signature_header=sent
    )
    # The same request replayed ten minutes later.
    assert not signing.verify(
        secret,
        body=request.body,
        timestamp_header=stamp,
        signature_header=sent,
        now=int(stamp) + 600,
    )
    payload = json.loads(request.body)
    assert payload["event"] == "alerts.digest" == request.header("X-Anchorage-Event")
    assert request.header("X-Anchorage-Delivery") == str(delivery.pk)
    assert payload["campaign"]["slug"] == "shoes"
    assert payload["alerts"][0]["message"] == "Lost the link on blog.example"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.http_status) == (Status.DELIVERED, 1, 200)
    assert delivery.response_ms is not None
    assert delivery.finished_at is not None


def test_a_private_address_is_refused_logged_and_never_reached(campaign, receiver, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    channel, _ = webhook(campaign, receiver.url())
    delivery = digest_delivery(campaign, channel)

    assert services.attempt_delivery(delivery.pk) is None  # not retried: it would be refused again
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempts == 1
    assert "private-address guard" in delivery.last_error
    assert "127.0.0.1" in delivery.last_error
    assert "loopback" in delivery.last_error
    assert receiver.hit_count == 0


def test_a_5xx_is_retried_later_and_a_4xx_is_not(campaign, receiver, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.ALERT_DELIVERY_RETRY_BASE_MS = 2000
    channel, _ = webhook(campaign, receiver.url())
    delivery = digest_delivery(campaign, channel)
    receiver.answer(503, 404)

    wait = services.attempt_delivery(delivery.pk)
    # The base wait, jittered by at most a tenth either way.
    assert 1.8 <= wait <= 2.2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.http_status) == (Status.RETRYING, 503)
    assert "receiver says no" in delivery.last_error
    # A second run of the same message before the retry: nothing is sent twice.
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DELIVERED)
    assert services.attempt_delivery(delivery.pk) is None
    assert receiver.hit_count == 1
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.RETRYING)

    assert services.attempt_delivery(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.http_status) == (Status.FAILED, 2, 404)


def test_backoff_doubles_from_the_base(settings):
    settings.ALERT_DELIVERY_RETRY_BASE_MS = 30_000
    assert [services.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_a_digest_goes_to_every_enabled_channel_of_the_campaign_and_its_people(campaign, settings):
    member = UserFactory(username="mia")
    stranger = UserFactory(username="stranger")
    campaign.memberships.create(user=member)
    mine = AlertChannel.objects.create(
        user=member, kind=ChannelKind.SLACK, name="Mia's Slack", url="https://hooks.example/a"
    )
    AlertChannel.objects.create(
        user=stranger, kind=ChannelKind.SLACK, name="Not on it", url="https://hooks.example/b"
    )
    teams = AlertChannel.objects.create(
        campaign=campaign, kind=ChannelKind.TEAMS, name="Team", url="https://hooks.example/c"
    )
    AlertChannel.objects.create(
        campaign=campaign,
        kind=ChannelKind.TEAMS,
        name="Off",
        url="https://hooks.example/d",
        enabled=False,
    )
    AlertFactory.create_batch(3, campaign=campaign)
    AlertFactory(campaign=CampaignFactory())

    assert services.send_alert_digests() == 2
    email = AlertChannel.objects.get(campaign=campaign, kind=ChannelKind.EMAIL)
    routed = set(
        Delivery.objects.filter(digest__campaign=campaign).values_list("channel", flat=True)
    )
    assert routed == {mine.pk, teams.pk, email.pk}
    # One message per digest per channel, and no alert digested twice.
    assert Delivery.objects.filter(digest__campaign=campaign).count() == 3
    assert services.send_alert_digests() == 0


def test_the_default_email_digest_mails_the_owner(campaign, mailoutbox):
    AlertFactory.create_batch(2, campaign=campaign, message="Lost the link on a.example")
    services.send_alert_digests()
    (delivery,) = Delivery.objects.all()
    services.attempt_delivery(delivery.pk)
    (mail,) = mailoutbox
    assert mail.to == ["o@team.example"]
    assert mail.subject == "[Anchorage] Shoes: 2 backlink alerts"
    assert mail.body.count("Lost the link on a.example") == 2
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED


def test_a_failed_mail_is_retried(campaign, settings):
    AlertFactory(campaign=campaign)
    services.send_alert_digests()
    (delivery,) = Delivery.objects.all()
    # A real SMTP connection to a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert services.attempt_delivery(delivery.pk) is not None
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRYING
    assert "mail failed" in delivery.last_error


def test_a_lost_task_is_queued_again_by_the_next_run(
    campaign, queue, django_capture_on_commit_callbacks, settings
):
    from datetime import timedelta

    from django.utils import timezone

    AlertFactory(campaign=campaign)
    services.send_alert_digests()
    queue.delete("celery")
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.update(status=Status.SENDING, last_attempt_at=long_ago, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stalled(now=timezone.now()) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Status.RETRYING
    # Sent to the broker at once, not a sweep later.
    assert queue.llen("celery") == 1


def test_a_dead_worker_on_the_last_attempt_fails_the_delivery(campaign, queue, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    AlertFactory(campaign=campaign)
    services.send_alert_digests()
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.update(status=Status.SENDING, last_attempt_at=long_ago, attempts=3)
    assert services.requeue_stalled(now=timezone.now()) == 0
    delivery = Delivery.objects.get()
    assert delivery.status == Status.FAILED
    assert delivery.last_error.startswith("gave up after 3 attempts")


def test_signature_helper_is_hmac_of_timestamp_dot_body():
    assert signing.signature("k", 1700000000, b"{}") == (
        "sha256=" + hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    )
    assert signing.verify(
        "k",
        body=b"{}",
        timestamp_header="1700000000",
        signature_header=signing.signature("k", 1700000000, b"{}"),
        now=1700000000 + 10,
    )
    assert not signing.verify(
        "k", body=b"{}", timestamp_header="-1", signature_header="sha256=00", now=time.time()
    )


def test_rotate_encryption_key_re_encrypts_webhook_secrets(campaign, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    channel, secret = webhook(campaign, "https://receiver.example/in")
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    call_command("rotate_encryption_key")
    settings.FIELD_ENCRYPTION_KEY = new  # the old key is gone
    channel.refresh_from_db()
    assert channel.secret() == secret
