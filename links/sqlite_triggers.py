"""SQLite (``make run``) drops a table's triggers when a migration rebuilds the
table (every AddField with a default does), so the check table's
``linkcheck_live_changed`` trigger (links/0004) went with the first such
migration after it, and ``live_changed`` stayed false: the live-over-time chart
read zero. After every migrate the trigger is put back if it is missing, and
the checks recorded without it are marked again."""

from __future__ import annotations

import importlib

from django.db import connections

TRIGGER = "linkcheck_live_changed"


def reinstall_live_changed(using: str = "default", **kwargs: object) -> None:
    """post_migrate, SQLite only: a no-op while the trigger is there."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if "links_linkcheck" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s", [TRIGGER]
        )
        if cursor.fetchone():
            return
        # The migration's own SQL, so the rule has one home.
        source = importlib.import_module("links.migrations.0004_linkcheck_live_changed")
        cursor.execute(source.SQLITE_INSTALL)
        cursor.execute(source.BACKFILL)
