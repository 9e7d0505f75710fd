"""The suite runs under pytest-xdist (scripts/run-tests.sh): each worker process
must have a test database and a Redis database of its own, and so must every
process a test starts, or one worker's FLUSHDB, queue purge or truncation would
pull the ground from under another's test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from config.celery import app
from tests.conftest import MAX_WORKERS, worker_redis_url
from tests.support.workers import ROOT, worker_environment


def redis_db(url: str) -> int:
    return int(urlsplit(url).path.lstrip("/") or 0)


def test_each_worker_gets_the_next_redis_database():
    base = "redis://127.0.0.1:6379/0"
    assert worker_redis_url(base, None) == base
    assert worker_redis_url(base, "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url(base, "gw3") == "redis://127.0.0.1:6379/4"
    with pytest.raises(pytest.UsageError):
        worker_redis_url(base, f"gw{MAX_WORKERS}")


@pytest.mark.django_db
def test_this_process_and_what_it_starts_use_this_workers_databases():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    db = redis_db(settings.REDIS_URL)
    name = connection.settings_dict["NAME"]
    if worker:
        index = int(worker.removeprefix("gw"))
        assert db == index + 1
        assert name.endswith(f"_{worker}")
    else:
        assert db == redis_db(os.environ["REDIS_URL"])
        assert not name.endswith(tuple(f"_gw{i}" for i in range(MAX_WORKERS)))
    assert redis_db(os.environ["REDIS_URL"]) == db
    assert redis_db(app.conf.broker_url) == db
    with app.connection_for_write() as broker:
        assert broker.virtual_host in (str(db), db)

    # The heartbeat cache really writes to this database, not to another.
    key = f"isolation-probe-{uuid.uuid4().hex}"
    caches["heartbeats"].set(key, 1, 30)
    try:
        own = redis.Redis.from_url(settings.REDIS_URL)
        assert list(own.scan_iter(f"*{key}")), "the cache wrote elsewhere"
        if worker:
            serial = urlsplit(settings.REDIS_URL)._replace(path="/0").geturl()
            other = redis.Redis.from_url(serial)
            assert not list(other.scan_iter(f"*{key}"))
    finally:
        caches["heartbeats"].delete(key)

    # A worker process (tests/support/workers.py) reads the same two databases.
    env = worker_environment()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup();"
            "print(settings.REDIS_URL); print(settings.DATABASES['default']['NAME'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == [settings.REDIS_URL, name]


def test_two_workers_never_share_a_database(tmp_path: Path):
    """A pytest of its own, two workers, each reporting what it uses
    (tests/support/parallel_probe.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PARALLEL_PROBE_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "each",
            "-p",
            "no:cacheprovider",
            "-q",
            "--basetemp",
            str(tmp_path / "basetemp"),
            "tests/support/parallel_probe.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    reports = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("gw*.json")}
    assert sorted(reports) == ["gw0", "gw1"]
    for worker, report in reports.items():
        expected = int(worker.removeprefix("gw")) + 1
        for what in (
            "redis_url",
            "environ_redis_url",
            "celery_broker",
            "heartbeat_cache",
            "throttle_cache",
            "worker_process_redis_url",
        ):
            assert redis_db(report[what]) == expected, (worker, what, report)
        assert report["test_database"].endswith(f"_{worker}"), report
    assert reports["gw0"]["test_database"] != reports["gw1"]["test_database"]
