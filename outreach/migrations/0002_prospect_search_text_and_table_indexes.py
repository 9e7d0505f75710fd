"""The prospect search column and the index that keeps the prospects table fast
on a large campaign (measured in tests/benchmarks/bench_prospect_filters.py).

The trigram index exists on PostgreSQL only: the search is ``icontains``
(``UPPER(search_text) LIKE UPPER('%text%')``), which no B-tree can serve and a
GIN index over trigrams of ``UPPER(search_text)`` can. SQLite (``make run``) has
no such index and does not need one at its sizes. It is not declared in the
model's Meta because a GIN index there would break migrations on SQLite.
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS prospect_search_trgm ON outreach_prospect "
        "USING gin (UPPER(search_text) gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS prospect_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("outreach", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="prospect",
            name="search_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Concat(
                    "url",
                    models.Value(" "),
                    "contact_name",
                    models.Value(" "),
                    "contact_email",
                    models.Value(" "),
                    "notes",
                    output_field=models.TextField(),
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(
                models.F("campaign"),
                models.OrderBy(models.F("created_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="prospect_campaign_newest",
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
