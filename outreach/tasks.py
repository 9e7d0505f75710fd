"""Thin Celery wrappers over outreach services. Tasks take ids, never objects."""

from __future__ import annotations

from celery import shared_task

from outreach.imports import services


@shared_task(ignore_result=True)
def run_import(job_id: int) -> None:
    """Run a queued import. A second delivery finds the job no longer queued and
    does nothing; a worker lost mid-import rolls its transaction back and the
    job stays 'running' (not acks_late: re-running a big import on a redelivery
    after a crash loop would be worse than asking the admin to upload again)."""
    services.run_import_job(job_id)
