"""`make run`'s database is SQLite, where the suite's PostgreSQL never goes: a
migrated SQLite database keeps the check table's live_changed trigger (a table
rebuild used to drop it, and the live chart read zero), the prospects'
furthest pipeline step, the first-link flags and the per-day counts the
charts read, local dates included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.integration

SCRIPT = """
import json
from datetime import UTC, date, datetime
from django.db import connection
from campaigns.dashboard import charts
from campaigns.dashboard.charts import Period
from campaigns.models import Campaign
from config import tallies
from tests.factories import (
    ActivityFactory, BacklinkFactory, CampaignFactory, LinkCheckFactory, ProspectFactory,
)

campaign = CampaignFactory()
backlink = BacklinkFactory(campaign=campaign, won_on=date(2025, 1, 7))
for day, verdict in [(6, "live"), (14, "missing"), (21, "live")]:
    LinkCheckFactory(
        backlink=backlink, verdict=verdict, checked_at=datetime(2025, 1, day, 12, tzinfo=UTC)
    )
# 23:30 UTC on Sunday 12 January is Monday 13 January in Berlin, the site's zone.
prospect = ProspectFactory(campaign=campaign, created_at=datetime(2025, 1, 12, 23, 30, tzinfo=UTC))
ActivityFactory(prospect=prospect, occurred_at=datetime(2025, 1, 12, 23, 30, tzinfo=UTC))
from django.utils import timezone
from outreach.models import Prospect, StatusChange
recent = ProspectFactory(campaign=campaign)
stale = Prospect.objects.get(pk=recent.pk)
for before, status in [("", "new"), ("new", "contacted"), ("contacted", "replied")]:
    StatusChange.objects.create(prospect=recent, from_status=before, to_status=status)
stale.save()  # a copy loaded before the reply: the furthest step stays
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    triggers = sorted(row[0] for row in cursor.fetchall())
period = Period(date(2025, 1, 6), date(2025, 1, 26))
only = Campaign.objects.filter(pk=campaign.pk)
result = {
    "triggers": triggers,
    "live": charts.live_backlinks_over_time(only, period).series[0].values,
    "won": charts.links_won_per_week(only, period).series[0].values,
    "activity": charts.outreach_activity_per_member(only, period).series[0].values,
    # Wednesday 8 to Sunday 19: the first week in part (days), the second whole
    # (weeks).
    "activity_partial": charts.outreach_activity_per_member(
        only, Period(date(2025, 1, 8), date(2025, 1, 19))
    ).series[0].values,
    # The week of Monday the 13th only: the prospect is in it in Berlin, not in UTC.
    "kinds": charts.prospects_by_kind(only, Period(date(2025, 1, 13), date(2025, 1, 19)))
    .series[0]
    .values,
}
result["funnel"] = charts.pipeline_funnel(only, Period.last_days(7)).series[0].values
# A site two campaigns link from counts once over every campaign, from its
# first link anywhere.
other = CampaignFactory()
shared = BacklinkFactory(
    campaign=other, source_url="https://shared.example/a/", won_on=date(2025, 1, 15)
)
BacklinkFactory(
    campaign=campaign, source_url="https://www.shared.example/b/", won_on=date(2025, 1, 22)
)
every = Campaign.objects.all()
result["domains"] = charts.referring_domains_over_time(every, period).series[0].values
shared.delete()
result["domains_after_delete"] = (
    charts.referring_domains_over_time(every, period).series[0].values
)
tallies.compact_all()
result["live_after_compaction"] = charts.live_backlinks_over_time(only, period).series[0].values
print("RESULT", json.dumps(result))
"""


def test_a_migrated_sqlite_database_charts_its_checks_and_days(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "SECRET_KEY": "sqlite-test-only",
        "TIME_ZONE": "Europe/Berlin",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "-v0")
    output = manage("shell", "-c", SCRIPT)
    result = json.loads(output.split("RESULT ", 1)[1])

    for trigger in (
        "linkcheck_live_changed",
        "statuschange_reach",
        "prospect_keep_reach",
        "backlink_first_overall_insert",
        "links_referringdomainday_insert",
    ):
        assert trigger in result["triggers"]
    assert result["live"] == [1, 0, 1]
    assert result["live_after_compaction"] == [1, 0, 1]
    assert result["won"] == [1, 0, 0]
    # Counted on Monday the 13th, the second week, in the site's zone.
    assert result["activity"] == [0, 1, 0]
    assert result["activity_partial"] == [0, 1]
    assert result["kinds"][0] == 1
    assert result["funnel"] == [1, 1, 1, 1, 1, 0, 0]
    assert result["domains"] == [1, 2, 2]
    assert result["domains_after_delete"] == [1, 1, 2]
