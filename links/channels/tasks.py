"""Celery tasks of alert channels: thin wrappers over services, taking ids."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from links.channels import services


# Acknowledged on receipt, not late: a redelivered message must not post a
# second time. A lost one is found by services.requeue_stalled.
@services.deliver_task.bind
@shared_task(ignore_result=True)
def deliver_alert(delivery_id: int) -> None:
    try:
        wait = services.attempt_delivery(int(delivery_id))
        if wait is not None:
            # The next attempt, queued by this one: the row says when and why.
            deliver_alert.apply_async((int(delivery_id),), countdown=wait)
    finally:
        # Under the gevent pool each task has its own connection.
        connection.close()
