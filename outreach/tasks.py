"""Celery tasks of outreach: thin wrappers over services, taking ids as JSON.

Imports here; outreach email's tasks are ``outreach.email.tasks`` (imported below
so the worker registers them, with the names they had before they moved)."""

from __future__ import annotations

from celery import shared_task

from outreach.email import tasks as email_tasks
from outreach.imports import services as imports


@imports.import_task.bind
@shared_task(ignore_result=True)
def run_import(job_id: int) -> None:
    """Run a queued import. A second delivery finds the job no longer queued and
    does nothing; a worker lost mid-import rolls its transaction back and the
    job stays 'running' (not acks_late: re-running a big import on a redelivery
    after a crash loop would be worse than asking the admin to upload again)."""
    imports.run_import_job(job_id)


# The names outreach email's tasks had before they moved to outreach.email.tasks
# (and before the reply poller was told apart from the journalist-query one).
# Messages already queued under them when a new worker starts still run; beat's
# rows were renamed by migration 0008. Drop them a release later.
@shared_task(ignore_result=True, name="outreach.tasks.send_due_emails")
def send_due_emails_old_name() -> int:
    return email_tasks.send_due_emails()


@shared_task(ignore_result=True, name="outreach.tasks.send_email")
def send_email_old_name(email_id: int, token: str) -> str:
    return email_tasks.send_email(email_id, token)


@shared_task(ignore_result=True, name="outreach.tasks.poll_mailboxes")
def poll_mailboxes_old_name() -> int:
    return email_tasks.poll_reply_mailboxes()


@shared_task(ignore_result=True, name="outreach.tasks.poll_mailbox")
def poll_mailbox_old_name(mailbox_id: int) -> int:
    return email_tasks.poll_mailbox(mailbox_id)
