from django.db import migrations

# links/0024 takes its lock before any INSERT or DELETE of backlinks, so that
# first links are decided one transaction at a time. On an UPDATE that moves a
# link (another campaign, site or day) the campaign's flag of links/0022 is
# decided by a row trigger that fires before links/0024's (triggers fire in name
# order), so without the lock: two such moves at once into one campaign each saw
# no other link from the site there and both kept the flag. The lock is now
# taken before such an UPDATE writes its first row. The verifier's writes name
# none of these columns and take no part.

POSTGRESQL_INSTALL = (
    "CREATE TRIGGER backlink_first_links_lock_update "
    "BEFORE UPDATE OF campaign_id, source_domain, won_on ON links_backlink "
    "FOR EACH STATEMENT EXECUTE FUNCTION links_backlink_first_links_lock()"
)
POSTGRESQL_UNINSTALL = "DROP TRIGGER IF EXISTS backlink_first_links_lock_update ON links_backlink"


def install(apps, schema_editor):
    # SQLite runs one writing transaction at a time: nothing to serialize.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UNINSTALL, params=None)


class Migration(migrations.Migration):
    dependencies = [("links", "0024_first_of_site_overall")]

    operations = [migrations.RunPython(install, uninstall)]
