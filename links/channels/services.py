"""Alert digests to every channel: gather, fan out, deliver, retry, log.

Beat runs ``links.tasks.send_alert_digests`` every few minutes. It claims the
alerts no digest has taken yet (a conditional UPDATE, so two runs never take
the same alert), freezes each campaign's alerts into one AlertDigest, and
makes one Delivery per enabled channel of the campaign and of the people on
it; each delivery is one Celery task (``tasks.deliver_alert``), queued once
the rows are committed. A failed attempt that may pass is tried again with
exponential backoff (ALERT_DELIVERY_RETRY_BASE_MS doubled each time, at most
ALERT_DELIVERY_MAX_ATTEMPTS attempts); every delivery's row is its log line.

A campaign with no email channel gets one, to its owner, at its first digest:
the email digest stays the default, and a manager can then see and turn it off.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import crypto
from campaigns.models import Campaign, User
from config.enqueue import TaskRef
from links import budgets
from links.channels import messages, signing
from links.channels.models import AlertChannel, AlertDigest, ChannelKind, Delivery, Event
from links.models import Alert
from links.scheduling import with_jitter
from links.verification.fetch import ErrorKind, FetchConfig, Fetcher, FetchResult
from links.verification.verdict import shared_fetcher

log = logging.getLogger(__name__)

deliver_task: TaskRef[[int]] = TaskRef("links.channels.tasks.deliver_alert")

# Alerts taken by one digest run; the rest wait for the next run.
DIGEST_CLAIM_MAX = 5000
# A delivery still "sending" this long after its attempt began belongs to a
# worker that died: its attempt counts as failed and it is queued again.
SENDING_LEASE_SECONDS = 120
# A waiting delivery whose task has not run this long after it was due was
# lost with the broker or a worker: queued again (the claim keeps it single).
STALLED_GRACE_SECONDS = 300
# What a log line keeps of an error (a receiver's answer included).
MAX_ERROR_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

Status = Delivery.Status


# --- Gathering ---------------------------------------------------------------------------


def send_alert_digests(*, now: datetime | None = None) -> int:
    """Gather the alerts no digest took yet into one digest per campaign and
    queue its deliveries; queue again what a lost task left waiting. Returns
    the number of digests made."""
    now = now or timezone.now()
    requeue_stalled(now=now)
    pending = list(
        Alert.objects.filter(mailed_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:DIGEST_CLAIM_MAX]
    )
    if not pending:
        return 0
    with transaction.atomic():
        # The claim: only the run whose timestamp the UPDATE wrote owns an alert.
        Alert.objects.filter(pk__in=pending, mailed_at__isnull=True).update(mailed_at=now)
        claimed = (
            Alert.objects.filter(pk__in=pending, mailed_at=now)
            .select_related("campaign__owner", "backlink")
            .order_by("campaign_id", "created_at", "id")
        )
        by_campaign: dict[int, list[Alert]] = defaultdict(list)
        for alert in claimed:
            by_campaign[alert.campaign_id].append(alert)
        for alerts in by_campaign.values():
            campaign = alerts[0].campaign
            digest = AlertDigest.objects.create(
                campaign=campaign,
                created_at=now,
                alerts=[messages.freeze_alert(alert) for alert in alerts],
            )
            _fan_out(digest, campaign, now=now)
    return len(by_campaign)


def _fan_out(digest: AlertDigest, campaign: Campaign, *, now: datetime) -> None:
    ensure_default_email(campaign)
    channels = AlertChannel.objects.for_digest_of(campaign)
    deliveries = Delivery.objects.bulk_create(
        Delivery(channel=channel, digest=digest, created_at=now, next_attempt_at=now)
        for channel in channels
    )
    for delivery in deliveries:
        deliver_task.on_commit(delivery.pk)


def ensure_default_email(campaign: Campaign) -> None:
    """Today's behaviour as a channel: the owner's email digest, made the first
    time it is needed (or shown) for a campaign without any email channel."""
    if not AlertChannel.objects.filter(campaign=campaign, kind=ChannelKind.EMAIL).exists():
        AlertChannel.objects.create(
            campaign=campaign, kind=ChannelKind.EMAIL, name="Email digest to the owner"
        )


def requeue_stalled(*, now: datetime) -> int:
    """Queue again the deliveries a lost task or a dead worker left behind; one
    whose last allowed attempt died with its worker has failed."""
    expired = Delivery.objects.filter(
        status=Status.SENDING, last_attempt_at__lt=now - timedelta(seconds=SENDING_LEASE_SECONDS)
    )
    most = settings.ALERT_DELIVERY_MAX_ATTEMPTS
    expired.filter(attempts__gte=most).update(
        status=Status.FAILED,
        finished_at=now,
        next_attempt_at=None,
        last_error=f"gave up after {most} attempts: the worker sending the last one stopped",
    )
    released = list(expired.values_list("pk", flat=True)[:1000])
    Delivery.objects.filter(pk__in=released, status=Status.SENDING).update(
        status=Status.RETRYING,
        next_attempt_at=now,
        last_error="the worker sending it stopped; sending again",
    )
    stalled = list(
        Delivery.objects.stalled(now=now, grace_seconds=STALLED_GRACE_SECONDS).values_list(
            "pk", flat=True
        )[:1000]
    )
    for pk in {*released, *stalled}:
        deliver_task.on_commit(pk)
    return len(released) + len(set(stalled) - set(released))


# --- Send test ---------------------------------------------------------------------------


def send_test(channel: AlertChannel, *, by: User) -> Delivery:
    """A test message to ``channel``, within the member's hourly budget of
    test sends (each one is a request the server makes for them). Raises
    OverBudget, queueing nothing, when it is spent."""
    budgets.spend_alert_test(by.pk)
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel, event=Event.TEST, requested_by=by, created_at=now, next_attempt_at=now
        )
        deliver_task.on_commit(delivery.pk)
    return delivery


# --- Delivering --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool = False
    http_status: int | None = None
    elapsed_ms: int | None = None
    error: str = ""


def backoff_seconds(attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (1-based)."""
    return settings.ALERT_DELIVERY_RETRY_BASE_MS * 2 ** (attempt - 1) / 1000


