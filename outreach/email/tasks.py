"""Celery tasks of outreach email: thin wrappers over the services, taking ids.

Registered when the worker imports ``outreach.tasks`` (the app's task module,
which Celery discovers), which imports this one.
"""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.db import connection, transaction

from outreach.email import recovery, replies, sending
from outreach.email.models import Mailbox

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def send_due_emails() -> int:
    """Beat runs this every minute: settle what dead workers left, then claim what
    may go now and queue one send task per email."""
    recovered = recovery.recover_stale()
    if any(recovered.values()):
        log.info("recovered interrupted sends: %s", recovered)
    claims = sending.claim_due()
    for claim in claims:
        transaction.on_commit(
            lambda claim=claim: send_email.delay(claim.email_id, str(claim.token))
        )
    return len(claims)


# Acknowledged on receipt, not late: a message redelivered after its worker died
# must not send again. A lost message loses nothing either: its claim runs out
# and recover_stale queues the email again (it never reached DATA) or looks for
# it in the Sent folder (it did).
@shared_task(ignore_result=True)
def send_email(email_id: int, token: str) -> str:
    try:
        return sending.send(sending.Claim(email_id, uuid.UUID(token)))
    finally:
        # Under the gevent pool each task has its own connection: close it now
        # rather than leave it to the garbage collector.
        connection.close()


@shared_task(ignore_result=True)
def poll_reply_mailboxes() -> int:
    """Beat runs this every two minutes: one task per sending mailbox that reads
    replies, so one slow server does not hold up the others."""
    ids = list(
        Mailbox.objects.filter(is_active=True).exclude(imap_host="").values_list("pk", flat=True)
    )
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)


@shared_task(ignore_result=True)
def poll_mailbox(mailbox_id: int) -> int:
    try:
        result = replies.poll(mailbox_id)
        return result.read if result else 0
    finally:
        connection.close()
