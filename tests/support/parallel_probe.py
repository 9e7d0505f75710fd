"""Run by tests/test_parallel_isolation.py in a pytest of its own with
``-n 2 --dist each``: every xdist worker writes down what it would use (its
test database's name, its Redis database, what Celery and a worker process it
starts would get). Not collected by the suite (the name does not match
``test_*.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app


def test_report_what_this_worker_uses(django_db_modify_db_settings):
    # The probe reads settings only: creating two more test databases would
    # cost a migration each, and pytest-django names them before creating them.
    from tests.support.workers import worker_environment

    worker = os.environ["PYTEST_XDIST_WORKER"]
    started_with = worker_environment()
    report = {
        "worker": worker,
        "test_database": connection.creation._get_test_db_name(),
        "redis_url": settings.REDIS_URL,
        "environ_redis_url": os.environ["REDIS_URL"],
        "celery_broker": app.conf.broker_url,
        "heartbeat_cache": settings.CACHES["heartbeats"]["LOCATION"],
        "throttle_cache": settings.CACHES["api_throttle"]["LOCATION"],
        "worker_process_redis_url": started_with["REDIS_URL"],
    }
    out = Path(os.environ["PARALLEL_PROBE_DIR"]) / f"{worker}.json"
    out.write_text(json.dumps(report))
