"""/healthz against the suite's real PostgreSQL and Redis, with a real worker."""

from __future__ import annotations

import json
import socket
import time

import pytest
from django.core.cache import caches
from django.core.management import call_command

from config import heartbeats
from links import tasks
from tests.support import fast_heartbeat_settings
from tests.support.processes import environment, run_python
from tests.support.waiting import wait_until
from tests.support.workers import Worker, purge_queue

QUEUES = ["celery", "bulk"]


@pytest.fixture(autouse=True)
def _no_heartbeats():
    # Before each test only: after one, the cache may still point at a closed port.
    caches[heartbeats.CACHE].clear()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthz(client, path: str = "/healthz") -> tuple[int, dict]:
    response = client.get(path, HTTP_HOST="127.0.0.1:8000")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def everything_fresh() -> None:
    heartbeats.record_beat()
    heartbeats.record_dispatch()
    heartbeats.record_worker(hostname="w@test", queues=QUEUES)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_all_ok_with_a_real_worker_and_a_real_dispatch(client, tmp_path, settings):
    settings.HEALTH_WORKER_QUEUES = QUEUES
    purge_queue()
    status, report = healthz(client)
    assert status == 503
    assert report["failing"] == ["beat", "dispatch", "workers"]

    # JSON logs reach the worker's own lines too (Celery would otherwise replace
    # the root logger's handler with its plain one).
    worker = Worker("health", queues="celery,bulk", log_dir=tmp_path, env={"LOG_FORMAT": "json"})
    try:
        worker.wait_ready()
        tasks.dispatch_due_checks.delay()  # sent as beat sends it, run by the worker
        wait_until(lambda: healthz(client)[0] == 200, 30, "/healthz to pass")
        status, report = healthz(client)
        assert report["status"] == "ok"
        assert report["failing"] == []
        assert {name: check["status"] for name, check in report["checks"].items()} == {
            "database": "ok",
            "redis": "ok",
            "beat": "ok",
            "dispatch": "ok",
            "workers": "ok",
        }
        ready = next(line for line in worker.output().splitlines() if "ready." in line)
        assert json.loads(ready)["message"].endswith("ready.")
        hostname = f"health@{socket.gethostname()}"
        call_command("healthcheck", "--worker", hostname)  # exit status 0
    finally:
        worker.stop()
        purge_queue()


def test_redis_down_fails_naming_redis(client, db, settings):
    everything_fresh()
    port = closed_port()
    down = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = down
    settings.CACHES = {
        **settings.CACHES,
        heartbeats.CACHE: {**settings.CACHES[heartbeats.CACHE], "LOCATION": down},
    }
    started = time.monotonic()
    status, report = healthz(client)
    assert time.monotonic() - started < 5  # refused, not hung
    assert status == 503
    assert "redis" in report["failing"]
    assert report["checks"]["redis"]["detail"] == "redis unavailable"
    assert str(port) not in json.dumps(report)  # the address stays in the log
    assert report["checks"]["database"]["status"] == "ok"


def test_stale_dispatch_fails(client, db, settings):
    settings.HEALTH_DISPATCH_MAX_AGE_SECONDS = 300
    everything_fresh()
    heartbeats.record_dispatch(at=time.time() - 301)
    status, report = healthz(client)
    assert status == 503
    assert report["failing"] == ["dispatch"]
    assert report["checks"]["dispatch"]["age_seconds"] >= 301

    heartbeats.record_dispatch(at=time.time() - 200)
    assert healthz(client)[0] == 200


def test_beat_that_never_sent_the_dispatcher_fails(client, db):
    heartbeats.record_worker(hostname="w@test", queues=QUEUES)
    status, report = healthz(client)
    assert status == 503
    assert report["failing"] == ["beat", "dispatch"]
    assert report["checks"]["beat"]["detail"].startswith("beat never sent the dispatcher")


def test_dispatcher_sent_but_not_run_fails_only_dispatch(client, db):
    heartbeats.record_worker(hostname="w@test", queues=QUEUES)
    heartbeats.record_beat()
    status, report = healthz(client)
    assert status == 503
    assert report["failing"] == ["dispatch"]
    assert "is a worker consuming the celery queue?" in report["checks"]["dispatch"]["detail"]


