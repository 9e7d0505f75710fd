"""The per-campaign counts the database keeps (config.tallies): whatever is done
to prospects and backlinks, and however often the deltas are compacted, the
campaign list shows what counting the rows gives."""

from __future__ import annotations

import importlib
import io
import random
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.dashboard.queries import campaigns_with_counts
from campaigns.models import Campaign
from campaigns.tasks import compact_tallies
from config import tallies
from links.models import Backlink, BacklinkState, BacklinkTally
from outreach.imports.copy import insert_rows
from outreach.models import CLOSED_STATUSES, Kind, Prospect, ProspectTally, Status
from tests.factories import BacklinkFactory, CampaignFactory, ProspectFactory


def listed() -> dict[int, tuple[int, int, int, int]]:
    return {
        c.pk: (c.prospect_count, c.open_prospect_count, c.backlink_count, c.live_count)
        for c in campaigns_with_counts(Campaign.objects.all())
    }


def counted() -> dict[int, tuple[int, int, int, int]]:
    """The same four numbers, counted from the rows."""
    prospects = {
        row["campaign"]: (row["n"], row["open"])
        for row in Prospect.objects.values("campaign").annotate(
            n=Count("*"), open=Count("pk", filter=~Q(status__in=CLOSED_STATUSES))
        )
    }
    backlinks = {
        row["campaign"]: (row["n"], row["live"])
        for row in Backlink.objects.values("campaign").annotate(
            n=Count("*"), live=Count("pk", filter=Q(state=BacklinkState.LIVE))
        )
    }
    return {
        pk: (*prospects.get(pk, (0, 0)), *backlinks.get(pk, (0, 0)))
        for pk in Campaign.objects.values_list("pk", flat=True)
    }


def test_the_closed_statuses_are_the_prospect_models():
    assert set(tallies.CLOSED_PROSPECT_STATUSES) == {s.value for s in CLOSED_STATUSES}


def test_counts_follow_every_kind_of_write(db):
    rng = random.Random(7)
    ours, theirs = CampaignFactory(), CampaignFactory()
    prospects = [
        ProspectFactory(campaign=rng.choice([ours, theirs]), status=rng.choice(list(Status)))
        for _ in range(12)
    ]
    backlinks = BacklinkFactory.create_batch(6, campaign=ours, state=BacklinkState.LIVE)
    BacklinkFactory.create_batch(3, campaign=theirs, state=BacklinkState.PENDING)
    assert listed() == counted()

    # One row saved, a queryset updated, rows deleted one by one and by queryset.
    prospects[0].status = Status.WON
    prospects[0].save()
    Prospect.objects.filter(pk__in=[p.pk for p in prospects[1:5]]).update(status=Status.NEW)
    Backlink.objects.filter(pk__in=[b.pk for b in backlinks[:2]]).update(
        state=BacklinkState.LOST, lost_at=timezone.now()
    )
    backlinks[3].state = BacklinkState.NOFOLLOW
    backlinks[3].save()
    prospects[5].delete()
    Backlink.objects.filter(pk=backlinks[4].pk).delete()
    # A prospect moved to another campaign counts there from now on.
    Prospect.objects.filter(pk=prospects[6].pk).update(campaign=theirs)
    Prospect.objects.bulk_create(
        Prospect(
            campaign=ours,
            kind=Kind.BLOGGER,
            url=f"https://bulk{i}.example/",
            url_key=f"bulk{i}.example",
            domain=f"bulk{i}.example",
            status=Status.LOST,
        )
        for i in range(3)
    )
    assert listed() == counted()

    compact_tallies()
    assert listed() == counted()
    assert ProspectTally.objects.count() == 2
    assert BacklinkTally.objects.count() == 2


def test_an_update_that_changes_no_count_writes_no_row(db):
    campaign = CampaignFactory()
    prospect = ProspectFactory(campaign=campaign, status=Status.NEW)
    backlink = BacklinkFactory(campaign=campaign, state=BacklinkState.LIVE)
    before = (ProspectTally.objects.count(), BacklinkTally.objects.count())
    Backlink.objects.update(next_check_at=timezone.now(), last_checked_at=timezone.now())
    Prospect.objects.filter(pk=prospect.pk).update(status=Status.QUALIFIED)  # open, still
    backlink.save()
    assert (ProspectTally.objects.count(), BacklinkTally.objects.count()) == before
    Prospect.objects.filter(pk=prospect.pk).update(status=Status.WON)
    assert ProspectTally.objects.count() == before[0] + 2  # out of one count, into another
    assert listed() == counted()


