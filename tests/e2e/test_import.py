"""The import flow in a real browser, with a real Celery worker.

Upload a CSV whose URL column has a name the app does not know, fix the column
mapping, read the preview, confirm, watch the progress (htmx polling the status
fragment), and download the rejected rows. The confirm step enqueues on the
test Redis; a Celery worker started here as a subprocess, on the pytest-django
test database (``test_<name>``), runs the import.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from campaigns.models import Role
from outreach.models import ImportJob, Prospect
from tests.factories import CampaignFactory, ProspectFactory, UserFactory
from tests.spreadsheets import write_csv
from tests.support.workers import Worker, purge_queue

ROOT = Path(settings.BASE_DIR)
ROWS = 6000  # three batches: enough for the progress bar to move
BAD_EVERY = 10  # every tenth row has a bad email


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path):
    """A real worker on the test database, the test Redis and this test's media."""
    purge_queue()
    worker = Worker(
        "e2e-import",
        pool="solo",
        concurrency=1,
        env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},
        log_dir=tmp_path,
    )
    worker.wait_ready()
    yield worker
    worker.stop()


def test_admin_imports_prospects_in_the_browser(page, login, celery_worker, tmp_path):
    admin = UserFactory(username="imp-admin", role=Role.ADMIN)
    campaign = CampaignFactory(name="Trail shoes", slug="trail")
    ProspectFactory(campaign=campaign, url="https://site0.example/", contact_email="")
    rows = [["Site link", "Contact Email", "DR"]]
    for i in range(ROWS):
        email = "not-an-email" if i % BAD_EVERY == 5 else f"ed@site{i}.example"
        rows.append([f"https://site{i}.example/", email, str(i % 101)])
    upload = write_csv(tmp_path / "prospects.csv", rows)
    bad = ROWS // BAD_EVERY

    login(admin)
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("Campaign").select_option(label="Trail shoes")
    page.get_by_label("What the file holds").select_option(label="Prospects")
    page.get_by_label("CSV or XLSX file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and check columns").click()

    # "Site link" is not a name the app knows: the admin maps it to URL.
    expect(page.get_by_role("heading", name="Which column is which?")).to_be_visible()
    expect(page.get_by_label("Contact Email")).to_have_value("contact_email")
    expect(page.get_by_label("Site link")).to_have_value("")
    page.get_by_label("Site link").select_option(label="URL")
    page.get_by_role("button", name="Preview the import").click()

    counts = page.locator("#preview-counts")
    expect(counts).to_contain_text(f"New{ROWS - bad - 1:,}")
    expect(counts).to_contain_text("Updated1")
    expect(counts).to_contain_text(f"Rejected{bad:,}")
    expect(page.locator("#preview-rejections")).to_contain_text("is not a valid email address")
    assert Prospect.objects.filter(campaign=campaign).count() == 1  # nothing written yet
    confirm = page.get_by_role("button", name="Import")
    expect(confirm).to_contain_text(f"{ROWS - bad:,} rows")
    confirm.click()

    # The status fragment polls every second until the worker is done.
    status = page.locator("#import-status")
    expect(status).to_have_attribute("hx-trigger", "every 1s")
    try:
        expect(page.get_by_role("heading", name="Imported")).to_be_visible(timeout=60_000)
    except AssertionError:
        print(celery_worker.output())
        raise
    expect(status).not_to_have_attribute("hx-trigger", "every 1s")
    expect(status).to_contain_text(f"New{ROWS - bad - 1:,}")
    expect(status).to_contain_text("Updated1")
    expect(status).to_contain_text(f"Rejected{bad:,}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download the {bad:,} rejected rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "prospects-rejected.csv"
    rejected = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert rejected[0] == ["Site link", "Contact Email", "DR", "Rejected row", "Rejection reason"]
    assert len(rejected) == bad + 1
    assert rejected[1][3:] == ["7", "Contact Email: 'not-an-email' is not a valid email address"]

    assert Prospect.objects.filter(campaign=campaign).count() == ROWS - bad
    job = ImportJob.objects.get()
    assert (job.state, job.created_by, job.rows_done) == ("done", admin, ROWS)

    page.get_by_role("link", name="Import", exact=True).click()
    history = page.locator("#import-history")
    expect(history).to_contain_text("prospects.csv")
    expect(history).to_contain_text("Trail shoes")
    expect(history).to_contain_text("Imported")
