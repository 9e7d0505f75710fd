"""The real path: dispatcher → Redis → Celery workers (gevent pool, separate
processes) → fetch from a server on 127.0.0.1 → parse → record in PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from links import tasks
from links.models import Backlink, BacklinkState, LinkCheck
from tests.factories import BacklinkFactory, CampaignFactory
from tests.support.waiting import wait_until
from tests.support.workers import Worker, broker_idle, purge_queue, redeliver_expired, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PAGE = '<html><body><p>Read <a href="https://ours.example/guide/">our guide</a>.</p></body></html>'


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(count: int, **kwargs) -> list[Worker]:
        new = [Worker(f"w{len(started) + i}", log_dir=tmp_path, **kwargs) for i in range(count)]
        started.extend(new)
        for worker in new:
            worker.wait_ready()
        return new

    purge_queue()
    yield start
    stop_all(started)
    purge_queue()


CHECK_TASK = "links.tasks.check_backlinks"
WORKER_ENV = {"VERIFIER_ALLOW_PRIVATE_NETWORKS": "1", "VERIFIER_PER_HOST_LIMIT": "8"}


def test_two_workers_check_1000_due_links_exactly_once(site, workers, settings):
    site.route("/post", PAGE)
    campaign = CampaignFactory()
    now = timezone.now()
    Backlink.objects.bulk_create(
        [
            Backlink(
                campaign=campaign,
                source_url=site.url(f"/post?n={n}"),
                source_url_key=f"127.0.0.1:{site.port}/post?n={n}",
                source_domain="127.0.0.1",
                target_url="https://ours.example/guide/",
                target_url_key="ours.example/guide",
                next_check_at=now - timedelta(minutes=1),
            )
            for n in range(1000)
        ]
    )
    workers(2, env=WORKER_ENV)
    assert tasks.dispatch_due_checks() == 1000
    wait_until(lambda: LinkCheck.objects.count() >= 1000, 180, "1,000 checks", interval=0.2)
    # The check tasks acknowledge when done: once none waits or runs, a
    # duplicate would have landed.
    wait_until(broker_idle, 30, "the queue drained")
    per_link = LinkCheck.objects.values("backlink").annotate(n=Count("pk"))
    assert per_link.count() == 1000
    assert {row["n"] for row in per_link} == {1}
    assert set(LinkCheck.objects.values_list("verdict", flat=True)) == {"live"}
    assert not Backlink.objects.due().exists()
    assert Backlink.objects.filter(state=BacklinkState.LIVE).count() == 1000


def test_a_worker_killed_mid_check_leaves_the_link_checked_later(site, workers, settings):
    settings.VERIFIER_LEASE_SECONDS = 3
    release = {"slow": True}

    def slow_then_fast(handler) -> None:
        if release["slow"]:
            time.sleep(30)  # the worker is killed while it waits here
        body = PAGE.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    site.route("/slow", handler=slow_then_fast)
    backlink = BacklinkFactory(
        source_url=site.url("/slow"),
        target_url="https://ours.example/guide/",
        next_check_at=timezone.now() - timedelta(minutes=1),
    )
    visibility_timeout = 5
    env = {**WORKER_ENV, "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout)}
    (first,) = workers(1, env=env)
    assert tasks.dispatch_due_checks() == 1
    wait_until(lambda: site.hits_for("/slow") >= 1, 30, "the check to reach the page")
    first.kill()
    assert not LinkCheck.objects.filter(backlink=backlink).exists()

    release["slow"] = False
    (second,) = workers(1, env=env)
    # Whichever comes first sends the link to the second worker: the dead claim's
    # lease running out (the dispatcher claims it again, as beat would) or the
    # dead worker's message coming back (its claim still holds then).
    dispatched = 0

    def checked_again() -> bool:
        nonlocal dispatched
        if Backlink.objects.due().filter(pk=backlink.pk).exists():
            dispatched += tasks.dispatch_due_checks()
        return LinkCheck.objects.filter(backlink=backlink).exists()

    wait_until(checked_again, 60, "the link checked again", interval=0.2)
    # The dead worker's message goes back on the queue once its visibility
    # timeout has passed, and the second worker runs it (again, if it ran it
    # already): it must not add a second check.
    wait_until(
        lambda: redeliver_expired(visibility_timeout) == 0,
        visibility_timeout + 30,
        "the dead worker's message back on the queue",
    )
    wait_until(broker_idle, 60, "the redelivered message run", explain=second.output)
    # The message is acknowledged a moment before the worker logs the task's end.
    wait_until(
        lambda: second.finished(CHECK_TASK) == 1 + dispatched,
        30,
        f"the worker to log {1 + dispatched} finished checks",
        explain=second.output,
    )
    assert LinkCheck.objects.filter(backlink=backlink).count() == 1
    backlink.refresh_from_db()
    assert backlink.state == BacklinkState.LIVE