def test_a_backlink_moved_to_another_campaign_counts_there(db):
    ours, theirs = CampaignFactory(), CampaignFactory()
    backlink = BacklinkFactory(campaign=ours, state=BacklinkState.LIVE)
    Backlink.objects.filter(pk=backlink.pk).update(campaign=theirs)
    assert listed()[ours.pk] == (0, 0, 0, 0)
    assert listed()[theirs.pk] == (0, 0, 1, 1)


def test_rebuilding_counts_again_from_the_rows(db):
    campaign = CampaignFactory()
    ProspectFactory.create_batch(3, campaign=campaign, status=Status.NEW)
    ProspectFactory(campaign=campaign, status=Status.LOST)
    BacklinkFactory.create_batch(2, campaign=campaign, state=BacklinkState.LIVE)
    # Writes the triggers never saw: the counts are off until rebuilt.
    ProspectTally.objects.all().delete()
    BacklinkTally.objects.create(campaign=campaign, backlinks=5, live_backlinks=5)
    assert listed()[campaign.pk] != counted()[campaign.pk]
    call_command("rebuild_counts", stdout=io.StringIO())
    assert listed()[campaign.pk] == (4, 3, 2, 2) == counted()[campaign.pk]
    assert ProspectTally.objects.count() == BacklinkTally.objects.count() == 1


def test_rows_written_by_copy_are_counted(db):
    campaign = CampaignFactory()
    now = timezone.now()
    insert_rows(
        Prospect,
        [
            {
                "campaign_id": campaign.pk,
                "kind": Kind.BLOGGER,
                "url": f"https://copied{i}.example/",
                "url_key": f"copied{i}.example",
                "domain": f"copied{i}.example",
                "status": Status.WON if i % 3 == 0 else Status.NEW,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(30)
        ],
    )
    assert listed()[campaign.pk] == (30, 20, 0, 0) == counted()[campaign.pk]


def test_deleting_a_campaign_leaves_nothing_after_compaction(db):
    gone, kept = CampaignFactory(), CampaignFactory()
    ProspectFactory.create_batch(2, campaign=gone)
    BacklinkFactory(campaign=gone, state=BacklinkState.LIVE)
    ProspectFactory(campaign=kept)
    gone.delete()
    compact_tallies()
    assert set(ProspectTally.objects.values_list("campaign_id", flat=True)) == {kept.pk}
    assert not BacklinkTally.objects.exists()
    assert listed() == {kept.pk: (1, 1, 0, 0)}


@pytest.mark.django_db(transaction=True)
def test_compacting_while_others_write_loses_no_count():
    campaign = CampaignFactory()
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for n in range(40):
                prospect = ProspectFactory(campaign=campaign)
                if n % 4 == 0:
                    Prospect.objects.filter(pk=prospect.pk).update(status=Status.WON)
                if n % 5 == 0:
                    prospect.delete()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def compactor() -> None:
        try:
            while not stop.is_set():
                compact_tallies()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer) for _ in range(3)]
    background = threading.Thread(target=compactor)
    background.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    background.join(60)
    assert not errors
    assert not any(t.is_alive() for t in [*writers, background])
    assert Prospect.objects.count() == 3 * 32
    assert listed() == counted()
    compact_tallies()
    assert listed() == counted()


def test_the_compaction_runs_on_the_bulk_queue_every_five_minutes(db, settings):
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # The migration's row, written again: a transactional test's flush may
    # have emptied the table since the test database was migrated.
    schedule = importlib.import_module("campaigns.migrations.0002_tally_beat_schedule")
    PeriodicTask.objects.filter(name=schedule.NAME).delete()
    schedule.create_schedule(apps, None)
    task = PeriodicTask.objects.get(task="campaigns.tasks.compact_tallies")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (5, "minutes")
    assert settings.CELERY_TASK_ROUTES["campaigns.tasks.compact_tallies"] == {"queue": "bulk"}
