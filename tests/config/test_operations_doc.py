"""docs/operations.md explains every /healthz check and every metric /metrics emits."""

from __future__ import annotations

from pathlib import Path

from django.core.cache import caches
from prometheus_client.parser import text_string_to_metric_families

from config import health, heartbeats

DOC = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()


def test_every_health_check_has_a_row_in_the_failure_table():
    for name in health.CHECKS:
        assert f"| `{name}`" in DOC, name


def test_every_metric_is_documented(client, db):
    caches[heartbeats.CACHE].clear()
    heartbeats.record_beat()
    heartbeats.record_dispatch()
    heartbeats.record_worker(hostname="w@test", queues=["celery", "bulk"])
    response = client.get("/metrics")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert len(names) == 11
    for name in names:
        assert f"`{name}`" in DOC, name


def test_the_rotation_command_and_healthcheck_commands_are_the_real_ones():
    assert "python manage.py rotate_encryption_key" in DOC
    assert "python manage.py healthcheck --worker celery@$$HOSTNAME" in DOC
    assert "/healthz/live" in DOC