def attempt_delivery(delivery_id: int, *, now: datetime | None = None) -> float | None:
    """One attempt at one delivery. Returns the seconds to wait before the next
    attempt when it must be tried again, else None. Safe to run twice: only the
    run whose conditional UPDATE claims the row sends."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=[Status.PENDING, Status.RETRYING]
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related(
        "channel__campaign__owner", "channel__user", "digest__campaign"
    ).get(pk=delivery_id)
    outcome = send(delivery)
    finished = timezone.now()
    fields = {
        "http_status": outcome.http_status,
        "response_ms": outcome.elapsed_ms,
        "last_error": _clean(outcome.error),
    }
    if outcome.ok:
        Delivery.objects.filter(pk=delivery_id).update(
            status=Status.DELIVERED, finished_at=finished, next_attempt_at=None, **fields
        )
        return None
    if outcome.retryable and delivery.attempts < settings.ALERT_DELIVERY_MAX_ATTEMPTS:
        # Jittered, so the channels of one outage do not all retry at once.
        wait = with_jitter(timedelta(seconds=backoff_seconds(delivery.attempts))).total_seconds()
        Delivery.objects.filter(pk=delivery_id).update(
            status=Status.RETRYING, next_attempt_at=finished + timedelta(seconds=wait), **fields
        )
        return wait
    if outcome.retryable:
        fields["last_error"] = _clean(
            f"gave up after {delivery.attempts} attempts: {outcome.error}"
        )
    Delivery.objects.filter(pk=delivery_id).update(
        status=Status.FAILED, finished_at=finished, next_attempt_at=None, **fields
    )
    log.warning(
        "alert delivery %s to channel %s failed: %s",
        delivery_id,
        delivery.channel_id,
        fields["last_error"],
    )
    return None


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()[:MAX_ERROR_CHARS]


def payload_of(delivery: Delivery) -> messages.Payload:
    if delivery.event == Event.TEST or delivery.digest is None:
        return messages.send_test_payload(
            channel_name=delivery.channel.name, site_url=settings.SITE_URL
        )
    digest = delivery.digest
    campaign = digest.campaign
    return messages.digest_payload(
        digest_id=digest.pk,
        created_at=digest.created_at.isoformat(),
        campaign={"id": campaign.pk, "slug": campaign.slug, "name": campaign.name},
        alerts=digest.alerts,
        site_url=settings.SITE_URL,
    )


def send(delivery: Delivery) -> Outcome:
    """Send one delivery's message through its channel, once."""
    channel = delivery.channel
    payload = payload_of(delivery)
    if channel.kind == ChannelKind.EMAIL:
        return _send_email(channel, payload)
    if channel.kind == ChannelKind.SLACK:
        body = messages.slack_message(payload)
    elif channel.kind == ChannelKind.TEAMS:
        body = messages.teams_message(payload)
    else:
        body = payload
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "*/*"}
    if channel.kind == ChannelKind.WEBHOOK:
        try:
            secret = channel.secret()
        except crypto.UndecryptableSecret as exc:
            return Outcome(ok=False, error=f"the signing secret cannot be read: {exc}")
        timestamp = int(time.time())
        headers |= {
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.signature(secret, timestamp, data),
            signing.EVENT_HEADER: payload["event"],
            signing.DELIVERY_HEADER: str(delivery.pk),
        }
    return _outcome(webhook_fetcher().post(channel.url, data, headers=headers))


