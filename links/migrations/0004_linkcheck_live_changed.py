"""LinkCheck.live_changed: which checks move a backlink between live and not live.

The flag is derived data, so the database keeps it, whatever inserts the row
(the verifier, seed_demo's bulk_create, an import, the admin): a trigger
compares each new check with the backlink's previous check that had a verdict
(``error`` checks prove nothing and are skipped). A check recorded out of order
also re-decides the flag of the check that follows it. History is append-only;
updating a check's verdict or time afterwards is not supported.

The dashboard's live-over-time chart then sums +1/-1 over these rows (about one
per backlink plus one per loss or recovery) instead of replaying every check
with a window function, which took seconds on a million checks.
"""

from django.db import migrations, models

# The live bit of the backlink's previous check with a verdict, before NEW
# (by time, then id for checks recorded in the same instant).
PREVIOUS_LIVE = """
    SELECT p.verdict = 'live' FROM links_linkcheck p
    WHERE p.backlink_id = NEW.backlink_id AND p.verdict <> 'error'
      AND p.checked_at <= NEW.checked_at
      AND (p.checked_at < NEW.checked_at OR p.id < NEW.id)
    ORDER BY p.checked_at DESC, p.id DESC LIMIT 1
"""
# The backlink's next check with a verdict after NEW, when NEW arrived late.
NEXT_ID = """
    SELECT q.id FROM links_linkcheck q
    WHERE q.backlink_id = NEW.backlink_id AND q.verdict <> 'error'
      AND q.checked_at >= NEW.checked_at
      AND (q.checked_at > NEW.checked_at OR q.id > NEW.id)
    ORDER BY q.checked_at, q.id LIMIT 1
"""

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION links_linkcheck_live_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.verdict = 'error' THEN
        NEW.live_changed := false;
        RETURN NEW;
    END IF;
    NEW.live_changed := (NEW.verdict = 'live') <> COALESCE(({PREVIOUS_LIVE}), false);
    UPDATE links_linkcheck n
       SET live_changed = (n.verdict = 'live') <> (NEW.verdict = 'live')
     WHERE n.id = ({NEXT_ID});
    RETURN NEW;
END
$$
"""  # noqa: S608 (built from the constants above)
POSTGRESQL_TRIGGER = """
CREATE TRIGGER linkcheck_live_changed BEFORE INSERT ON links_linkcheck
    FOR EACH ROW EXECUTE FUNCTION links_linkcheck_live_changed()
"""

SQLITE_INSTALL = f"""
CREATE TRIGGER linkcheck_live_changed AFTER INSERT ON links_linkcheck
FOR EACH ROW BEGIN
    UPDATE links_linkcheck
       SET live_changed = NEW.verdict <> 'error'
           AND (NEW.verdict = 'live') <> COALESCE(({PREVIOUS_LIVE}), 0)
     WHERE id = NEW.id;
    UPDATE links_linkcheck
       SET live_changed = (verdict = 'live') <> (NEW.verdict = 'live')
     WHERE NEW.verdict <> 'error' AND id = ({NEXT_ID});
END;
"""  # noqa: S608 (built from the constants above)
SQLITE_UNINSTALL = "DROP TRIGGER IF EXISTS linkcheck_live_changed;"

# Existing rows: the same rule, for every check at once.
BACKFILL = """
UPDATE links_linkcheck SET live_changed = (
    verdict <> 'error' AND (verdict = 'live') <> COALESCE((
        SELECT p.verdict = 'live' FROM links_linkcheck p
        WHERE p.backlink_id = links_linkcheck.backlink_id AND p.verdict <> 'error'
          AND p.checked_at <= links_linkcheck.checked_at
          AND (p.checked_at < links_linkcheck.checked_at OR p.id < links_linkcheck.id)
        ORDER BY p.checked_at DESC, p.id DESC LIMIT 1
    ), false)
)
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(BACKFILL)
        schema_editor.execute(POSTGRESQL_FUNCTION)
        schema_editor.execute(POSTGRESQL_TRIGGER)
    elif vendor == "sqlite":
        schema_editor.execute(BACKFILL)
        schema_editor.execute(SQLITE_INSTALL)
    else:
        raise NotImplementedError(f"No live_changed trigger for {vendor}; write one here.")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS linkcheck_live_changed ON links_linkcheck")
        schema_editor.execute("DROP FUNCTION IF EXISTS links_linkcheck_live_changed()")
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [
        ("links", "0003_beat_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="linkcheck",
            name="live_changed",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddIndex(
            model_name="linkcheck",
            index=models.Index(
                condition=models.Q(("live_changed", True)),
                fields=["backlink", "checked_at", "verdict"],
                name="linkcheck_live_changes",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]