def test_no_worker_fails(client, db, settings):
    settings.HEALTH_WORKER_QUEUES = QUEUES
    heartbeats.record_beat()
    heartbeats.record_dispatch()
    status, report = healthz(client)
    assert status == 503
    assert report["failing"] == ["workers"]
    assert report["checks"]["workers"]["detail"].endswith("queue(s): celery, bulk")


def test_a_queue_nobody_consumes_fails_naming_it(client, db, settings):
    settings.HEALTH_WORKER_QUEUES = QUEUES
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    heartbeats.record_beat()
    heartbeats.record_dispatch()
    heartbeats.record_worker(hostname="w@test", queues=["celery"])
    heartbeats.record_worker(hostname="old@test", queues=["bulk"], at=time.time() - 61)
    status, report = healthz(client)
    assert status == 503
    assert report["checks"]["workers"]["detail"].endswith("queue(s): bulk")


def test_liveness_checks_only_the_process_and_database(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["links.agency.example"]
    # Nothing else is alive: no dispatch, no worker.
    status, report = healthz(client, "/healthz/live")
    assert status == 200
    assert report == {"status": "ok", "failing": [], "checks": {"database": {"status": "ok"}}}


def test_without_redis_it_is_not_configured_not_failing(client, db, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.CACHES = {
        **settings.CACHES,
        heartbeats.CACHE: {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "heartbeats"),
        },
    }
    everything_fresh()
    status, report = healthz(client)
    assert status == 200
    assert report["checks"]["redis"]["status"] == "not configured"


def test_healthcheck_command_exits_1_for_a_silent_worker(db, capsys):
    heartbeats.record_dispatch()
    call_command("healthcheck", "dispatch")
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
    with pytest.raises(SystemExit) as exit_status:
        call_command("healthcheck", "--worker", "gone@nowhere")
    assert exit_status.value.code == 1
    assert json.loads(capsys.readouterr().out)["failing"] == ["worker"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_prefork_worker_beats_from_its_event_loop_too(client, tmp_path, settings):
    # bulk-worker runs prefork, whose consumer timer is the event loop's, not
    # gevent's: the heartbeat must come from there as well.
    settings.HEALTH_WORKER_QUEUES = ["bulk"]
    purge_queue()
    # Beating every second rather than every 15: the test waits for two beats.
    every = fast_heartbeat_settings.HEALTH_WORKER_HEARTBEAT_SECONDS
    worker = Worker(
        "bulk",
        pool="prefork",
        concurrency=1,
        queues="bulk",
        log_dir=tmp_path,
        env={"DJANGO_SETTINGS_MODULE": fast_heartbeat_settings.__name__},
    )
    try:
        worker.wait_ready()
        wait_until(lambda: heartbeats.last_worker_beats(["bulk"])["bulk"], 30, "a bulk heartbeat")
        first = heartbeats.last_worker_beat(f"bulk@{socket.gethostname()}")
        assert first is not None
        # It keeps beating, every HEALTH_WORKER_HEARTBEAT_SECONDS.
        wait_until(
            lambda: heartbeats.last_worker_beat(f"bulk@{socket.gethostname()}") > first,
            every + 10,
            "a second heartbeat",
        )
    finally:
        worker.stop()
        purge_queue()


SETTINGS_QUEUES = """
from django.conf import settings
print(",".join(settings.HEALTH_WORKER_QUEUES))
"""


@pytest.mark.parametrize(
    ("render_enabled", "queues"), [("0", "celery,bulk"), ("1", "celery,bulk,render")]
)
def test_the_render_queue_is_watched_by_default_when_rendering_is_on(render_enabled, queues):
    env = environment({"HEALTH_WORKER_QUEUES": None, "RENDER_ENABLED": render_enabled})
    done = run_python("-c", SETTINGS_QUEUES, env=env)
    assert done.stdout.strip() == queues
