"""Beat's journalist-query row points at the task's new name: the package is now
outreach.journalist_queries, and its poller is no longer one of two tasks named
poll_mailboxes. (Its tasks module still registers the old name, for messages
queued before the upgrade.)"""

from django.db import migrations

OLD = "outreach.inbox.tasks.poll_mailboxes"
NEW = "outreach.journalist_queries.tasks.poll_query_mailboxes"


def forwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=OLD).update(task=NEW)


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=NEW).update(task=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_password_env_prefix"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
