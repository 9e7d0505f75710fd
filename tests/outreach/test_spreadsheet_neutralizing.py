"""Every cell of every spreadsheet the app writes is shown, never run: the
rejected-rows CSV (the uploader's own header and our reason that quotes it
included) and each export, fed by a file whose header and rows start with every
formula trigger."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.spreadsheets import FORMULA_TRIGGERS
from outreach.imports import services
from outreach.models import ImportJob, Prospect
from outreach.tasks import run_import
from tests.factories import BacklinkFactory
from tests.spreadsheets import csv_bytes

# Leading tab and CR in a header are stripped by the reader (they carry no
# meaning there), so the header tries the other four; the cells try all six.
HEADER = ["=URL", "+Email", "-Name", "@Notes", "Niche"]
GOOD = ["https://good.example/", "", "=cmd|' /C calc'!A0", "+SUM(1,2)", "\t=1+1"]
BAD = ["https://bad.example/", "@not-an-email", "-2+3", "\r=2+2", "@import"]
MAPPING = {0: "url", 1: "contact_email", 2: "contact_name", 3: "notes", 4: "niche"}


def assert_no_formula(cells: list[object], where: str) -> None:
    for cell in cells:
        if isinstance(cell, str):
            assert not cell.startswith(FORMULA_TRIGGERS), f"{where}: {cell!r} would run"


def imported(campaign, admin_user) -> ImportJob:
    job = services.start_job(
        campaign=campaign,
        target="prospects",
        upload=SimpleUploadedFile("hostile.csv", csv_bytes([HEADER, GOOD, BAD])),
        by=admin_user,
    )
    assert services.set_mapping(job, MAPPING, width=len(HEADER)) == []
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    run_import(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.error
    return job


def test_rejected_rows_file_neutralizes_header_cells_and_reason(campaign, admin_user, client):
    job = imported(campaign, admin_user)
    assert (job.created_count, job.rejected_count) == (1, 1)
    client.force_login(admin_user)
    response = client.get(reverse("imports:rejected", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, rejected = rows
    assert header == ["'=URL", "'+Email", "'-Name", "'@Notes", "Niche", *header[5:]]
    assert rejected[:5] == [
        "https://bad.example/",
        "'@not-an-email",
        "'-2+3",
        "'\r=2+2",
        "'@import",
    ]
    # The reason names the column by the file's header, which began with "+".
    assert rejected[-1].startswith("'+Email"), rejected[-1]
    for row in rows:
        assert_no_formula(row, "rejected rows")


def test_rejected_rows_file_with_a_quoted_header_maps_again(campaign, admin_user):
    job = imported(campaign, admin_user)
    with job.rejected_file.open("rb") as handle:
        again = services.start_job(
            campaign=campaign,
            target="prospects",
            upload=SimpleUploadedFile("fixed.csv", handle.read()),
            by=admin_user,
        )
    headers, _sample = services.head(again)
    assert headers[:5] == HEADER


def test_every_export_neutralizes_every_cell(campaign, admin_user, client):
    imported(campaign, admin_user)
    prospect = Prospect.objects.get(campaign=campaign)
    assert (prospect.contact_name, prospect.notes) == ("=cmd|' /C calc'!A0", "+SUM(1,2)")
    BacklinkFactory(campaign=campaign, expected_anchor_text="-10% off", source_url=GOOD[0])
    client.force_login(admin_user)
    for name in ("campaigns:prospects_export", "campaigns:backlinks_export"):
        response = client.get(reverse(name, args=[campaign.slug]))
        text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) == 2
        for row in rows:
            assert_no_formula(row, name)
    for name in ("exports:prospects_xlsx", "exports:backlinks_xlsx"):
        response = client.get(reverse(name, args=[campaign.slug]))
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == 2
        for row in rows:
            assert_no_formula(list(row), name)
        assert any(cell in ("'=cmd|' /C calc'!A0", "'-10% off") for cell in rows[1])
