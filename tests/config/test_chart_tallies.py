"""The per-day counts behind the dashboard's charts (config.tallies): whatever is
done to backlinks, checks, summaries, prospects and activities, the tally
tables add up to what counting the rows gives, before and after compaction."""

from __future__ import annotations

import importlib
import io
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.models import Campaign, TallyTimeZone
from campaigns.tasks import compact_tallies
from config import tallies
from links import partitions
from links.models import (
    Alert,
    Backlink,
    BacklinkState,
    CheckSummary,
    LinkCheck,
    LinkKind,
    Placement,
    Verdict,
)
from outreach.models import PIPELINE, Kind, OutreachActivity, Prospect, Status, StatusChange
from tests.factories import (
    ActivityFactory,
    BacklinkFactory,
    CampaignFactory,
    LinkCheckFactory,
    ProspectFactory,
    UserFactory,
)

# The charts' tallies, and the campaign page's (counts per status and state).
CHART_TALLIES = (
    tallies.PROSPECT_STATUSES,
    tallies.BACKLINK_STATES,
    tallies.BACKLINK_DAYS,
    tallies.REFERRING_DOMAIN_DAYS,
    tallies.ANCHOR_DAYS,
    tallies.LIVE_CHECKS,
    tallies.LIVE_SUMMARIES,
    tallies.ALERT_DAYS,
    tallies.PROSPECT_DAYS,
    tallies.ACTIVITY_DAYS,
    tallies.ACTIVITY_WEEKS,
)


def _nonzero(rows: list[tuple]) -> dict[tuple, tuple]:
    """(campaign, keys...) -> sums, leaving out groups that add up to nothing."""
    return {tuple(row[:-n]): tuple(row[-n:]) for row, n in rows if any(row[-n:])}


