"""The outreach schedule: beat rows made by the data migration, pointing at tasks
the worker knows."""

from __future__ import annotations

from django_celery_beat.models import PeriodicTask

from config.celery import app
from tests.support.migrations import replay


def test_beat_sends_every_minute_and_reads_every_two(db):
    # The rows are the data migrations' (made at migrate, renamed later): run
    # both again, as a transactional test elsewhere may have flushed them.
    replay("outreach", "0004_outreach_beat_schedule")
    replay("outreach", "0008_email_task_names")
    rows = {
        task.task: (task.interval.every, task.interval.period, task.enabled)
        for task in PeriodicTask.objects.filter(
            task__startswith="outreach.email.tasks."
        ).select_related("interval")
    }
    assert rows == {
        "outreach.email.tasks.send_due_emails": (1, "minutes", True),
        "outreach.email.tasks.poll_reply_mailboxes": (2, "minutes", True),
    }


def test_the_scheduled_tasks_are_registered():
    app.loader.import_default_modules()
    for name in [
        "outreach.email.tasks.send_due_emails",
        "outreach.email.tasks.send_email",
        "outreach.email.tasks.poll_reply_mailboxes",
        "outreach.email.tasks.poll_mailbox",
        "outreach.journalist_queries.tasks.poll_query_mailboxes",
    ]:
        assert name in app.tasks


def test_the_two_mailbox_pollers_have_distinct_names():
    app.loader.import_default_modules()
    pollers = {name for name in app.tasks if name.endswith("mailboxes")}
    assert "outreach.email.tasks.poll_reply_mailboxes" in pollers
    assert "outreach.journalist_queries.tasks.poll_query_mailboxes" in pollers
    assert app.tasks["outreach.email.tasks.poll_reply_mailboxes"].run is not (
        app.tasks["outreach.journalist_queries.tasks.poll_query_mailboxes"].run
    )


def test_names_from_before_the_move_still_run_the_same_work():
    """Messages queued under the old names before an upgrade are not lost: the
    worker still knows those names."""
    app.loader.import_default_modules()
    for name in [
        "outreach.tasks.send_due_emails",
        "outreach.tasks.send_email",
        "outreach.tasks.poll_mailboxes",
        "outreach.tasks.poll_mailbox",
        "outreach.inbox.tasks.poll_mailboxes",
    ]:
        assert name in app.tasks
