"""Check many backlinks now, from the command line, with a progress bar."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from links import dispatch, services
from links.checking import check_many
from links.models import Backlink


class Command(BaseCommand):
    help = "Verify backlinks now and record the results (all, or --due ones; --campaign)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--campaign", help="Only this campaign's backlinks (its slug).")
        parser.add_argument("--due", action="store_true", help="Only backlinks due a check.")

    def handle(self, *args: Any, **options: Any) -> None:
        backlinks = Backlink.objects.select_related("target_page").order_by("pk")
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign with slug {options['campaign']!r}.", returncode=2)
            backlinks = backlinks.filter(campaign=campaign)
        if options["due"]:
            backlinks = backlinks.due()
        selected = list(backlinks)
        if not selected:
            self.stdout.write("Nothing to check.")
            return
        claims = {c.backlink_id: c for c in dispatch.claim([b.pk for b in selected])}
        for backlink in selected:
            backlink.lease_until = claims[backlink.pk].lease
        verdicts: Counter[str] = Counter()
        started = time.monotonic()
        for done, (backlink_id, outcome) in enumerate(check_many(selected), start=1):
            services.record_check(claims[backlink_id], outcome)
            verdicts[outcome.verdict] += 1
            self.progress(done, len(selected), started)
        sys.stderr.write("\n")
        summary = ", ".join(f"{verdict} {n}" for verdict, n in sorted(verdicts.items()))
        self.stdout.write(f"Checked {len(selected)} backlinks: {summary}.")

    def progress(self, done: int, total: int, started: float) -> None:
        width = 30
        filled = width * done // total
        rate = done / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total}  {rate:.1f}/s")
        sys.stderr.flush()
