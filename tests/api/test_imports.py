"""Imports over the API: upload a spreadsheet, poll the job. The same engine,
caps and validation as the import pages (tests/outreach/test_import_views.py);
the worker's task is called directly with the job id, as the worker would."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from outreach.models import ImportJob, Prospect
from outreach.tasks import run_import
from tests.spreadsheets import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["Website", "Contact Email"],
    ["https://a.example/", "a@a.example"],
    ["https://b.example/", "broken"],
    ["https://c.example/", ""],
]


def upload(client, campaign, data: bytes, name="list.csv", **extra):
    return client.post(
        "/api/v1/imports/",
        {"campaign": campaign.pk, "file": SimpleUploadedFile(name, data), **extra},
        format="multipart",
    )


def test_an_upload_is_queued_and_its_poll_shows_the_result_with_row_errors(
    api_admin, campaign, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_admin, campaign, csv_bytes(ROWS), kind="guest_post")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/imports/{job.pk}/"
    body = response.json()
    assert (body["id"], body["state"], body["options"]) == (
        job.pk,
        "queued",
        {"kind": "guest_post"},
    )
    # Queued on the broker's bulk queue for a worker, as the page's "Import" button does.
    messages = queue.lrange("bulk", 0, -1)
    assert sum(b"outreach.tasks.run_import" in raw for raw in messages) == 1

    poll = api_admin.get(response["Location"]).json()
    assert (poll["state"], poll["percent"], poll["rejections"]) == ("queued", 0, [])

    run_import(job.pk)

    poll = api_admin.get(response["Location"]).json()
    assert poll["state"] == "done"
    assert (poll["rows_total"], poll["rows_done"], poll["percent"]) == (3, 3, 100)
    assert (poll["created_count"], poll["rejected_count"]) == (2, 1)
    [rejection] = poll["rejections"]
    assert rejection["row"] == 3  # the spreadsheet's row: the header is row 1
    assert "email" in rejection["reason"].lower()
    assert set(Prospect.objects.values_list("kind", flat=True)) == {"guest_post"}


def test_an_xlsx_backlink_import_takes_its_target_url(api_admin, campaign):
    rows = [["Referring page URL", "Anchor"], ["https://blog.example/post/", "our tool"]]
    response = upload(
        api_admin,
        campaign,
        xlsx_bytes(rows),
        name="links.xlsx",
        target="backlinks",
        target_url="ours.example/tool/",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["target"], body["file_format"]) == ("backlinks", "xlsx")
    assert body["options"] == {"target_url": "https://ours.example/tool/"}


def test_a_file_whose_columns_cannot_be_guessed_is_refused_and_nothing_is_kept(api_admin, campaign):
    response = upload(api_admin, campaign, csv_bytes([["Site link"], ["https://a.example/"]]))
    assert response.status_code == 400
    assert "URL or domain" in response.json()["errors"]["file"][0]
    assert not ImportJob.objects.exists()


def test_an_unreadable_file_is_a_400_saying_why(api_admin, campaign):
    response = upload(api_admin, campaign, b"%PDF-1.7", name="list.pdf")
    assert response.status_code == 400
    assert "Only CSV and XLSX files" in response.json()["errors"]["file"][0]
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_cap_is_413_before_anything_is_stored(api_admin, campaign, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = csv_bytes([["URL"]] + [[f"https://p{i}.example/{'x' * 40}"] for i in range(30_000)])
    response = upload(api_admin, campaign, big)
    assert response.status_code == 413
    assert "larger than 1 MB" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_a_file_past_the_cap_within_the_form_overhead_is_stopped_while_it_streams(
    api_admin, campaign, settings
):
    # Declared length under cap + overhead, file bytes over the cap: the
    # upload handler stops it mid-body.
    settings.IMPORT_MAX_BYTES = 10_000
    data = csv_bytes([["URL"]] + [[f"https://p{i}.example/"] for i in range(1000)])
    assert 10_000 < len(data) < 10_000 + 64 * 1024
    response = upload(api_admin, campaign, data)
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_a_failed_import_polls_as_failed_with_its_error(api_admin, campaign, admin_user):
    job = ImportJob.objects.create(
        campaign=campaign,
        target="prospects",
        created_by=admin_user,
        original_name="gone.csv",
        state=ImportJob.State.FAILED,
        error="Nothing was imported: the file is gone.",
    )
    body = api_admin.get(f"/api/v1/imports/{job.pk}/").json()
    assert (body["state"], body["error"], body["rejections"]) == (
        "failed",
        "Nothing was imported: the file is gone.",
        [],
    )
