from __future__ import annotations

from django.core.management.base import BaseCommand

from config import tallies


class Command(BaseCommand):
    help = (
        "Count every campaign's prospects and backlinks again from the rows (the "
        "campaign list's counts, config.tallies). Needed only after writes the "
        "database triggers did not see: a data-only restore with triggers "
        "disabled, a TRUNCATE, loaddata of a dump that holds the counts too."
    )

    def handle(self, *args: object, **options: object) -> None:
        tallies.rebuild_all()
        self.stdout.write("Campaign counts rebuilt from the rows.")
