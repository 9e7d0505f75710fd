"""Replaying a data migration on rows written as the code before it stored them.

Rows are written with today's models (the factories know only today's schema),
with the old values forced in; then the data migration's operations run again
against its own historical state. That stays honest as long as the schema
migrations after it only add columns (true so far): the data migration reads and
writes only columns that existed at its state. Migrating the database back
instead would break as soon as a later migration adds a column the factories fill.
"""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def replay(app: str, migration: str, *, backwards: bool = False) -> None:
    """Run ``migration`` of ``app`` again (forwards, or its reverse), on the rows
    as they are now."""
    executor = MigrationExecutor(connection)
    loaded = executor.loader.get_migration(app, migration)
    state = executor.loader.project_state((app, migration), at_end=backwards)
    with connection.schema_editor(atomic=loaded.atomic) as editor:
        if backwards:
            loaded.unapply(state, editor)
        else:
            loaded.apply(state, editor)
