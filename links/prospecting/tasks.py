"""Celery tasks of prospecting: thin wrappers taking ids."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from links.prospecting import gap, services


# Not acks_late: a scan is claimed queued -> running by its first run, so a
# redelivered message would find it running and do nothing anyway.
@shared_task(ignore_result=True)
def run_broken_link_scan(scan_id: int) -> None:
    try:
        services.run_scan(scan_id)
    finally:
        # Under gevent each task has its own connection; close it with the task.
        connection.close()


@shared_task(ignore_result=True)
def read_backlink_export(export_id: int) -> None:
    try:
        gap.run_export(export_id)
    finally:
        connection.close()
