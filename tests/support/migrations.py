"""Running a data migration on rows written at the state before it (the
django-test-migrations way, with Django's own executor)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@contextmanager
def before(app: str, migration: str) -> Iterator[StateApps]:
    """The database at ``migration`` of ``app`` (what follows it unapplied) for the
    ``with`` block; every migration applied again after it, even on failure.

    Yields the models as they were then (``apps.get_model(...)``): today's models
    would write columns a later migration adds."""
    migrate([(app, migration)])
    try:
        executor = MigrationExecutor(connection)
        yield executor.loader.project_state((app, migration)).apps
    finally:
        migrate_to_latest()
