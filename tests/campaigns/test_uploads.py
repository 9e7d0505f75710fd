"""Upload size caps hold while the body streams in: an upload over the cap is
refused with a sentence, and nothing of it is left in MEDIA_ROOT, the upload
temporary folder or the database (campaigns/uploads.py)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from campaigns.uploads import FORM_OVERHEAD_BYTES
from links.prospecting.models import BacklinkExport
from outreach.models import ImportJob
from tests.factories import CampaignFactory, UserFactory

CAP = 100 * 1024


def csv_of(size: int) -> bytes:
    line = b"https://prospect.example/" + b"x" * 70 + b"\r\n"
    return b"URL\r\n" + line * (size // len(line) + 1)


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


@pytest.fixture
def caps(settings, tmp_path):
    settings.IMPORT_MAX_BYTES = CAP
    settings.LINK_GAP_MAX_UPLOAD_MB = 1
    # Small, so an upload goes to a temporary file at once, in a folder we watch.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return settings


def assert_nothing_stored(settings) -> None:
    assert not ImportJob.objects.exists()
    assert not BacklinkExport.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


@pytest.fixture
def admin_with_campaign(db):
    admin = UserFactory(username="adm", role="admin")
    return admin, CampaignFactory(slug="ours", members=[admin])


def import_form(campaign, data: bytes) -> dict:
    return {
        "campaign": campaign.pk,
        "target": "prospects",
        "kind": "blogger",
        "file": SimpleUploadedFile("list.csv", data),
    }


def test_an_import_under_the_cap_is_stored(client, caps, admin_with_campaign):
    admin, campaign = admin_with_campaign
    client.force_login(admin)
    response = client.post(reverse("imports:new"), import_form(campaign, csv_of(CAP - 2048)))
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


def test_an_import_declared_over_the_cap_is_refused_unread(client, caps, admin_with_campaign):
    admin, campaign = admin_with_campaign
    client.force_login(admin)
    response = client.post(
        reverse("imports:new"), import_form(campaign, csv_of(CAP + FORM_OVERHEAD_BYTES + 1))
    )
    assert response.status_code == 413
    assert "The file is larger than 100 KB" in response.content.decode()
    assert_nothing_stored(caps)


def test_an_import_that_passes_the_cap_while_streaming_is_cut_off(
    client, caps, admin_with_campaign
):
    # Over the cap, but within the allowance for the form around the file: the
    # declared length passes and the handler stops the file mid-stream.
    admin, campaign = admin_with_campaign
    client.force_login(admin)
    response = client.post(reverse("imports:new"), import_form(campaign, csv_of(CAP + 4096)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file is larger than 100 KB" in page
    assert "This field is required" not in page
    assert_nothing_stored(caps)


def test_an_import_upload_still_needs_the_csrf_token(client, caps, admin_with_campaign):
    admin, campaign = admin_with_campaign
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(reverse("imports:new"), import_form(campaign, csv_of(1000)))
    assert response.status_code == 403
    assert_nothing_stored(caps)


def test_a_link_gap_upload_still_needs_the_csrf_token(client, caps, admin_with_campaign):
    admin, campaign = admin_with_campaign
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(
        reverse("prospecting:link_gap_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("ahrefs.csv", csv_of(1000))},
    )
    assert response.status_code == 403
    assert_nothing_stored(caps)


def test_a_link_gap_export_over_the_cap_is_refused(client, caps, admin_with_campaign):
    admin, campaign = admin_with_campaign
    client.force_login(admin)
    url = reverse("prospecting:link_gap_upload", args=[campaign.slug])
    declared = client.post(
        url, {"file": SimpleUploadedFile("ahrefs.csv", csv_of(1024 * 1024 + FORM_OVERHEAD_BYTES))}
    )
    assert declared.status_code == 413
    assert "The file is larger than 1 MB" in declared.content.decode()
    assert_nothing_stored(caps)

    streamed = client.post(
        url, {"file": SimpleUploadedFile("ahrefs.csv", csv_of(1024 * 1024 + 4096))}, follow=True
    )
    assert "The file is larger than 1 MB" in streamed.content.decode()
    assert_nothing_stored(caps)


def raw_post(live_server, path: str, cookie: str, head: dict[str, str], body: bytes = b"") -> str:
    """One HTTP/1.1 request written by hand (the test client cannot send a
    chunked body, nor a length it does not send); the status line and page."""
    address = urlsplit(live_server.url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {address.netloc}", f"Cookie: sessionid={cookie}"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    with socket.create_connection(("127.0.0.1", address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        # Read the answer by its length, not to the end of the connection:
        # Django's development server drains a declared body after answering.
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536) or b"\r\n\r\n"
        head_part, _, page = received.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length: *(\d+)", head_part)
        while length and len(page) < int(length[1]):
            more = sock.recv(65536)
            if not more:
                break
            page += more
    return (head_part + b"\r\n\r\n" + page).decode("utf-8", "replace")


def chunked(data: bytes, size: int = 16 * 1024) -> bytes:
    parts = [
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n"
        for i in range(0, len(data), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


@pytest.fixture
def live_admin(transactional_db, client):
    admin = UserFactory(username="adm", role="admin")
    campaign = CampaignFactory(slug="ours", members=[admin])
    client.force_login(admin)
    return campaign, client.cookies["sessionid"].value


UPLOAD_PATHS = {
    "import": lambda campaign: reverse("imports:new"),
    "link gap": lambda campaign: reverse("prospecting:link_gap_upload", args=[campaign.slug]),
    # The API with a session caller, whose CSRF check would read the body.
    "api import": lambda campaign: reverse("api:importjob-list"),
}


@pytest.mark.parametrize("what", UPLOAD_PATHS)
def test_a_chunked_upload_without_a_length_is_refused(live_server, live_admin, caps, what):
    campaign, cookie = live_admin
    path = UPLOAD_PATHS[what](campaign)
    body = encode_multipart(BOUNDARY, import_form(campaign, csv_of(2 * 1024 * 1024)))
    answer = raw_post(
        live_server,
        path,
        cookie,
        {"Content-Type": MULTIPART_CONTENT, "Transfer-Encoding": "chunked"},
        chunked(body),
    )
    assert answer.startswith("HTTP/1.1 411"), answer[:200]
    assert "did not state its size" in answer
    assert_nothing_stored(caps)


@pytest.mark.parametrize("what", ["import", "api import"])
def test_a_huge_declared_length_is_refused_before_any_body_arrives(
    live_server, live_admin, caps, what
):
    # No body follows the headers: had the server waited for it, the read
    # below would time out instead of getting the refusal.
    campaign, cookie = live_admin
    answer = raw_post(
        live_server,
        UPLOAD_PATHS[what](campaign),
        cookie,
        {"Content-Type": MULTIPART_CONTENT, "Content-Length": str(10 * 1024**3)},
    )
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "The file is larger than 100 KB" in answer
    assert_nothing_stored(caps)
