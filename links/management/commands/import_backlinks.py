"""python manage.py import_backlinks PATH --campaign SLUG [--dry-run] [--target URL]

Reads backlink exports of Ahrefs, Semrush, Moz and Search Console (see
links/imports.py). Exit status 0 when the file was read (also with rejected
rows, which are listed), 2 when it could not be read."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from outreach.imports import cli


class Command(BaseCommand):
    help = "Import backlinks from an SEO tool's CSV or XLSX export into a campaign."

    def add_arguments(self, parser: Any) -> None:
        cli.add_arguments(self, parser)
        parser.add_argument(
            "--target",
            default="",
            help="Target URL for rows without one (Search Console exports have none); "
            "default: the campaign's home page.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cli.run(
            self.stdout,
            path=options["path"],
            campaign_slug=options["campaign"],
            target="backlinks",
            options={"target_url": options["target"]} if options["target"] else {},
            dry_run=options["dry_run"],
        )
