"""python manage.py import_prospects PATH --campaign SLUG [--dry-run] [--kind KIND]

Exit status 0 when the file was read (also with rejected rows, which are
listed), 2 when it could not be read or the campaign does not exist."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from outreach.imports import cli
from outreach.models import Kind


class Command(BaseCommand):
    help = "Import prospects from a CSV or XLSX file into a campaign."

    def add_arguments(self, parser: Any) -> None:
        cli.add_arguments(self, parser)
        parser.add_argument(
            "--kind",
            choices=Kind.values,
            default=Kind.BLOGGER,
            help="The type of prospects in rows without a Type column value (default: blogger).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cli.run(
            self.stdout,
            path=options["path"],
            campaign_slug=options["campaign"],
            target="prospects",
            options={"kind": options["kind"]},
            dry_run=options["dry_run"],
        )
