from django.db import migrations, models

# Room on each page of the backlink table, so that a claim (which only sets
# lease_until) is a HOT update: the new row version goes on the same page and
# no index gets a new entry. Only pages written from now on leave the room
# (vacuum does not move rows): on an existing table a claim stays a non-HOT
# update until its row is rewritten elsewhere by a recorded check, or at once
# after VACUUM FULL (docs/operations.md, Upgrade). PostgreSQL only.
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
