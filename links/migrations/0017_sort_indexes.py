"""(key, id) indexes for every sort of the tables, so that the API's keyset
cursor (api.pagination) reads a page from the index after its position; the
single-column indexes they start with are dropped (a prefix serves the same
look-ups)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("links", "0015_linkcheck_partitions"),
        ("outreach", "0010_prospect_quality"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="backlink",
            name="backlink_campaign_domain",
        ),
        migrations.RemoveIndex(
            model_name="backlink",
            name="backlink_won_on",
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["created_at", "id"], name="alert_created_id"),
        ),
        migrations.AddIndex(
            model_name="backlink",
            index=models.Index(fields=["won_on", "id"], name="backlink_won_on_id"),
        ),
        migrations.AddIndex(
            model_name="backlink",
            index=models.Index(fields=["last_checked_at", "id"], name="backlink_checked_id"),
        ),
        migrations.AddIndex(
            model_name="backlink",
            index=models.Index(fields=["source_domain", "id"], name="backlink_domain_id"),
        ),
        migrations.AddIndex(
            model_name="backlink",
            index=models.Index(fields=["quality", "id"], name="backlink_quality_id"),
        ),
    ]
