from django.db import migrations, models

# Room on each page of the backlink table, so that a claim (which only sets
# lease_until) is a HOT update: the new row version goes on the same page and
# no index gets a new entry. Rows written from now on leave the room; existing
# pages gain it as updates and vacuum move rows. PostgreSQL only.
FILLFACTOR = 85


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE links_backlink SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE links_backlink RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("links", "0018_backlink_fewer_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="backlink",
            name="lease_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
