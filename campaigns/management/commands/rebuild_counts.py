from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from config import tallies


class Command(BaseCommand):
    help = (
        "Count every campaign's prospects and backlinks again from the rows: the "
        "campaign list's counts and the dashboard charts' per-day counts, after "
        "deriving each prospect's furthest pipeline step and each backlink's copy "
        "of its prospect's fee again "
        "(config.tallies), the days in the site's TIME_ZONE as it is now. Needed "
        "only after writes the database triggers did not see: a data-only "
        "restore with triggers disabled, a TRUNCATE, loaddata of a dump that "
        "holds the counts too. A changed TIME_ZONE is counted again by the "
        "compaction task within five minutes; this does it at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        tallies.repair_all()
        self.stdout.write(
            f"Campaign and chart counts rebuilt from the rows (days in {settings.TIME_ZONE})."
        )
