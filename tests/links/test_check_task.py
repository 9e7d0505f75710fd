"""The check task records finished checks in groups, and loses none of them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from links import services, tasks
from links.dispatch import claim
from links.models import Backlink, BacklinkState, LinkCheck
from links.outcome import CheckOutcome
from links.verification.pool import HostBusy
from tests.factories import BacklinkFactory, CampaignFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the task closes its connection

LIVE = CheckOutcome(
    verdict="live",
    http_status=200,
    anchors=[{"href": "https://ours.example/", "text": "our guide", "rel": "", "dofollow": True}],
    page_hash="a" * 64,
)


def claimed(backlinks: list[Backlink]) -> list[list[object]]:
    return [c.to_json() for c in claim([b.pk for b in backlinks])]


def given_outcomes(monkeypatch, outcomes, *, then: Exception | None = None) -> None:
    """The verifier's part is tested against real pages elsewhere; here the task
    gets these outcomes, in this order, as if its checks had just finished."""

    def check_many(due):
        ids = {b.pk for b in due}
        for backlink_id, outcome in outcomes:
            assert backlink_id in ids
            yield backlink_id, outcome
        if then is not None:
            raise then

    monkeypatch.setattr(services, "check_many", check_many)


def test_a_batch_against_real_pages_is_recorded_in_groups(site, settings, monkeypatch):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr(services, "RECORD_GROUP_WAIT_SECONDS", 600)  # groups by size only
    monkeypatch.setattr(services, "RECORD_GROUP_SIZE", 10)
    campaign = CampaignFactory(site="ours.example")
    page = site.page("/post", '<p><a href="https://ours.example/">our guide</a></p>')
    backlinks = [
        BacklinkFactory(
            campaign=campaign, source_url=f"{page}?n={n}", target_url="https://ours.example/"
        )
        for n in range(23)
    ]

    with CaptureQueriesContext(connection) as queries:
        assert tasks.check_backlinks(claimed(backlinks)) == 23

    inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "links_linkcheck"')
    ]
    assert len(inserts) == 3  # 10 + 10 + 3
    assert LinkCheck.objects.filter(verdict="live").count() == 23
    assert set(Backlink.objects.values_list("state", flat=True)) == {BacklinkState.LIVE}


def test_checks_finished_before_a_busy_host_stops_the_batch_are_recorded(monkeypatch):
    backlinks = BacklinkFactory.create_batch(5)
    payload = claimed(backlinks)
    given_outcomes(
        monkeypatch,
        [(b.pk, LIVE) for b in backlinks[:3]],
        then=HostBusy("busy.example: 2 in flight"),
    )

    assert tasks.check_backlinks(payload) == 3

    assert LinkCheck.objects.count() == 3
    # The other two stay claimed: the dispatcher hands them out when the lease ends.
    for backlink, lease in zip(backlinks[3:], payload[3:], strict=True):
        backlink.refresh_from_db()
        assert backlink.lease_until.isoformat() == lease[1]
        assert backlink.last_checked_at is None


def test_one_result_the_database_refuses_costs_only_itself(monkeypatch):
    backlinks = BacklinkFactory.create_batch(4)
    payload = claimed(backlinks)
    # A page hash longer than its column: the group's INSERT fails as a whole.
    refused = CheckOutcome(verdict="live", anchors=LIVE.anchors, page_hash="f" * 65)
    given_outcomes(
        monkeypatch, [(b.pk, refused if n == 1 else LIVE) for n, b in enumerate(backlinks)]
    )

    assert tasks.check_backlinks(payload) == 3

    recorded = set(LinkCheck.objects.values_list("backlink_id", flat=True))
    assert recorded == {b.pk for n, b in enumerate(backlinks) if n != 1}
    backlinks[1].refresh_from_db()
    assert backlinks[1].lease_until.isoformat() == payload[1][1]  # still claimed


def test_a_redelivered_batch_records_nothing_twice(monkeypatch):
    backlinks = BacklinkFactory.create_batch(3)
    payload = claimed(backlinks)
    given_outcomes(monkeypatch, [(b.pk, LIVE) for b in backlinks])
    assert tasks.check_backlinks(payload) == 3

    given_outcomes(monkeypatch, [])  # none is due any more, so none is checked
    assert tasks.check_backlinks(payload) == 0
    assert LinkCheck.objects.count() == 3
