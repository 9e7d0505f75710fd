"""Recompute every stored quality score, e.g. after QUALITY_WEIGHTS changed.

python manage.py recompute_quality [--campaign SLUG]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from links import quality


class Command(BaseCommand):
    help = "Recompute the quality scores of backlinks and prospects (after the weights changed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--campaign", help="Only this campaign (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        campaigns = Campaign.objects.order_by("pk")
        if options["campaign"]:
            campaigns = campaigns.filter(slug=options["campaign"])
            if not campaigns.exists():
                raise CommandError(f"No campaign {options['campaign']!r}.")
        ids = list(campaigns.values_list("pk", flat=True))
        changed = quality.refresh_all(ids)
        self.stdout.write(f"Rescored {len(ids)} campaign(s): {changed} score(s) changed.")