def kept(tally: tallies.Tally) -> dict[tuple, tuple]:
    groups = ", ".join(["campaign_id", *tally.key_columns])
    sums = ", ".join(f"SUM({c})" for c in tally.columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {groups}, {sums} FROM {tally.table} GROUP BY {groups}")  # noqa: S608
        return _nonzero([(row, len(tally.columns)) for row in cursor.fetchall()])


def counted(tally: tallies.Tally) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(tally.recount(connection.vendor))
        return _nonzero([(row, len(tally.columns)) for row in cursor.fetchall()])


def assert_every_tally_counts_the_rows() -> None:
    for tally in CHART_TALLIES:
        assert kept(tally) == counted(tally), tally.table


def test_the_boilerplate_placements_are_the_charts():
    assert set(tallies.BOILERPLATE_PLACEMENTS) == {p.value for p in charts.BOILERPLATE_PLACEMENTS}


def test_chart_counts_follow_every_kind_of_write(db):
    ours, theirs = CampaignFactory(), CampaignFactory()
    member, other = UserFactory(), UserFactory()
    day = datetime(2025, 3, 3, 12, tzinfo=UTC)

    # Backlinks: saved, updated by queryset, bulk-created, moved, deleted.
    links = [
        BacklinkFactory(
            campaign=ours,
            won_on=date(2025, 3, n + 1),
            state=state,
            link_rel=rel,
            link_kind=LinkKind.TEXT,
            placement=Placement.CONTENT,
            quality=40 + n,
        )
        for n, (state, rel) in enumerate(
            [
                (BacklinkState.LIVE, ""),
                (BacklinkState.NOFOLLOW, "nofollow"),
                (BacklinkState.NOFOLLOW, "sponsored ugc"),
                (BacklinkState.NOFOLLOW, "ugc"),
                (BacklinkState.PENDING, ""),
            ]
        )
    ]
    Backlink.objects.filter(pk=links[0].pk).update(
        placement=Placement.FOOTER, link_kind=LinkKind.IMAGE, quality=None
    )
    links[1].state, links[1].lost_at = BacklinkState.LOST, timezone.now()
    links[1].save()
    Backlink.objects.filter(pk=links[2].pk).update(won_on=date(2025, 4, 1), expected_dofollow=False)
    Backlink.objects.filter(pk=links[4].pk).update(expected_anchor_text="  Running Shoes ")
    Backlink.objects.bulk_create(
        Backlink(
            campaign=theirs,
            source_url=f"https://bulk{n}.example/",
            source_url_key=f"bulk{n}.example",
            target_url=f"https://{theirs.site}/",
            target_url_key=theirs.site,
            won_on=date(2025, 3, 9),
        )
        for n in range(3)
    )

    # Checks: in order, late (which re-decides the next check), and an error.
    watched = links[4]
    LinkCheckFactory(backlink=watched, checked_at=day, verdict=Verdict.LIVE)
    LinkCheckFactory(backlink=watched, checked_at=day + timedelta(days=7), verdict=Verdict.MISSING)
    LinkCheckFactory(backlink=watched, checked_at=day + timedelta(days=3), verdict=Verdict.MISSING)
    LinkCheckFactory(backlink=watched, checked_at=day + timedelta(days=9), verdict=Verdict.ERROR)
    LinkCheckFactory(backlink=links[3], checked_at=day, verdict=Verdict.LIVE)
    # A summary carrying folded transitions, then changed.
    summary = CheckSummary.objects.create(
        backlink=links[3],
        period_kind=CheckSummary.PeriodKind.MONTH,
        period_start=date(2025, 1, 1),
        count=3,
        first_checked_at=day - timedelta(days=60),
        last_checked_at=day - timedelta(days=50),
        verdict=Verdict.LIVE,
        live_delta=1,
    )
    CheckSummary.objects.filter(pk=summary.pk).update(live_delta=-1)
    # A backlink with its checks moved to the other campaign; one deleted.
    Backlink.objects.filter(pk=links[3].pk).update(campaign=theirs)
    LinkCheck.objects.filter(backlink=watched, verdict=Verdict.ERROR).delete()
    links[0].delete()

    # Alerts: the three the chart counts and one it does not, one re-dated, one
    # turned into another kind, one moved, one deleted.
    alerts = [
        Alert.objects.create(
            campaign=ours, backlink=links[2], kind=kind, message=kind, created_at=day
        )
        for kind in ("lost", "nofollow", "recovered", "unreachable")
    ]
    Alert.objects.filter(pk=alerts[0].pk).update(created_at=day + timedelta(days=8))
    Alert.objects.filter(pk=alerts[3].pk).update(kind="lost")
    Alert.objects.filter(pk=alerts[1].pk).update(campaign=theirs)
    Alert.objects.filter(pk=alerts[2].pk).update(read_at=day)
    alerts[2].delete()

    # Prospects and their activities: kinds, won, moved, deleted; a deleted member.
    prospects = [
        ProspectFactory(campaign=ours, kind=kind, created_at=day + timedelta(hours=n))
        for n, kind in enumerate([Kind.BLOGGER, Kind.GUEST_POST, Kind.HARO])
    ]
    Prospect.objects.filter(pk=prospects[0].pk).update(status=Status.WON)
    Prospect.objects.filter(pk=prospects[1].pk).update(kind=Kind.BROKEN_LINK)
    for n, prospect in enumerate(prospects):
        ActivityFactory(prospect=prospect, user=member, occurred_at=day + timedelta(days=n))
        ActivityFactory(prospect=prospect, user=other, occurred_at=day + timedelta(days=n))
    OutreachActivity.objects.filter(prospect=prospects[2]).update(occurred_at=day)
    Prospect.objects.filter(pk=prospects[1].pk).update(campaign=theirs)
    other.delete()
    prospects[2].delete()

    assert_every_tally_counts_the_rows()
    compact_tallies()
    assert_every_tally_counts_the_rows()
    # After compaction, one row per campaign and key.
    for tally in CHART_TALLIES:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {tally.table}")  # noqa: S608
            assert cursor.fetchone()[0] == len(counted(tally)), tally.table


def test_an_unrelated_update_writes_no_chart_row(db):
    backlink = BacklinkFactory(state=BacklinkState.LIVE)
    check = LinkCheckFactory(backlink=backlink)
    ActivityFactory(prospect=ProspectFactory(campaign=backlink.campaign))
    Alert.objects.create(campaign=backlink.campaign, backlink=backlink, kind="lost", message="-")
    before = _rows()
    Backlink.objects.update(next_check_at=timezone.now(), lease_until=timezone.now())
    LinkCheck.objects.filter(pk=check.pk).update(duration_ms=5, snippet="seen")
    Prospect.objects.update(notes="called")
    OutreachActivity.objects.update(summary="Pitched again")
    Alert.objects.update(read_at=timezone.now(), mailed_at=timezone.now())
    assert _rows() == before


def _rows() -> list[int]:
    counts = []
    with connection.cursor() as cursor:
        for tally in CHART_TALLIES:
            cursor.execute(f"SELECT COUNT(*) FROM {tally.table}")  # noqa: S608
            counts.append(cursor.fetchone()[0])
    return counts


def test_a_changed_time_zone_is_counted_again_by_the_compaction(db, settings):
    # 23:30 UTC on a Sunday is Monday in Berlin.
    ProspectFactory(created_at=datetime(2025, 1, 12, 23, 30, tzinfo=UTC))
    assert set(counted(tallies.PROSPECT_DAYS)) == {
        (Campaign.objects.get().pk, date(2025, 1, 12), Kind.BLOGGER)
    }
    settings.TIME_ZONE = "Europe/Berlin"
    compact_tallies()
    assert TallyTimeZone.objects.get().name == "Europe/Berlin"
    assert {key[1] for key in kept(tallies.PROSPECT_DAYS)} == {date(2025, 1, 13)}
    # Writers from now on count in the new zone too.
    ProspectFactory(created_at=datetime(2025, 2, 2, 23, 30, tzinfo=UTC))
    assert date(2025, 2, 3) in {key[1] for key in kept(tallies.PROSPECT_DAYS)}
    assert_every_tally_counts_the_rows()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
def test_dropping_a_month_leaves_the_live_chart_as_it_was(db):
    campaign = CampaignFactory()
    backlink = BacklinkFactory(campaign=campaign)
    partitions.ensure(datetime(2024, 1, 1, tzinfo=UTC), ahead=3)
    # Live from January (+1 that month), missing from 20 March (-1).
    LinkCheckFactory(backlink=backlink, checked_at=datetime(2024, 1, 10, tzinfo=UTC))
    LinkCheckFactory(backlink=backlink, checked_at=datetime(2024, 2, 10, tzinfo=UTC))
    LinkCheckFactory(
        backlink=backlink, checked_at=datetime(2024, 3, 20, tzinfo=UTC), verdict=Verdict.MISSING
    )
    period = Period(date(2024, 3, 4), date(2024, 3, 31))
    only = Campaign.objects.filter(pk=campaign.pk)
    before = charts.live_backlinks_over_time(only, period).series[0].values
    assert before == [1, 1, 0, 0]

    partitions.drop_before(date(2024, 3, 1))

    assert charts.live_backlinks_over_time(only, period).series[0].values == before
    assert_every_tally_counts_the_rows()


def test_a_links_cost_follows_its_prospects_fee(db):
    campaign = CampaignFactory()
    prospect = ProspectFactory(campaign=campaign, kind=Kind.GUEST_POST, fee=Decimal("150.00"))
    paid = BacklinkFactory(campaign=campaign, prospect=prospect, won_on=date(2025, 3, 3))
    stale = Backlink.objects.get(pk=paid.pk)
    recorded = BacklinkFactory(
        campaign=campaign, prospect=prospect, cost=Decimal("90.00"), won_on=date(2025, 3, 4)
    )
    period = Period(date(2025, 3, 1), date(2025, 3, 31))
    only = Campaign.objects.filter(pk=campaign.pk)

    def cost() -> Decimal:
        return charts.cost_per_link(only, period).extra["cost"]

    assert cost() == Decimal("240.00")  # the fee, and the recorded cost alone
    Prospect.objects.filter(pk=prospect.pk).update(fee=Decimal("200.00"))
    assert cost() == Decimal("290.00")
    stale.save()  # loaded before the new fee: the database copies it again
    assert Backlink.objects.get(pk=paid.pk).prospect_fee == Decimal("200.00")
    assert cost() == Decimal("290.00")
    Backlink.objects.filter(pk=recorded.pk).update(cost=None)
    assert cost() == Decimal("400.00")
    prospect.delete()  # the links stay, without a prospect or its fee
    assert cost() == Decimal("0.00")
    assert_every_tally_counts_the_rows()


def test_rebuild_counts_derives_the_steps_fees_and_first_links_again(db):
    campaign = CampaignFactory()
    prospect = ProspectFactory(campaign=campaign, kind=Kind.GUEST_POST, fee=Decimal("80.00"))
    for before, status in [("", Status.NEW), (Status.NEW, Status.REPLIED)]:
        StatusChange.objects.create(prospect=prospect, from_status=before, to_status=status)
    backlink = BacklinkFactory(campaign=campaign, prospect=prospect)
    # Writes no trigger sees: the reply deleted from the history, a fee
    # overwritten, first-link flags cleared.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        StatusChange.objects.filter(to_status=Status.REPLIED).delete()
        Backlink.objects.filter(pk=backlink.pk).update(
            prospect_fee=Decimal("999.00"), first_of_site=False, first_of_site_overall=False
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert Prospect.objects.get(pk=prospect.pk).furthest_step == PIPELINE.index(Status.REPLIED)

    call_command("rebuild_counts", stdout=io.StringIO())

    assert Prospect.objects.get(pk=prospect.pk).furthest_step == PIPELINE.index(Status.NEW)
    assert Backlink.objects.get(pk=backlink.pk).prospect_fee == Decimal("80.00")
    assert flagged() == flagged(overall=True) == {backlink.pk}
    only = Campaign.objects.filter(pk=campaign.pk)
    assert charts.pipeline_funnel(only, Period.last_days(7)).series[0].values == [1] + [0] * 6
    assert_every_tally_counts_the_rows()


def while_open(first: Callable[[], object], second: Callable[[], object]) -> None:
    """Run ``second`` on its own connection while ``first`` has run in a
    transaction that stays open for a second more, then let both finish."""
    first_done, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def in_thread(work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def held() -> None:
        with transaction.atomic():
            first()
            first_done.set()
            release.wait(30)

    holder = threading.Thread(target=in_thread, args=(held,))
    holder.start()
    assert first_done.wait(30)
    waiter = threading.Thread(target=in_thread, args=(second,))
    waiter.start()
    waiter.join(1)  # it is waiting on the open transaction
    release.set()
    holder.join(30)
    waiter.join(30)
    assert not errors


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_waits_for_another_to_finish_and_counts_once():
    """The second rebuild starts while the first holds its transaction open.
    Without the lock between them, its DELETE would wait on the first one's
    rows, skip the rows the first one then commits, and add its own sums
    beside them: every count twice."""
    campaign = CampaignFactory()
    BacklinkFactory.create_batch(3, campaign=campaign, won_on=date(2025, 3, 3))

    while_open(tallies.BACKLINK_DAYS.rebuild, tallies.BACKLINK_DAYS.rebuild)

    assert kept(tallies.BACKLINK_DAYS)[(campaign.pk, date(2025, 3, 3))][0] == 3
    assert kept(tallies.BACKLINK_DAYS) == counted(tallies.BACKLINK_DAYS)


@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_a_sites_links_leave_one_first_link():
    """The second link is added while the first one's transaction is open.
    Without the lock between them, neither sees the other's link and both keep
    their flags: the site counted twice."""
    campaign = CampaignFactory()

    def adding(won_on: date) -> Callable[[], object]:
        return lambda: BacklinkFactory(
            campaign=campaign, source_url=f"https://blog.example/{won_on}", won_on=won_on
        )

    while_open(adding(date(2025, 3, 1)), adding(date(2025, 3, 5)))

    assert len(flagged()) == len(flagged(overall=True)) == 1
    assert_first_links_flagged()
    assert_every_tally_counts_the_rows()


@pytest.mark.django_db(transaction=True)
def test_two_transactions_moving_a_sites_links_into_one_campaign_leave_one_first_link():
    """Each link is its site's first in its own campaign; the second move runs
    while the first one's transaction is open. The campaign's flag is decided on
    an UPDATE before the any-campaign one: without the lock before the UPDATE,
    neither move sees the other and the campaign keeps two first links."""
    ours, theirs, others = CampaignFactory(), CampaignFactory(), CampaignFactory()
    moved = [
        BacklinkFactory(campaign=campaign, source_url=f"https://blog.example/{n}", won_on=day)
        for n, (campaign, day) in enumerate(
            [(theirs, date(2025, 3, 1)), (others, date(2025, 3, 5))]
        )
    ]

    def moving(backlink: Backlink) -> Callable[[], object]:
        return lambda: Backlink.objects.filter(pk=backlink.pk).update(campaign=ours)

    while_open(moving(moved[0]), moving(moved[1]))

    assert set(Backlink.objects.filter(first_of_site=True).values_list("pk", flat=True)) == {
        moved[0].pk
    }
    assert_first_links_flagged()
    assert_every_tally_counts_the_rows()


def test_a_member_whose_activities_moved_away_is_not_charted(db):
    ours, theirs = CampaignFactory(), CampaignFactory()
    member = UserFactory(username="moved")
    prospect = ProspectFactory(campaign=ours)
    ActivityFactory(prospect=prospect, user=member, occurred_at=timezone.now())
    Prospect.objects.filter(pk=prospect.pk).update(campaign=theirs)
    chart = charts.outreach_activity_per_member(
        Campaign.objects.filter(pk=ours.pk), Period.last_days(7)
    )
    assert chart.series == []


def first_of_site_expected(*, overall: bool = False) -> set[int]:
    """Each campaign's first link from each site (``overall``: each site's
    first link in any campaign), computed here from the rows."""
    firsts: dict[tuple[int | None, str], tuple[date, int]] = {}
    for pk, campaign, domain, won_on in Backlink.objects.values_list(
        "pk", "campaign", "source_domain", "won_on"
    ):
        key = (None if overall else campaign, domain)
        firsts[key] = min(firsts.get(key, (won_on, pk)), (won_on, pk))
    return {pk for _won_on, pk in firsts.values()}


def flagged(*, overall: bool = False) -> set[int]:
    flag = "first_of_site_overall" if overall else "first_of_site"
    return set(Backlink.objects.filter(**{flag: True}).values_list("pk", flat=True))


def assert_first_links_flagged() -> None:
    assert flagged() == first_of_site_expected()
    assert flagged(overall=True) == first_of_site_expected(overall=True)


def test_the_upgrade_flags_each_sites_first_link_in_any_campaign(db):
    # links/0024 sets the new column's flags in one pass, not by the
    # derivation's correlated form: the same links.
    upgrade = importlib.import_module("links.migrations.0024_first_of_site_overall")
    ours, theirs = CampaignFactory(), CampaignFactory()
    for campaign, url, day in [
        (ours, "https://a.example/1", 9),
        (theirs, "https://a.example/2", 3),
        (theirs, "https://m.a.example/3", 3),
        (ours, "https://b.example/", 5),
        (theirs, "https://c.example/", 7),
    ]:
        BacklinkFactory(campaign=campaign, source_url=url, won_on=date(2025, 4, day))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE links_backlink SET first_of_site_overall = FALSE")
        cursor.execute(upgrade.POSTGRESQL_BACKFILL)
        cursor.execute("SET LOCAL session_replication_role = origin")

    assert len(flagged(overall=True)) == 3
    assert flagged(overall=True) == first_of_site_expected(overall=True)


def test_first_links_from_a_site_are_flagged_whatever_writes(db):
    # Per campaign (first_of_site) and in any campaign (first_of_site_overall).
    ours, theirs = CampaignFactory(), CampaignFactory()

    def link(campaign, path: str, won_on: date) -> Backlink:
        return BacklinkFactory(
            campaign=campaign, source_url=f"https://blog.example/{path}", won_on=won_on
        )

    early = link(ours, "a", date(2025, 3, 1))
    late = link(ours, "b", date(2025, 3, 9))
    link(theirs, "a", date(2025, 3, 5))  # another campaign's first of the same site
    same_day = link(ours, "c", date(2025, 3, 1))  # same day: the lower id stays first
    assert_first_links_flagged()
    assert early.pk in flagged()
    assert flagged(overall=True) == {early.pk}
    assert late.pk not in flagged()

    stale = Backlink.objects.get(pk=late.pk)
    Backlink.objects.filter(pk=late.pk).update(won_on=date(2025, 2, 1))
    assert_first_links_flagged()
    assert late.pk in flagged()
    assert flagged(overall=True) == {late.pk}
    stale.save()  # a copy from before: its won_on and flags are the old ones
    assert_first_links_flagged()
    assert early.pk in flagged()
    assert flagged(overall=True) == {early.pk}
    Backlink.objects.filter(pk=early.pk).delete()
    assert flagged(overall=True) == {same_day.pk}
    Backlink.objects.filter(pk=late.pk).update(campaign=theirs)
    Backlink.objects.filter(pk=same_day.pk).update(source_domain="other.example")
    assert_first_links_flagged()
    assert same_day.pk in flagged(overall=True)
    Backlink.objects.bulk_create(
        Backlink(
            campaign=ours,
            source_url=f"https://blog.example/bulk{n}",
            source_url_key=f"blog.example/bulk{n}",
            source_domain="blog.example",
            target_url=f"https://{ours.site}/",
            target_url_key=ours.site,
            won_on=date(2025, 1, n + 1),
        )
        for n in range(3)
    )
    assert_first_links_flagged()
    assert_every_tally_counts_the_rows()
    only = Campaign.objects.filter(pk=ours.pk)
    period = Period(date(2024, 12, 30), date(2025, 3, 30))
    # blog.example and other.example
    assert sum(charts.new_referring_domains_per_week(only, period).series[0].values) == 2
