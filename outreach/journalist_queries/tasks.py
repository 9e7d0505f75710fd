"""Celery tasks of the journalist queries: beat reads their mailboxes."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from outreach.journalist_queries import services


# Safe to run twice at once: a message read twice is one digest (Message-ID)
# and a query one row (its fingerprint is unique).
@shared_task(ignore_result=True)
def poll_query_mailboxes() -> int:
    try:
        return services.poll_all()
    finally:
        connection.close()


# The name this task had while the package was outreach.inbox (migration 0004
# renamed beat's row): messages queued under it before the upgrade still run.
# Drop it a release later.
@shared_task(ignore_result=True, name="outreach.inbox.tasks.poll_mailboxes")
def poll_mailboxes_old_name() -> int:
    return poll_query_mailboxes()
