"""What the import_prospects and import_backlinks commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from campaigns.models import Campaign
from outreach.imports import services
from outreach.imports.engine import Rejection
from outreach.imports.reader import UnreadableFile

# Exit status when the file could not be read at all (rejected rows are not that).
UNREADABLE = 2


def add_arguments(command: BaseCommand, parser: Any) -> None:
    parser.add_argument("path", help="A CSV or XLSX file.")
    parser.add_argument("--campaign", required=True, help="The campaign's slug.")
    parser.add_argument(
        "--dry-run", action="store_true", help="Read and check everything; write nothing."
    )


def run(
    stdout: OutputWrapper,
    *,
    path: str,
    campaign_slug: str,
    target: str,
    options: dict[str, Any],
    dry_run: bool,
) -> None:
    try:
        campaign = Campaign.objects.get(slug=campaign_slug)
    except Campaign.DoesNotExist:
        raise CommandError(f"No campaign with the slug {campaign_slug!r}.", returncode=2) from None

    shown = 0

    def show(rejection: Rejection) -> None:
        nonlocal shown
        if not shown:
            stdout.write("Rejected rows:")
        shown += 1
        stdout.write(f"  row {rejection.row}: {rejection.reason}")

    try:
        summary = services.import_path(
            Path(path),
            campaign=campaign,
            target=target,
            options=options,
            dry_run=dry_run,
            on_reject=show,
        )
    except UnreadableFile as exc:
        raise CommandError(str(exc), returncode=UNREADABLE) from exc
    prefix = "dry run, nothing written: " if dry_run else ""
    stdout.write(prefix + summary.line())
