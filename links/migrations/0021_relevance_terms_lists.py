"""Backlinks imported by COPY before this got relevance_terms {} (psycopg wrote
the empty list as an array literal, which the JSON column read as an empty
object); the terms are a list. PostgreSQL only: SQLite never had it."""

from django.db import migrations


def to_lists(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE links_backlink SET relevance_terms = '[]'::jsonb "
            "WHERE relevance_terms = '{}'::jsonb"
        )


class Migration(migrations.Migration):
    dependencies = [("links", "0020_backlink_tally")]

    operations = [migrations.RunPython(to_lists, migrations.RunPython.noop)]
