"""Beat's outreach email rows point at the tasks' new names: the tasks moved to
outreach.email.tasks, and the reply poller is no longer one of two tasks named
poll_mailboxes. (outreach.tasks still registers the old names, for messages
queued before the upgrade.)"""

from django.db import migrations

RENAMED = [
    ("outreach.tasks.send_due_emails", "outreach.email.tasks.send_due_emails"),
    ("outreach.tasks.poll_mailboxes", "outreach.email.tasks.poll_reply_mailboxes"),
]


def rename(apps, pairs):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in pairs:
        PeriodicTask.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor):
    rename(apps, RENAMED)


def backwards(apps, schema_editor):
    rename(apps, [(new, old) for old, new in RENAMED])


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0007_prospect_relevance"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
