"""SQLite (``make run``) and the database triggers the migrations define.

SQLite drops a table's triggers when a migration rebuilds the table (every
AddField with a default does: the check table's live_changed trigger went this
way with the first rebuild after links/0004, and the live chart read zero), and
it refuses to rebuild a table that another table's trigger names. So on SQLite
every trigger is dropped before migrate and installed again after it, and what
they derive is derived again from the rows: small data, a moment. PostgreSQL
keeps its triggers through a migration and needs none of this."""

from __future__ import annotations

import importlib

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from config import tallies

# (app, migration): the migration's module holds SQLITE_INSTALL and BACKFILL
# (each one statement or a list), the latter its rule applied to the rows
# already there.
MIGRATION_TRIGGERS = (
    ("links", "0004_linkcheck_live_changed"),
    ("links", "0022_chart_days"),
    ("links", "0024_first_of_site_overall"),
    ("outreach", "0014_chart_days"),
)


def _sqlite(using: str):  # type: ignore[no-untyped-def]
    connection = connections[using]
    return connection if connection.vendor == "sqlite" else None


def drop(using: str = "default", **kwargs: object) -> None:
    """pre_migrate: every trigger goes (Django creates none of its own)."""
    connection = _sqlite(using)
    if connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def reinstall(using: str = "default", **kwargs: object) -> None:
    """post_migrate: the migrations' triggers and the tallies', then what they
    keep, derived again from the rows."""
    connection = _sqlite(using)
    if connection is None:
        return
    # Only what is migrated: after `migrate links 0021` the columns that
    # 0022's triggers name are gone.
    applied = MigrationRecorder(connection).applied_migrations()
    with connection.cursor() as cursor:
        for app, name in MIGRATION_TRIGGERS:
            if (app, name) not in applied:
                continue
            module = importlib.import_module(f"{app}.migrations.{name}")
            install = module.SQLITE_INSTALL
            for statement in [install] if isinstance(install, str) else install:
                cursor.execute(_if_not_exists(statement))
            backfill = module.BACKFILL
            for statement in [backfill] if isinstance(backfill, str) else backfill:
                cursor.execute(statement)
    if tallies.reinstall_sqlite_triggers(using):
        tallies.rebuild_all()


def _if_not_exists(statement: str) -> str:
    plain = statement.replace("CREATE TRIGGER IF NOT EXISTS ", "CREATE TRIGGER ")
    return plain.replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
