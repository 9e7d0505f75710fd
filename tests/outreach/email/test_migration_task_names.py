"""Migrations outreach 0008 and inbox 0004: beat's rows move to the tasks' new
names (and back when unapplied), so beat never sends a name only kept as an alias."""

from __future__ import annotations

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app
from tests.support.migrations import replay

pytestmark = pytest.mark.django_db

OLD = {
    "outreach.tasks.send_due_emails",
    "outreach.tasks.poll_mailboxes",
    "outreach.inbox.tasks.poll_mailboxes",
}
NEW = {
    "outreach.email.tasks.send_due_emails",
    "outreach.email.tasks.poll_reply_mailboxes",
    "outreach.journalist_queries.tasks.poll_query_mailboxes",
}


def scheduled() -> set[str]:
    return set(
        PeriodicTask.objects.filter(task__startswith="outreach.").values_list("task", flat=True)
    )


@pytest.fixture
def beat_rows_with_old_names():
    """Beat's rows as the code before the move wrote them."""
    PeriodicTask.objects.filter(task__startswith="outreach.").delete()
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.MINUTES)
    for name in OLD:
        PeriodicTask.objects.create(name=f"old {name}", task=name, interval=every)


def test_beat_rows_move_to_the_new_names(beat_rows_with_old_names):
    replay("outreach", "0008_email_task_names")
    replay("inbox", "0004_poll_task_name")
    names = scheduled()
    assert names == NEW
    app.loader.import_default_modules()
    assert names <= set(app.tasks)


def test_unapplied_the_rows_get_their_old_names_back(beat_rows_with_old_names):
    replay("outreach", "0008_email_task_names")
    replay("inbox", "0004_poll_task_name")
    replay("inbox", "0004_poll_task_name", backwards=True)
    replay("outreach", "0008_email_task_names", backwards=True)
    assert scheduled() == OLD
