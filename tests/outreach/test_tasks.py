"""The outreach schedule: beat rows made by the data migration, pointing at tasks
the worker knows."""

from __future__ import annotations

from django_celery_beat.models import PeriodicTask

from config.celery import app


def test_beat_sends_every_minute_and_reads_every_two(db):
    rows = {
        task.task: (task.interval.every, task.interval.period, task.enabled)
        for task in PeriodicTask.objects.filter(
            task__in=["outreach.tasks.send_due_emails", "outreach.tasks.poll_mailboxes"]
        ).select_related("interval")
    }
    assert rows == {
        "outreach.tasks.send_due_emails": (1, "minutes", True),
        "outreach.tasks.poll_mailboxes": (2, "minutes", True),
    }


def test_the_scheduled_tasks_are_registered():
    app.loader.import_default_modules()
    for name in [
        "outreach.tasks.send_due_emails",
        "outreach.tasks.send_email",
        "outreach.tasks.poll_mailboxes",
        "outreach.tasks.poll_mailbox",
    ]:
        assert name in app.tasks
