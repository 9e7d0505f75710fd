"""Migrations outreach 0008 and inbox 0004: beat's rows move to the tasks' new
names (and back when unapplied), so beat never sends a name only kept as an alias."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app
from tests.support.migrations import before, migrate

pytestmark = pytest.mark.django_db(transaction=True)


def scheduled() -> set[str]:
    return set(
        PeriodicTask.objects.filter(task__startswith="outreach.").values_list("task", flat=True)
    )


def test_beat_rows_move_to_the_new_names_and_back():
    with before("outreach", "0007_prospect_relevance"):
        migrate([("inbox", "0003_password_env_prefix")])
        assert {
            "outreach.tasks.send_due_emails",
            "outreach.tasks.poll_mailboxes",
            "outreach.inbox.tasks.poll_mailboxes",
        } <= scheduled()
        migrate([("outreach", "0008_email_task_names"), ("inbox", "0004_poll_task_name")])
        names = scheduled()
    assert {
        "outreach.email.tasks.send_due_emails",
        "outreach.email.tasks.poll_reply_mailboxes",
        "outreach.journalist_queries.tasks.poll_query_mailboxes",
    } <= names
    assert not names & {
        "outreach.tasks.send_due_emails",
        "outreach.tasks.poll_mailboxes",
        "outreach.inbox.tasks.poll_mailboxes",
    }
    app.loader.import_default_modules()
    assert names <= set(app.tasks)
