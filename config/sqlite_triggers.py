"""SQLite (``make run``) drops a table's triggers when a migration rebuilds the
table, which every AddField with a default does. So after each migrate the
triggers the migrations installed are put back where missing, and the rows
written without them are derived again. PostgreSQL keeps its triggers.

(The check table's live_changed trigger went this way with the first rebuild
after links/0004, and the live chart read zero under ``make run``.)"""

from __future__ import annotations

import importlib

from django.db import connections

from config import tallies

# (migration module, its triggers, the table they are on): the module holds
# SQLITE_INSTALL (one statement or a list) and BACKFILL, the rule applied to
# the rows already there.
MIGRATION_TRIGGERS = (
    (
        "links.migrations.0004_linkcheck_live_changed",
        ("linkcheck_live_changed",),
        "links_linkcheck",
    ),
    (
        "outreach.migrations.0014_chart_days",
        ("statuschange_reach", "prospect_keep_reach"),
        "outreach_prospect",
    ),
)


def reinstall(using: str = "default", **kwargs: object) -> None:
    """post_migrate, SQLite only; a no-op while every trigger is there."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    tables = set(connection.introspection.table_names())
    put_back = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
        for module_name, names, table in MIGRATION_TRIGGERS:
            if table not in tables or set(names) <= present:
                continue
            module = importlib.import_module(module_name)
            install = module.SQLITE_INSTALL
            for statement in [install] if isinstance(install, str) else install:
                cursor.execute(_if_not_exists(statement))
            cursor.execute(module.BACKFILL)
            put_back = True
    tallies.reinstall_sqlite_triggers(using)
    if put_back:
        # The counts missed what the lost triggers would have changed.
        tallies.rebuild_all()


def _if_not_exists(statement: str) -> str:
    plain = statement.replace("CREATE TRIGGER IF NOT EXISTS ", "CREATE TRIGGER ")
    return plain.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