def webhook_fetch_config() -> FetchConfig:
    return FetchConfig(
        timeout=float(settings.ALERT_WEBHOOK_TIMEOUT_SECONDS),
        user_agent=f"AnchorageWebhooks/1.0 (+{settings.SITE_URL})",
        allow_private_networks=settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    )


def webhook_fetcher() -> Fetcher:
    return shared_fetcher(webhook_fetch_config())


# The receiver's trouble may pass: tried again. Anything else (a refused
# address, 400, 403, 404, a redirect) will answer the same next time.
_RETRIED_KINDS = frozenset(
    {ErrorKind.DNS, ErrorKind.CONNECT, ErrorKind.TIMEOUT, ErrorKind.TLS, ErrorKind.PROTOCOL}
)
_RETRIED_STATUSES = frozenset({408, 425, 429})


def _outcome(result: FetchResult) -> Outcome:
    if result.ok:
        return Outcome(ok=True, http_status=result.status, elapsed_ms=result.elapsed_ms)
    kind = result.error_kind
    error = result.error or str(kind)
    if kind == ErrorKind.BLOCKED_ADDRESS:
        error = f"refused by the private-address guard: {error}"
    elif kind in (ErrorKind.INVALID_URL, ErrorKind.BAD_SCHEME):
        error = f"refused: {error}"
    elif kind == ErrorKind.HTTP_STATUS and result.body:
        answer = result.body[:200].decode("utf-8", "replace")
        error = f"{error}: {answer}"
    status = result.status
    retryable = kind in _RETRIED_KINDS or (
        kind == ErrorKind.HTTP_STATUS
        and status is not None
        and (status >= 500 or status in _RETRIED_STATUSES)
    )
    return Outcome(
        ok=False,
        retryable=retryable,
        http_status=status,
        elapsed_ms=result.elapsed_ms,
        error=error,
    )


def _send_email(channel: AlertChannel, payload: messages.Payload) -> Outcome:
    to = channel.email_to()
    if not to:
        return Outcome(ok=False, error="no email address to send to (the owner has none)")
    subject, body = messages.email_message(payload)
    started = time.monotonic()
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    except (smtplib.SMTPException, OSError) as exc:
        elapsed = round((time.monotonic() - started) * 1000)
        return Outcome(ok=False, retryable=True, elapsed_ms=elapsed, error=f"mail failed: {exc}")
    return Outcome(ok=True, elapsed_ms=round((time.monotonic() - started) * 1000))
