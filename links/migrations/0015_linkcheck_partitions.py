"""PostgreSQL: links_linkcheck becomes a table partitioned by month of checked_at.

The checks are read by time and, with CHECK_RETENTION_MONTHS, dropped by time:
a month is one partition, so a query over recent weeks reads recent
partitions only and dropping a month is ``DROP TABLE`` (links.partitions). The
table is rebuilt: a new partitioned parent (primary key (id, checked_at), as a
partition key must be in every unique index; ids still come from one identity
sequence), a default partition, a partition for every month the old table has
checks in and CHECK_PARTITIONS_AHEAD months ahead, the rows copied over, then
the old table's indexes, foreign key and live_changed trigger recreated under
their names. Django's model state is unchanged: to the ORM ``id`` is still the
key, which it is in practice.

The live_changed trigger now finds the next check by id and time, so its
UPDATE reads one partition; it reads the parent, so the previous check may be
in another month's partition. SQLite (``make run``) keeps its plain table.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations

live_changed = importlib.import_module("links.migrations.0004_linkcheck_live_changed")

TABLE = "links_linkcheck"

PARTITIONED_FUNCTION = f"""
CREATE OR REPLACE FUNCTION links_linkcheck_live_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    next_id bigint;
    next_at timestamptz;
BEGIN
    IF NEW.verdict = 'error' THEN
        NEW.live_changed := false;
        RETURN NEW;
    END IF;
    NEW.live_changed := (NEW.verdict = 'live') <> COALESCE(({live_changed.PREVIOUS_LIVE}), false);
    -- A check recorded late re-decides the one after it (maybe a later month).
    SELECT q.id, q.checked_at INTO next_id, next_at FROM links_linkcheck q
    WHERE q.backlink_id = NEW.backlink_id AND q.verdict <> 'error'
      AND q.checked_at >= NEW.checked_at
      AND (q.checked_at > NEW.checked_at OR q.id > NEW.id)
    ORDER BY q.checked_at, q.id LIMIT 1;
    IF next_id IS NOT NULL THEN
        UPDATE links_linkcheck n
           SET live_changed = (n.verdict = 'live') <> (NEW.verdict = 'live')
         WHERE n.id = next_id AND n.checked_at = next_at;
    END IF;
    RETURN NEW;
END
$$
"""  # noqa: S608 (built from constants)


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    from links import partitions

    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE %s",
            [TABLE, "%pkey"],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            f"SELECT date_trunc('month', MIN(checked_at) AT TIME ZONE 'UTC')::date FROM {TABLE}"  # noqa: S608
        )
        oldest = cursor.fetchone()[0]

    new = f"{TABLE}_new"
    partition_by = " PARTITION BY RANGE (checked_at)" if partitioned else ""
    execute(
        f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY){partition_by}"
    )
    execute(
        f"ALTER TABLE {new} ADD CONSTRAINT {TABLE}_pkey_new PRIMARY KEY "
        f"({'id, checked_at' if partitioned else 'id'})"
    )
    if partitioned:
        execute(f"CREATE TABLE {partitions.DEFAULT}_new PARTITION OF {new} DEFAULT")
        this_month = partitions.month_of(datetime.now(UTC))
        month = min(oldest or this_month, this_month)
        last = partitions.add_months(this_month, settings.CHECK_PARTITIONS_AHEAD)
        while month <= last:
            start, end = partitions._bounds(month)
            execute(
                f"CREATE TABLE {partitions.partition_name(month)} PARTITION OF {new} "
                f"FOR VALUES FROM ('{start}') TO ('{end}')"
            )
            month = partitions.add_months(month, 1)
    # The rows as they are, live_changed included: no trigger on the new table yet.
    execute(f"INSERT INTO {new} SELECT * FROM {TABLE}")  # noqa: S608
    execute(
        f"SELECT setval(pg_get_serial_sequence('{new}', 'id'), "  # noqa: S608
        f"COALESCE((SELECT MAX(id) FROM {new}), 0) + 1, false)"
    )
    execute(f"DROP TABLE {TABLE} CASCADE")
    execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
    execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {TABLE}_pkey_new TO {TABLE}_pkey")
    if partitioned:
        execute(f"ALTER TABLE {partitions.DEFAULT}_new RENAME TO {partitions.DEFAULT}")
    for _, definition in indexes:
        execute(definition)
    for name, definition in foreign_keys:
        execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    plain_function = live_changed.POSTGRESQL_FUNCTION.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )
    execute(PARTITIONED_FUNCTION if partitioned else plain_function)
    execute(live_changed.POSTGRESQL_TRIGGER)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    # The rebuild is DDL and a copy: one transaction, all or nothing.
    atomic = True

    dependencies = [
        ("links", "0014_check_summary"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
