"""The outreach schedule, as rows of django-celery-beat (admin: Periodic tasks):
send due emails every minute, read the mailboxes for replies every two."""

from django.db import migrations

SCHEDULE = [
    # (name, task, every N minutes)
    ("Send due outreach emails", "outreach.tasks.send_due_emails", 1),
    ("Read outreach mailboxes for replies", "outreach.tasks.poll_mailboxes", 2),
]


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in SCHEDULE:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0003_outreach_email"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
