"""Trigram indexes for the prospect search box on PostgreSQL.

The search is ``icontains`` on each column (``UPPER(col) LIKE UPPER('%text%')``),
which no B-tree can serve; a GIN index over trigrams of ``UPPER(col)`` can, so a
search over 50,000 prospects reads a bitmap instead of every row. SQLite (``make
run``) has no such index and does not need one at its sizes: there this migration
does nothing. The indexes are not in the model's Meta because a GIN index cannot
be declared there without breaking migrations on SQLite.
"""

from django.db import migrations

COLUMNS = ["url", "contact_name", "contact_email", "notes"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS prospect_{column}_trgm ON outreach_prospect "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS prospect_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
