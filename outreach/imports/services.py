"""The import use cases, called the same way by the views, the Celery task and
the management commands.

Browser flow: ``start_job`` stores the upload and guesses the mapping;
``set_mapping`` takes the person's corrections; ``preview_job`` runs the import
without writing; ``queue_job`` hands it to a worker, which calls ``run_job``.
Command line: ``import_path`` does it all at once.

A writing run is one database transaction: the rows and the job's final counts
commit together or not at all. Progress is written meanwhile on a connection
of its own, or the polling page would see nothing until the end.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from campaigns.spreadsheets import neutralize_cell
from config.enqueue import TaskRef
from outreach.imports import engine
from outreach.imports.mapping import (
    check_mapping,
    guess_mapping,
    mapping_from_json,
    mapping_to_json,
)
from outreach.imports.reader import Cell, Table, UnreadableFile, open_table
from outreach.imports.registry import importer_class
from outreach.imports.validate import web_url
from outreach.models import ImportJob, Kind

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from campaigns.models import Campaign, User

log = logging.getLogger(__name__)

HEAD_ROWS = 5
# Bound by outreach.tasks, which imports this module.
import_task: TaskRef[[int]] = TaskRef("outreach.tasks.run_import")
REJECTED_EXTRA_HEADERS = ["Rejected row", "Rejection reason"]


def importer_for(job: ImportJob) -> engine.Importer:
    return importer_class(job.target)(job.campaign, by=job.created_by, options=job.options)


@contextmanager
def _table(handle: IO[bytes], name: str) -> Iterator[Table]:
    with open_table(
        handle,
        name=name,
        max_bytes=settings.IMPORT_MAX_BYTES,
        max_rows=settings.IMPORT_MAX_ROWS,
    ) as table:
        yield table


@contextmanager
def job_table(job: ImportJob) -> Iterator[Table]:
    """The job's stored file, opened as a table."""
    if not job.file:
        raise UnreadableFile("This import has no stored file (it was run from the command line).")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise UnreadableFile("The uploaded file is no longer stored; upload it again.") from exc
    with handle, _table(handle.file, job.original_name) as table:
        yield table


def clean_default_target_url(value: str) -> str:
    """A backlink import's target URL for rows without one, checked as the rows'
    are; blank stays blank (the campaign's home page). Raises ``RowError``."""
    value = value.strip()
    return web_url(value, field="target_url", bare_domain=True) if value else ""


def job_options(target: str, *, kind: str = "", target_url: str = "") -> dict[str, str]:
    """What an import needs besides its file: prospect imports the type of rows
    without one, backlink imports their target URL (when one was given)."""
    if target == ImportJob.Target.PROSPECTS:
        return {"kind": kind or Kind.BLOGGER}
    return {"target_url": target_url} if target_url else {}


