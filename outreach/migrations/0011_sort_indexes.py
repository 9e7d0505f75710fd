"""(key, id) indexes for every sort of the tables, so that the API's keyset
cursor (api.pagination) reads a page from the index after its position; the
single-column indexes they start with are dropped (a prefix serves the same
look-ups)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("outreach", "0010_prospect_quality"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="prospect",
            name="prospect_domain",
        ),
        migrations.RemoveIndex(
            model_name="prospect",
            name="prospect_created_at",
        ),
        migrations.AddField(
            model_name="prospect",
            name="status_rank",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(status="new", then=models.Value(0)),
                    models.When(status="qualified", then=models.Value(1)),
                    models.When(status="contacted", then=models.Value(2)),
                    models.When(status="followed_up", then=models.Value(3)),
                    models.When(status="replied", then=models.Value(4)),
                    models.When(status="negotiating", then=models.Value(5)),
                    models.When(status="won", then=models.Value(6)),
                    models.When(status="lost", then=models.Value(7)),
                    models.When(status="unresponsive", then=models.Value(8)),
                    default=models.Value(9),
                    output_field=models.SmallIntegerField(),
                ),
                output_field=models.SmallIntegerField(),
            ),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["domain", "id"], name="prospect_domain_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["created_at", "id"], name="prospect_created_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["domain_rating", "id"], name="prospect_dr_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["relevance", "id"], name="prospect_relevance_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["next_follow_up", "id"], name="prospect_follow_up_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["status_rank", "id"], name="prospect_status_rank_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["updated_at", "id"], name="prospect_updated_id"),
        ),
        migrations.AddIndex(
            model_name="prospect",
            index=models.Index(fields=["quality", "id"], name="prospect_quality_id"),
        ),
    ]
