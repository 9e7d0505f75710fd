"""The browser flow's services and the Celery task, called directly with an
ImportJob id (no eager mode, no broker needed)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections

from outreach.imports import engine, services
from outreach.imports.reader import UnreadableFile
from outreach.models import ImportJob, Prospect, StatusChange
from outreach.tasks import run_import
from tests.spreadsheets import csv_bytes, xlsx_bytes


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    # Fewer rows show the same batch boundaries.
    monkeypatch.setattr(engine, "BATCH_SIZE", 2000)


def upload(rows, name="prospects.csv", **kwargs) -> SimpleUploadedFile:
    data = xlsx_bytes(rows) if name.endswith(".xlsx") else csv_bytes(rows)
    return SimpleUploadedFile(name, data, **kwargs)


ROWS = [
    ["Website", "Contact Email", "Whatever"],
    ["https://a.example/", "a@a.example", "x"],
    ["https://b.example/", "broken", "y"],
    ["https://c.example/", "", '=HYPERLINK("https://evil.example")'],
    ["https://a.example", "", ""],
]


def start(campaign, admin_user, rows=ROWS, name="prospects.csv"):
    return services.start_job(
        campaign=campaign, target="prospects", upload=upload(rows, name), by=admin_user
    )


def test_start_job_stores_the_file_and_guesses_the_mapping(campaign, admin_user):
    job = start(campaign, admin_user)
    assert job.state == ImportJob.State.UPLOADED
    assert job.mapping == {"0": "url", "1": "contact_email"}
    assert (job.original_name, job.file_format) == ("prospects.csv", "csv")
    with job.file.open("rb") as stored:
        assert stored.read() == csv_bytes(ROWS)
    headers, sample = services.head(job)
    assert headers == ROWS[0]
    assert sample[0] == ROWS[1]


def test_start_job_refuses_an_unreadable_file_and_stores_nothing(campaign, admin_user, settings):
    with pytest.raises(UnreadableFile):
        services.start_job(
            campaign=campaign,
            target="prospects",
            upload=SimpleUploadedFile("x.pdf", b"%PDF"),
            by=admin_user,
        )
    assert not ImportJob.objects.exists()
    assert not (settings.MEDIA_ROOT / "imports").exists()


def test_set_mapping_checks_and_stores(campaign, admin_user):
    job = start(campaign, admin_user)
    assert services.set_mapping(job, {1: "contact_email"}, width=3) == [
        "No column holds the prospect's URL or domain: name one URL, Website, Page URL or "
        "Domain, or pick it in the column mapping."
    ]
    problems = services.set_mapping(job, {0: "url", 2: "url"}, width=3)
    assert "URL is chosen for two columns (1 and 3); pick one." in problems
    assert services.set_mapping(job, {0: "url", 2: "notes"}, width=3) == []
    job.refresh_from_db()
    assert job.mapping == {"0": "url", "2": "notes"}


def test_preview_counts_without_writing(campaign, admin_user):
    job = start(campaign, admin_user)
    summary = services.preview_job(job)
    assert (summary.created, summary.rejected, summary.duplicates) == (2, 1, 1)
    assert [row["URL"] for row in summary.preview] == ["https://a.example/", "https://c.example/"]
    assert not Prospect.objects.exists()
    job.refresh_from_db()
    assert (job.rows_total, job.summary["created"], job.state) == (4, 2, "uploaded")


def test_queue_job_enqueues_once_after_commit(
    campaign, admin_user, django_capture_on_commit_callbacks
):
    job = start(campaign, admin_user)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.queue_job(job) is True
        assert services.queue_job(job) is False
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def queued(campaign, admin_user, rows=ROWS, name="prospects.csv") -> ImportJob:
    job = start(campaign, admin_user, rows, name)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    return job


def test_task_runs_the_import_and_offers_the_rejected_rows(campaign, admin_user):
    job = queued(campaign, admin_user)
    run_import(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.error
    assert (job.created_count, job.updated_count, job.duplicate_count, job.rejected_count) == (
        2,
        0,
        1,
        1,
    )
    assert job.rows_done == job.rows_total == 4
    assert (
        StatusChange.objects.filter(prospect__campaign=campaign, changed_by=admin_user).count() == 2
    )
    with job.rejected_file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode())))
    assert rows == [
        ["Website", "Contact Email", "Whatever", "Rejected row", "Rejection reason"],
        [
            "https://b.example/",
            "broken",
            "y",
            "3",
            "Contact Email: 'broken' is not a valid email address",
        ],
    ]


def test_rejected_rows_file_neutralizes_formulas_and_reimports(campaign, admin_user):
    rows = [["URL", "Notes", "DR"], ["https://a.example/", "=1+1", "999"]]
    job = queued(campaign, admin_user, rows)
    run_import(job.pk)
    job.refresh_from_db()
    with job.rejected_file.open("rb") as handle:
        content = handle.read()
    assert b"'=1+1" in content
    # Fixed and uploaded again: the quote comes off, the extra columns are ignored.
    fixed = content.replace(b"999", b"40")
    again = services.start_job(
        campaign=campaign,
        target="prospects",
        upload=SimpleUploadedFile("fixed.csv", fixed),
        by=admin_user,
    )
    ImportJob.objects.filter(pk=again.pk).update(state=ImportJob.State.QUEUED)
    run_import(again.pk)
    prospect = Prospect.objects.get(campaign=campaign)
    assert (prospect.notes, prospect.domain_rating) == ("=1+1", 40)


def test_xlsx_job(campaign, admin_user):
    job = queued(campaign, admin_user, [["URL", "DR"], ["https://a.example/", 45]], "p.xlsx")
    run_import(job.pk)
    assert Prospect.objects.get().domain_rating == 45


def test_task_twice_does_nothing_the_second_time(campaign, admin_user):
    job = queued(campaign, admin_user)
    run_import(job.pk)
    run_import(job.pk)
    assert Prospect.objects.filter(campaign=campaign).count() == 2
    assert services.run_import_job(job.pk) is None


def test_task_for_a_missing_job_returns_quietly(db):
    run_import(999_999)


def test_database_failure_marks_the_job_failed_and_leaves_nothing(campaign, admin_user):
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE outreach_prospect ADD CONSTRAINT test_no_c CHECK (domain <> 'c.example')"
        )
    job = queued(campaign, admin_user)
    run_import(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "rolled back" in job.error
    assert not job.rejected_file
    assert job.created_count == 0
    assert not Prospect.objects.exists()
    assert not StatusChange.objects.exists()


def test_error_mid_import_marks_the_job_failed_and_leaves_nothing(campaign, admin_user):
    rows = [["URL"]] + [[f"https://p{i}.example/"] for i in range(5000)]
    job = queued(campaign, admin_user, rows)

    def boom(rows_read: int) -> None:
        if rows_read > 2000:
            raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected failure"):
        services.run_import_job(job.pk, after_batch=boom)
    job.refresh_from_db()
    assert (job.state, job.error) == (
        ImportJob.State.FAILED,
        "Nothing was imported: the import stopped with an error (injected failure).",
    )
    assert not Prospect.objects.exists()


def test_deleted_upload_fails_with_a_message(campaign, admin_user):
    job = queued(campaign, admin_user)
    job.file.storage.delete(job.file.name)
    run_import(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "no longer stored" in job.error


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_while_the_import_runs(settings, tmp_path):
    from tests.factories import CampaignFactory, UserFactory

    campaign = CampaignFactory()
    admin = UserFactory(role="admin")
    rows = [["URL"]] + [[f"https://p{i}.example/"] for i in range(6500)]
    job = queued(campaign, admin, rows)
    seen: list[tuple[int, int, int]] = []
    other = connections.create_connection(DEFAULT_DB_ALIAS)

    def look(rows_read: int) -> None:
        # The page polling the job sees how far the import got, while nothing
        # it wrote is visible to anyone until it commits.
        with other.cursor() as cursor:
            cursor.execute("SELECT rows_done FROM outreach_importjob WHERE id = %s", [job.pk])
            rows_done = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM outreach_prospect")
            visible = cursor.fetchone()[0]
        seen.append((rows_read, rows_done, visible))

    try:
        services.run_import_job(job.pk, after_batch=look)
    finally:
        other.close()
    assert seen == [(2000, 2000, 0), (4000, 4000, 0), (6000, 6000, 0), (6500, 6500, 0)]
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.DONE
    assert Prospect.objects.count() == 6500


def test_row_cap_hit_mid_import_leaves_nothing_and_the_connection_usable(
    campaign, admin_user, settings
):
    settings.IMPORT_MAX_ROWS = 3000
    rows = [["URL"]] + [[f"https://p{i}.example/"] for i in range(3500)]
    job = queued(campaign, admin_user, rows)
    run_import(job.pk)  # the cap is hit while new rows are being streamed
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "more than 3,000 data rows" in job.error
    assert not Prospect.objects.exists()
    assert not StatusChange.objects.exists()
