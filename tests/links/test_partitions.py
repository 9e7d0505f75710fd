"""The check table's monthly partitions (links/0015, links.partitions): checks
land in their month, the live_changed trigger sees across months, and dropping
an old month leaves the charts and counts right for the months kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.models import Campaign
from links import history, partitions
from links.models import CheckSummary, LinkCheck, Verdict
from tests.factories import BacklinkFactory, CampaignFactory, LinkCheckFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="partitions are PostgreSQL's"
)


def where(check: LinkCheck) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM links_linkcheck WHERE id = %s", [check.pk]
        )
        return cursor.fetchone()[0]


def flags(backlink) -> list[tuple[str, str, bool]]:
    return [
        (f"{c.checked_at:%m-%d %H:%M}", c.verdict, c.live_changed)
        for c in LinkCheck.objects.filter(backlink=backlink).order_by("checked_at", "pk")
    ]


def test_the_table_is_partitioned_with_months_ahead(db):
    assert partitions.is_partitioned()
    this_month = partitions.month_of(timezone.now())
    made = partitions.months()
    assert {partitions.add_months(this_month, n) for n in range(4)} <= set(made)


def test_inserts_land_in_their_months_partition(db):
    now = timezone.now()
    this_month = partitions.month_of(now)
    backlink = BacklinkFactory()

    current = LinkCheckFactory(backlink=backlink, checked_at=now)
    assert where(current) == partitions.partition_name(this_month)

    # Months with no partition yet go to the default one, until the task
    # gives them theirs, moving the rows in.
    last_of_jan = LinkCheckFactory(
        backlink=backlink, checked_at=datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)
    )
    first_of_feb = LinkCheckFactory(backlink=backlink, checked_at=datetime(2025, 2, 1, tzinfo=UTC))
    assert where(last_of_jan) == where(first_of_feb) == partitions.DEFAULT

    created = partitions.ensure(now, ahead=3)

    assert date(2025, 1, 1) in created
    assert date(2025, 2, 1) in created
    assert where(last_of_jan) == "links_linkcheck_p2025_01"
    assert where(first_of_feb) == "links_linkcheck_p2025_02"
    assert partitions.months_in_default() == []
    assert LinkCheck.objects.filter(backlink=backlink).count() == 3
    # Nothing left to create.
    assert partitions.ensure(now, ahead=3) == []


def test_the_trigger_works_across_a_month_boundary(db):
    for month in (date(2025, 1, 1), date(2025, 2, 1)):
        partitions.create_month(month)
    backlink = BacklinkFactory()
    jan31 = datetime(2025, 1, 31, 22, tzinfo=UTC)
    LinkCheckFactory(backlink=backlink, checked_at=jan31, verdict=Verdict.LIVE)
    LinkCheckFactory(
        backlink=backlink, checked_at=jan31 + timedelta(days=2), verdict=Verdict.MISSING
    )
    assert flags(backlink) == [("01-31 22:00", "live", True), ("02-02 22:00", "missing", True)]

    # Recorded late, in February, after January's live check: it is the loss,
    # and the check after it no longer is.
    LinkCheckFactory(
        backlink=backlink, checked_at=jan31 + timedelta(hours=3), verdict=Verdict.MISSING
    )

    assert flags(backlink) == [
        ("01-31 22:00", "live", True),
        ("02-01 01:00", "missing", True),
        ("02-02 22:00", "missing", False),
    ]


def test_dropping_an_old_month_leaves_the_charts_right_for_the_kept_range(db):
    """December 2024 is dropped; January 2025 is charted before and after."""
    for month in (date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)):
        partitions.create_month(month)
    campaign = CampaignFactory()
    dec = datetime(2024, 12, 10, 12, tzinfo=UTC)
    # Live since December, missing from 15 January.
    a = BacklinkFactory(campaign=campaign)
    for n in range(3):
        LinkCheckFactory(backlink=a, checked_at=dec + timedelta(days=7 * n))
    LinkCheckFactory(backlink=a, checked_at=datetime(2025, 1, 15, tzinfo=UTC), verdict="missing")
    # Live in December only, missing since (its loss is in December too).
    b = BacklinkFactory(campaign=campaign)
    LinkCheckFactory(backlink=b, checked_at=dec)
    LinkCheckFactory(backlink=b, checked_at=dec + timedelta(days=5), verdict="missing")
    LinkCheckFactory(backlink=b, checked_at=datetime(2025, 1, 8, tzinfo=UTC), verdict="missing")
    # Live from December, and again in January (no transition in January).
    c = BacklinkFactory(campaign=campaign)
    LinkCheckFactory(backlink=c, checked_at=dec)
    LinkCheckFactory(backlink=c, checked_at=datetime(2025, 1, 20, tzinfo=UTC))
    period = Period(start=date(2025, 1, 6), end=date(2025, 2, 2))
    only = Campaign.objects.filter(pk=campaign.pk)
    expected = [2, 1, 1, 1]  # a and c, then c alone from the week of the 13th
    assert charts.live_backlinks_over_time(only, period).series[0].values == expected

    dropped = partitions.apply_retention(datetime(2025, 2, 10, tzinfo=UTC), retention_months=1)

    assert [(d.month, d.checks) for d in dropped] == [(date(2024, 12, 1), 6)]
    assert date(2024, 12, 1) not in partitions.months()
    assert charts.live_backlinks_over_time(only, period).series[0].values == expected
    # The dropped checks are counted on one retained row per backlink.
    retained = {
        s.backlink_id: (s.count, s.verdict, s.live_delta)
        for s in CheckSummary.objects.filter(period_kind="retained")
    }
    assert retained == {a.pk: (3, "live", 1), b.pk: (2, "missing", 0), c.pk: (1, "live", 1)}
    assert [history.check_count(x) for x in (a, b, c)] == [4, 3, 2]


def test_a_dropped_month_takes_its_folded_summaries_into_the_retained_count(db):
    for month in (date(2024, 12, 1), date(2025, 1, 1)):
        partitions.create_month(month)
    backlink = BacklinkFactory()
    start = datetime(2024, 12, 2, 12, tzinfo=UTC)
    for n in range(40):  # daily, 2 December to 10 January
        LinkCheckFactory(backlink=backlink, checked_at=start + timedelta(days=n))
    history.fold_all(now=datetime(2025, 6, 1, tzinfo=UTC), keep_last=2, period="week")
    assert history.check_count(backlink) == 40

    partitions.drop_before(date(2025, 1, 1))

    assert history.check_count(backlink) == 40
    assert CheckSummary.objects.filter(
        backlink=backlink,
        period_kind="retained",
        last_checked_at__lt=datetime(2025, 1, 1, tzinfo=UTC),
    ).exists()
    assert not LinkCheck.objects.filter(checked_at__lt=datetime(2025, 1, 1, tzinfo=UTC)).exists()
