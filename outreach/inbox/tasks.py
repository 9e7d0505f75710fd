"""Celery tasks of the inbox: beat polls the mailboxes."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from outreach.inbox import services


# Safe to run twice at once: a message read twice is one digest (Message-ID)
# and a query one row (its fingerprint is unique).
@shared_task(ignore_result=True)
def poll_mailboxes() -> int:
    try:
        return services.poll_all()
    finally:
        connection.close()
