from __future__ import annotations

from celery import shared_task

from config import tallies


@shared_task(ignore_result=True)
def compact_tallies() -> None:
    """Beat runs this every five minutes, on the bulk queue: each campaign's
    count deltas (config.tallies) become one row, so the campaign list sums a
    handful of rows per campaign."""
    tallies.compact_all()