def start_job(
    *,
    campaign: Campaign,
    target: str,
    upload: UploadedFile,
    by: User | None,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Check that the upload reads as a table, store it, guess its mapping."""
    job, _width = _new_job(campaign, target, upload, by, options)
    _store(job, upload)
    return job


def start_and_queue_job(
    *,
    campaign: Campaign,
    target: str,
    upload: UploadedFile,
    by: User | None,
    options: dict[str, Any] | None = None,
) -> tuple[ImportJob | None, list[str]]:
    """Upload and import in one step, with the mapping guessed from the headers
    (the API's way: no one is there to fix the columns). A guess the mapping
    page would refuse stores nothing and returns the page's problems."""
    job, width = _new_job(campaign, target, upload, by, options)
    problems = _mapping_problems(importer_for(job), mapping_from_json(job.mapping), width)
    if problems:
        return None, problems
    _store(job, upload)
    queue_job(job)
    return job, []


def _new_job(
    campaign: Campaign,
    target: str,
    upload: UploadedFile,
    by: User | None,
    options: dict[str, Any] | None,
) -> tuple[ImportJob, int]:
    """The job an upload starts (not saved yet) and its table's width."""
    importer = importer_class(target)
    name = Path(upload.name or "upload").name[:200]
    handle = upload.file
    handle.seek(0)
    with _table(handle, name) as table:
        mapping = guess_mapping(table.headers, importer.fields)
        file_format = table.format
        width = len(table.headers)
    handle.seek(0)
    job = ImportJob(
        campaign=campaign,
        target=target,
        created_by=by,
        original_name=name,
        file_size=upload.size or 0,
        file_format=file_format,
        mapping=mapping_to_json(mapping),
        options=options or {},
    )
    return job, width


def _store(job: ImportJob, upload: UploadedFile) -> None:
    job.file.save(job.original_name, upload, save=False)
    job.save()


def _mapping_problems(importer: engine.Importer, mapping: dict[int, str], width: int) -> list[str]:
    problems = check_mapping(mapping, importer.fields, width)
    return problems + importer.mapping_problems(set(mapping.values()))


def head(job: ImportJob, rows: int = HEAD_ROWS) -> tuple[list[str], list[list[Cell]]]:
    """The header and the first few data rows, for the mapping page."""
    with job_table(job) as table:
        sample = []
        for _number, cells in table.rows():
            sample.append(cells)
            if len(sample) >= rows:
                break
        return table.headers, sample


def set_mapping(job: ImportJob, mapping: dict[int, str], *, width: int) -> list[str]:
    """Store a person's mapping; return its problems (nothing stored then)."""
    problems = _mapping_problems(importer_for(job), mapping, width)
    if not problems:
        job.mapping = mapping_to_json(mapping)
        job.save(update_fields=["mapping"])
    return problems


def preview_job(job: ImportJob) -> engine.Summary:
    """A dry run of the whole file: the counts a real run would give, and the
    first rows as they would be stored. Writes only the job's summary."""
    with job_table(job) as table:
        summary = engine.run(importer_for(job), table, mapping_from_json(job.mapping), write=False)
    job.rows_total = summary.rows
    job.summary = {**summary.to_json(), "preview": summary.preview, "is_preview": True}
    job.save(update_fields=["rows_total", "summary"])
    return summary


def queue_job(job: ImportJob) -> bool:
    """Hand the job to a worker, once: a second click queues nothing."""
    queued = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.UPLOADED).update(
        state=ImportJob.State.QUEUED, queued_at=timezone.now(), error=""
    )
    if queued:
        import_task.on_commit(job.pk)
        job.state = ImportJob.State.QUEUED
    return bool(queued)


class _Progress:
    """Writes a job's rows_done on a connection of its own, in autocommit.

    The import's own connection is inside one long transaction, invisible to the
    page polling the job until it commits. The import's transaction never
    touches the job row before it has closed this, so the two never wait on
    each other. SQLite allows one writer at a time, so there progress shows
    only at the end.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.connection = None
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, rows_done: int) -> None:
        if self.connection is None:
            return
        table = self.connection.ops.quote_name(ImportJob._meta.db_table)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s WHERE id = %s",  # noqa: S608
                [rows_done, self.job_id],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def run_import_job(
    job_id: int, *, after_batch: Callable[[int], None] | None = None
) -> ImportJob | None:
    """Run a queued import. Safe to call twice: only the call that moves the job
    from queued to running does anything. ``after_batch`` is called with the
    rows read so far after each written batch (tests use it to fail mid-way)."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=timezone.now(), rows_done=0, error=""
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("campaign", "created_by").get(pk=job_id)
    side = _Progress(job.pk)

    def progress(rows: int) -> None:
        side(rows)
        if after_batch is not None:
            after_batch(rows)

    try:
        with (
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rejected,
            job_table(job) as table,
        ):
            write_rejected = _rejected_writer(rejected, table.headers)
            with transaction.atomic():
                summary = engine.run(
                    importer_for(job),
                    table,
                    mapping_from_json(job.mapping),
                    write=True,
                    progress=progress,
                    on_reject=write_rejected,
                )
                side.close()
                _finish(job, summary, rejected)
    except UnreadableFile as exc:
        _fail(job, f"Nothing was imported: {exc}")
    except DatabaseError as exc:
        log.exception("Import %s failed in the database", job_id)
        _fail(
            job,
            "Nothing was imported: the database refused a row, and the whole import was "
            f"rolled back. Details: {exc}".strip(),
        )
    except Exception as exc:
        _fail(job, f"Nothing was imported: the import stopped with an error ({exc}).")
        raise
    finally:
        side.close()
    job.refresh_from_db()
    return job


def _rejected_writer(out: IO[str], headers: list[str]) -> Callable[[engine.Rejection], None]:
    writer = csv.writer(out)

    def write_row(cells: list[object]) -> None:
        # Every cell, the file's own header and our reason (which quotes that
        # header) included: all of it was written by whoever made the upload.
        writer.writerow([neutralize_cell("" if cell is None else str(cell)) for cell in cells])

    write_row([*headers, *REJECTED_EXTRA_HEADERS])

    def write(rejection: engine.Rejection) -> None:
        write_row([*rejection.cells, rejection.row, rejection.reason])

    return write


def _finish(job: ImportJob, summary: engine.Summary, rejected: IO[str]) -> None:
    """Record the outcome, inside the import's transaction."""
    if summary.rejected:
        rejected.flush()
        rejected.seek(0)
        stem = Path(job.original_name).stem or "import"
        job.rejected_file.save(f"{stem}-rejected.csv", File(rejected), save=False)
    _record_summary(job, summary)
    job.state = ImportJob.State.DONE
    job.finished_at = timezone.now()
    job.save()


def _record_summary(job: ImportJob, summary: engine.Summary) -> None:
    job.rows_total = job.rows_done = summary.rows
    job.created_count = summary.created
    job.updated_count = summary.updated
    job.duplicate_count = summary.duplicates
    job.rejected_count = summary.rejected
    job.summary = summary.to_json()


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.FAILED, error=message[:5000], finished_at=timezone.now()
    )


def import_path(
    path: Path,
    *,
    campaign: Campaign,
    target: str,
    by: User | None = None,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
    on_reject: Callable[[engine.Rejection], None] | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> engine.Summary:
    """Import a file from disk, as the command line does: mapping guessed from
    the headers, and (unless a dry run) recorded in the import history."""
    if not path.is_file():
        raise UnreadableFile(f"There is no file at {path}.")
    importer = importer_class(target)(campaign, by=by, options=options)
    started = timezone.now()
    with open(path, "rb") as handle, _table(handle, path.name) as table:
        mapping = guess_mapping(table.headers, importer.fields)
        if dry_run:
            return engine.run(importer, table, mapping, write=False, on_reject=on_reject)
        with transaction.atomic():
            summary = engine.run(
                importer,
                table,
                mapping,
                write=True,
                on_reject=on_reject,
                progress=after_batch,
            )
            job = ImportJob(
                campaign=campaign,
                target=target,
                source=ImportJob.Source.CLI,
                created_by=by,
                created_at=started,
                original_name=path.name[:255],
                file_size=os.path.getsize(path),
                file_format=table.format,
                mapping=mapping_to_json(mapping),
                options=options or {},
                state=ImportJob.State.DONE,
                started_at=started,
                finished_at=timezone.now(),
            )
            _record_summary(job, summary)
            job.save()
    return summary
