"""/metrics against a seeded PostgreSQL and the suite's Redis, parsed the way
Prometheus parses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import heartbeats
from config.celery import app
from links.models import BacklinkState, Verdict
from outreach.email.models import ScheduledEmail, Sequence
from outreach.models import ImportJob
from tests.factories import (
    BacklinkFactory,
    CampaignFactory,
    EmailTemplateFactory,
    ImportJobFactory,
    LinkCheckFactory,
    MailboxFactory,
    ProspectFactory,
)
from tests.support.workers import purge_queue


@pytest.fixture
def broker():
    purge_queue()
    yield
    purge_queue()


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_HOST="web:8000", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def seed() -> None:
    now = timezone.now()
    campaign = CampaignFactory()
    later = now + timedelta(days=1)
    for state in [BacklinkState.LIVE, BacklinkState.LIVE]:
        BacklinkFactory(campaign=campaign, state=state, next_check_at=later)
    BacklinkFactory(campaign=campaign, state=BacklinkState.LOST, lost_at=now, next_check_at=later)
    BacklinkFactory(campaign=campaign, next_check_at=now - timedelta(minutes=10))
    BacklinkFactory(campaign=campaign, next_check_at=now - timedelta(minutes=2))
    # Overdue but held by a check task: neither due nor lagging.
    BacklinkFactory(
        campaign=campaign,
        next_check_at=now - timedelta(hours=1),
        lease_until=now + timedelta(minutes=5),
    )
    checked = BacklinkFactory(campaign=campaign, state=BacklinkState.ERROR, next_check_at=later)
    for verdict in [Verdict.LIVE, Verdict.LIVE, Verdict.LIVE, Verdict.ERROR]:
        LinkCheckFactory(backlink=checked, verdict=verdict, checked_at=now - timedelta(minutes=5))
    LinkCheckFactory(backlink=checked, verdict=Verdict.MISSING, checked_at=now - timedelta(hours=2))

    prospect = ProspectFactory(campaign=campaign)
    mailbox = MailboxFactory()
    sequence = Sequence.objects.create(
        campaign=campaign,
        prospect=prospect,
        template=EmailTemplateFactory(campaign=campaign, follow_ups=[]),
        mailbox=mailbox,
        domain=prospect.domain,
        to_email="editor@blog.example",
    )
    for step, state in enumerate(["sent", "sent", "failed"]):
        ScheduledEmail.objects.create(
            sequence=sequence,
            mailbox=mailbox,
            step=step,
            to_email="editor@blog.example",
            subject="Hi",
            body="Hi",
            message_id=f"<m{step}.{sequence.pk}@agency.example>",
            state=state,
            due_at=now,
        )
    for state in ["done", "done", "failed", "queued"]:
        ImportJobFactory(campaign=campaign, state=state)


def test_a_scrape_reports_the_seeded_database_and_queues(client, db, broker, settings):
    settings.HEALTH_WORKER_QUEUES = ["celery", "bulk"]
    seed()
    for _ in range(3):
        app.send_task("links.tasks.check_backlinks", args=[[]])
    app.send_task("outreach.tasks.run_import", args=[0])  # routed to bulk
    heartbeats.record_beat()
    heartbeats.record_dispatch()
    heartbeats.record_worker(hostname="w@test", queues=["celery"])

    samples = scrape(client)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("anchorage_link_checks_last_hour", verdict="live") == 3
    assert value("anchorage_link_checks_last_hour", verdict="error") == 1
    assert value("anchorage_link_checks_last_hour", verdict="missing") == 0  # 2 h old
    assert value("anchorage_link_checks_last_hour", verdict="nofollow") == 0
    assert value("anchorage_backlinks_due") == 2
    assert 600 <= value("anchorage_claim_lag_seconds") < 660
    assert value("anchorage_outreach_emails", state="sent") == 2
    assert value("anchorage_outreach_emails", state="failed") == 1
    assert value("anchorage_outreach_emails", state="queued") == 0
    assert value("anchorage_imports", state="done") == 2
    assert value("anchorage_imports", state="failed") == 1
    assert value("anchorage_imports", state="queued") == 1
    assert value("anchorage_redis_up") == 1
    assert value("anchorage_queue_depth", queue="celery") == 3
    assert value("anchorage_queue_depth", queue="bulk") == 1
    assert value("anchorage_queue_unacked") == 0
    assert value("anchorage_beat_age_seconds") < 60
    assert value("anchorage_dispatch_age_seconds") < 60
    assert value("anchorage_worker_heartbeat_age_seconds", queue="celery") < 60
    # No worker on bulk: no sample, so an alert on absent() fires.
    assert ("anchorage_worker_heartbeat_age_seconds", (("queue", "bulk"),)) not in samples


def test_no_backlog_means_no_claim_lag(client, db, broker):
    BacklinkFactory(next_check_at=timezone.now() + timedelta(hours=1))
    samples = scrape(client)
    assert samples[("anchorage_claim_lag_seconds", ())] == 0
    assert samples[("anchorage_backlinks_due", ())] == 0


def test_the_due_count_stops_at_its_cap(client, db, broker, monkeypatch):
    monkeypatch.setattr("config.metrics.DUE_COUNT_CAP", 3)
    for minutes in range(1, 6):
        BacklinkFactory(next_check_at=timezone.now() - timedelta(minutes=minutes))
    samples = scrape(client)
    assert samples[("anchorage_backlinks_due", ())] == 3
    assert samples[("anchorage_claim_lag_seconds", ())] >= 300  # the oldest, beyond the cap


def test_a_scrape_costs_five_queries_whatever_the_data(
    client, db, broker, django_assert_num_queries
):
    seed()
    seed()
    with django_assert_num_queries(5):
        scrape(client)


def test_redis_down_is_reported_not_raised(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    samples = scrape(client)
    assert samples[("anchorage_redis_up", ())] == 0
    assert not any(name == "anchorage_queue_depth" for name, _ in samples)


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {}, True),
        ("203.0.113.5", {}, False),
        # Through a reverse proxy on the same host, every visitor comes from 127.0.0.1.
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, False),
        ("127.0.0.1", {"HTTP_X_REAL_IP": "203.0.113.5"}, False),
        ("203.0.113.5", {"HTTP_AUTHORIZATION": "Bearer s3cret-token"}, True),
        ("203.0.113.5", {"HTTP_AUTHORIZATION": "Bearer wrong"}, False),
        ("172.18.0.4", {}, True),  # in METRICS_ALLOWED_IPS's 172.16.0.0/12
    ],
)
def test_who_may_scrape(client, db, broker, settings, remote, headers, allowed):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "::1", "172.16.0.0/12"]
    settings.METRICS_TOKEN = "s3cret-token"
    response = client.get("/metrics", REMOTE_ADDR=remote, **headers)
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        assert b"anchorage_claim_lag_seconds" in response.content


def test_without_a_token_setting_no_bearer_gets_in(client, db, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_import_job_states_are_all_reported(client, db, broker):
    samples = scrape(client)
    for state in ImportJob.State.values:
        assert samples[("anchorage_imports", (("state", state),))] == 0
