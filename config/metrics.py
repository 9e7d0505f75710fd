"""``/metrics`` for Prometheus, collected from PostgreSQL and Redis at scrape time.

In-process counters would count only what one gunicorn or Celery process saw;
the database and the broker already hold the truth for every process, so each
scrape asks them: five aggregate queries, each bounded by an index range or a
small table, and one Redis pipeline.

Who may scrape: a request carrying ``Authorization: Bearer <METRICS_TOKEN>``
(when that is set), or one made directly, not through a reverse proxy, from an
address in METRICS_ALLOWED_IPS (127.0.0.1 and ::1 by default). A request that
came through a proxy (X-Forwarded-For, Forwarded, X-Real-IP) arrives from the
proxy's address, often 127.0.0.1, so it needs the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from config import heartbeats
from links.models import Backlink, LinkCheck, Verdict
from outreach.email.models import ScheduledEmail
from outreach.models import ImportJob

CHECKS_WINDOW = timedelta(hours=1)
DUE_COUNT_CAP = 10_000
# kombu's Redis transport keeps a queue's messages of priority N in "queue\x06\x16N"
# (none in the plain key), and every delivered, unacknowledged message in "unacked".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_UNACKED_KEY = "unacked"
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _by(rows: Iterable[dict[str, Any]], field: str) -> dict[str, int]:
    return {row[field]: row["n"] for row in rows}


def _gauge(
    name: str, doc: str, label: str, counts: dict[str, int], values: list[str]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for value in values:
        family.add_metric([value], counts.get(value, 0))
    return family


def broker_queues() -> list[str]:
    """Celery's default queue and every queue a route sends to."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted({"celery", *routed, *settings.HEALTH_WORKER_QUEUES})


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


class AnchorageCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._checks(now)
        yield from self._backlinks(now)
        yield from self._outreach()
        yield from self._broker()
        yield from self._heartbeats()

    def _checks(self, now: datetime) -> Iterator[Metric]:
        # A window, not an all-time total: counting a million-row history on every
        # scrape would cost more than the checks; the checked_at index bounds this
        # to the last hour's rows.
        rows = (
            LinkCheck.objects.filter(checked_at__gt=now - CHECKS_WINDOW)
            .order_by()
            .values("verdict")
            .annotate(n=Count("id"))
        )
        yield _gauge(
            "anchorage_link_checks_last_hour",
            "Backlink checks in the last hour, by verdict (error: no judgement possible).",
            "verdict",
            _by(rows, "verdict"),
            list(Verdict.values),
        )

    def _backlinks(self, now: datetime) -> Iterator[Metric]:
        # The oldest due link nobody holds: the first entries of the
        # backlink_next_check index, past the ones a check task holds (at most
        # what is in flight). The count stops at DUE_COUNT_CAP so that a
        # day-long backlog costs a bounded index range, not the whole table
        # (which is also why there is no backlinks-by-state gauge: it would read
        # every row on every scrape).
        due = Backlink.objects.due(now).order_by()
        oldest = due.aggregate(oldest=Min("next_check_at"))["oldest"]
        yield GaugeMetricFamily(
            "anchorage_backlinks_due",
            f"Backlinks due and not yet claimed by the dispatcher (counted up to {DUE_COUNT_CAP}).",
            value=due[:DUE_COUNT_CAP].count(),
        )
        lag = (now - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "anchorage_claim_lag_seconds",
            "How long the oldest due, unclaimed backlink has been waiting (0 when none is).",
            value=lag,
        )

    def _outreach(self) -> Iterator[Metric]:
        # (state, claimed_at) index: counted from the index alone.
        emails = ScheduledEmail.objects.order_by().values("state").annotate(n=Count("id"))
        yield _gauge(
            "anchorage_outreach_emails",
            "Outreach emails by state (sent = handed to the mailbox's SMTP server).",
            "state",
            _by(emails, "state"),
            list(ScheduledEmail.State.values),
        )
        imports = ImportJob.objects.order_by().values("state").annotate(n=Count("id"))
        yield _gauge(
            "anchorage_imports",
            "Spreadsheet imports by state.",
            "state",
            _by(imports, "state"),
            list(ImportJob.State.values),
        )

    def _broker(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("anchorage_redis_up", "1 when Redis answered this scrape.")
        if not settings.REDIS_URL:
            return
        queues = broker_queues()
        try:
            pipe = _redis_client(settings.REDIS_URL).pipeline(transaction=False)
            for queue in queues:
                pipe.llen(queue)
                for step in _PRIORITY_STEPS:
                    pipe.llen(f"{queue}{_PRIORITY_SEPARATOR}{step}")
            pipe.hlen(_UNACKED_KEY)
            lengths = pipe.execute()
        except (redis.RedisError, OSError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily(
            "anchorage_queue_depth",
            "Celery messages waiting in each queue (not yet taken by a worker).",
            labels=["queue"],
        )
        per_queue = len(_PRIORITY_STEPS) + 1
        for index, queue in enumerate(queues):
            depth.add_metric([queue], sum(lengths[index * per_queue : (index + 1) * per_queue]))
        yield depth
        yield GaugeMetricFamily(
            "anchorage_queue_unacked",
            "Celery messages taken by a worker and not yet acknowledged (running or prefetched).",
            value=lengths[-1],
        )

    def _heartbeats(self) -> Iterator[Metric]:
        now = time.time()
        try:
            beat = heartbeats.last_beat()
            dispatch = heartbeats.last_dispatch()
            workers = heartbeats.last_worker_beats(settings.HEALTH_WORKER_QUEUES)
        except (redis.RedisError, OSError):
            return
        if beat is not None:
            yield GaugeMetricFamily(
                "anchorage_beat_age_seconds",
                "Seconds since beat last sent the dispatcher task.",
                value=max(0.0, now - beat),
            )
        if dispatch is not None:
            yield GaugeMetricFamily(
                "anchorage_dispatch_age_seconds",
                "Seconds since beat's dispatcher last ran to the end.",
                value=max(0.0, now - dispatch),
            )
        family = GaugeMetricFamily(
            "anchorage_worker_heartbeat_age_seconds",
            "Seconds since a worker consuming this queue last sent its heartbeat.",
            labels=["queue"],
        )
        for queue, at in workers.items():
            if at is not None:
                family.add_metric([queue], max(0.0, now - at))
        yield family


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(AnchorageCollector())


def _bearer_token_ok(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given, token)


def _address_ok(request: HttpRequest) -> bool:
    if any(request.META.get(name) for name in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS
    )


def metrics_response(request: HttpRequest) -> HttpResponse:
    if not (_bearer_token_ok(request) or _address_ok(request)):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    response = HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """Before host validation and the HTTPS redirect, like /healthz: Prometheus
    scrapes http://web:8000/metrics inside the compose network."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/metrics":
            return metrics_response(request)
        return self.get_response(request)
