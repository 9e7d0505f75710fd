"""Celery tasks of prospecting: thin wrappers taking ids."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from links.prospecting import gap, services


# Not acks_late: a scan is claimed queued -> running by its first run, so a
# redelivered message would find it running and do nothing anyway.
@services.scan_task.bind
@shared_task(ignore_result=True)
def run_broken_link_scan(scan_id: int) -> None:
    try:
        services.run_scan(scan_id)
    finally:
        # Under gevent each task has its own connection; close it with the task.
        connection.close()


# Safe to run twice (only an unanswered check is answered), so acknowledged
# after it ran: a worker killed mid-check leaves it to be run again.
@services.dead_link_check_task.bind
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def check_dead_link(check_id: int) -> None:
    try:
        services.run_dead_link_check(check_id)
    finally:
        connection.close()


@gap.export_task.bind
@shared_task(ignore_result=True)
def read_backlink_export(export_id: int) -> None:
    try:
        gap.run_export(export_id)
    finally:
        connection.close()
