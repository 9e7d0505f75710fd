"""The import pages, as an admin uses them (Django's test client; the browser
version is tests/e2e/test_import.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from outreach.models import ImportJob, Prospect
from tests.factories import ImportJobFactory
from tests.spreadsheets import csv_bytes


def post_upload(client, campaign, data: bytes, name="list.csv", **extra):
    return client.post(
        reverse("imports:new"),
        {
            "campaign": campaign.pk,
            "target": "prospects",
            "kind": "blogger",
            "file": SimpleUploadedFile(name, data),
            **extra,
        },
    )


ROWS = [["Site link", "Email"], ["https://a.example/", "a@a.example"], ["https://b.example/", "x"]]


def test_upload_stores_the_file_and_goes_to_the_mapping(as_admin, campaign, admin_user):
    response = post_upload(as_admin, campaign, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert (job.created_by, job.campaign, job.options) == (
        admin_user,
        campaign,
        {"kind": "blogger"},
    )


def test_upload_over_the_size_cap_is_refused_with_a_message(as_admin, campaign, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = csv_bytes([["URL"]] + [[f"https://p{i}.example/{'x' * 40}"] for i in range(30_000)])
    response = post_upload(as_admin, campaign, big)
    # Refused on its declared length, before the body is read (tests/campaigns/test_uploads.py).
    assert response.status_code == 413
    assert "larger than 1 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_of_an_unreadable_file_says_why(as_admin, campaign):
    response = post_upload(as_admin, campaign, b"%PDF-1.7", name="list.pdf")
    assert "Only CSV and XLSX files" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_needs_the_csrf_token(client, admin_user, campaign):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = post_upload(client, campaign, csv_bytes(ROWS))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_mapping_page_shows_columns_and_takes_corrections(as_admin, campaign):
    post_upload(as_admin, campaign, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    url = reverse("imports:mapping", args=[job.pk])
    page = as_admin.get(url).content.decode()
    assert "Site link" in page
    assert "https://a.example/" in page  # a sample value
    # "Site link" is not a known name: the admin maps it by hand.
    response = as_admin.post(url, {"col_0": "url", "col_1": "contact_email"})
    assert response["Location"] == reverse("imports:preview", args=[job.pk])
    job.refresh_from_db()
    assert job.mapping == {"0": "url", "1": "contact_email"}


def test_mapping_without_a_url_column_is_explained(as_admin, campaign):
    post_upload(as_admin, campaign, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    response = as_admin.post(
        reverse("imports:mapping", args=[job.pk]), {"col_0": "", "col_1": "contact_email"}
    )
    assert response.status_code == 200
    assert "No column holds the prospect&#x27;s URL" in response.content.decode()


def test_preview_shows_counts_and_writes_nothing(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign)
    page = as_admin.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Import 1 row" in page
    assert "&#x27;broken&#x27; is not a valid email address" in page
    assert not Prospect.objects.exists()


def test_confirm_queues_once_and_enqueues_after_commit(
    as_admin, campaign, django_capture_on_commit_callbacks
):
    job = ImportJobFactory(campaign=campaign)
    url = reverse("imports:confirm", args=[job.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = as_admin.post(url)
        as_admin.post(url)
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED


def test_confirm_is_post_only(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign)
    assert as_admin.get(reverse("imports:confirm", args=[job.pk])).status_code == 405


def test_status_fragment_polls_while_running_and_stops_when_done(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign, state="running", rows_total=200, rows_done=50)
    url = reverse("imports:status", args=[job.pk])
    running = as_admin.get(url, headers={"HX-Request": "true"})
    body = running.content.decode()
    assert running.status_code == 200
    assert 'hx-trigger="every 1s"' in body
    assert 'value="25"' in body
    ImportJob.objects.filter(pk=job.pk).update(state="done", created_count=2)
    done = as_admin.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in done.content.decode()
    assert "Imported" in done.content.decode()


def test_failed_import_shows_its_error(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign, state="failed", error="Nothing was imported: boom")
    page = as_admin.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "Nothing was imported: boom" in page


def test_rejected_rows_download(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign, state="queued")
    from outreach.tasks import run_import

    run_import(job.pk)
    response = as_admin.get(reverse("imports:rejected", args=[job.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="prospects-rejected.csv"'
    content = b"".join(response.streaming_content).decode()
    assert content.splitlines()[0] == "URL,Email,Rejected row,Rejection reason"
    assert "https://b.example/,broken,3,Email: 'broken' is not a valid email address" in content


def test_no_rejected_rows_is_404(as_admin, campaign):
    job = ImportJobFactory(campaign=campaign, state="done")
    assert as_admin.get(reverse("imports:rejected", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("count", [3, 30])
def test_history_query_count_does_not_grow_with_rows(
    as_admin, campaign, admin_user, django_assert_max_num_queries, count
):
    ImportJobFactory.create_batch(count, campaign=campaign, created_by=admin_user, state="done")
    with django_assert_max_num_queries(8):
        response = as_admin.get(reverse("imports:history"))
    assert response.content.decode().count("prospects.csv") == min(count, 25)


def test_history_empty_state_says_what_to_do(as_admin):
    page = as_admin.get(reverse("imports:history")).content.decode()
    assert "Nothing has been imported yet" in page


def test_nav_shows_import_to_admins_only(client, admin_user, member):
    client.force_login(member)
    assert ">Import</a>" not in client.get(reverse("campaigns:list")).content.decode()
    client.force_login(admin_user)
    assert ">Import</a>" in client.get(reverse("campaigns:list")).content.decode()
