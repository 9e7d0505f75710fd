"""Replaying a data migration on rows written as the code before it stored them.

Rows are written with today's models (the factories know only today's schema),
with the old values forced in; then the data migration's operations run again
against its own historical state. That stays honest as long as the schema
migrations after it only add columns (true so far): the data migration reads and
writes only columns that existed at its state. Migrating the database back
instead would break as soon as a later migration adds a column the factories fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def replay(app: str, migration: str) -> None:
    """Run ``migration`` of ``app`` forwards again, on the rows as they are now."""
    executor = MigrationExecutor(connection)
    loaded = executor.loader.get_migration(app, migration)
    state = executor.loader.project_state((app, migration), at_end=False)
    with connection.schema_editor(atomic=loaded.atomic) as editor:
        loaded.apply(state, editor)


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@contextmanager
def before(app: str, migration: str) -> Iterator[None]:
    """The database at ``migration`` of ``app`` (what follows it unapplied) for the
    ``with`` block; every migration applied again after it, even on failure. Only
    for rows that do not go through today's models (beat's rows, raw SQL): see
    ``replay`` for the rest."""
    migrate([(app, migration)])
    try:
        yield
    finally:
        migrate_to_latest()
