"""import_prospects and import_backlinks: output and exit status."""

from __future__ import annotations

import io
import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from links.models import Backlink
from outreach.models import ImportJob, Kind, Prospect
from tests.spreadsheets import write_csv, write_xlsx
from tests.support.processes import environment, run_python


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_prints_counts_and_rejected_rows(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["URL", "Email"],
            ["https://a.example/", "a@a.example"],
            ["https://a.example", ""],
            ["https://b.example/", "nope"],
        ],
    )
    output = command("import_prospects", str(path), "--campaign", campaign.slug)
    assert "created 1, updated 0, duplicates 1, rejected 1" in output
    assert "row 4: Email: 'nope' is not a valid email address" in output


def test_kind_option(tmp_path, campaign):
    path = write_xlsx(tmp_path / "p.xlsx", [["Website"], ["https://a.example/"]])
    command("import_prospects", str(path), "--campaign", campaign.slug, "--kind", "haro")
    assert Prospect.objects.get().kind == Kind.HARO


def test_dry_run_writes_nothing(tmp_path, campaign):
    path = write_csv(tmp_path / "p.csv", [["URL"], ["https://a.example/"]])
    output = command("import_prospects", str(path), "--campaign", campaign.slug, "--dry-run")
    assert "dry run, nothing written: created 1, updated 0, duplicates 0, rejected 0" in output
    assert not Prospect.objects.exists()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "There is no file"),
        ("notes.pdf", b"%PDF-1.4", "Only CSV and XLSX"),
        ("p.csv", b"Name,Email\nAnn,a@b.example\n", "No column holds"),
    ],
)
def test_unreadable_file_exits_2(tmp_path, campaign, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as caught:
        command("import_prospects", str(path), "--campaign", campaign.slug)
    assert caught.value.returncode == 2


def test_unknown_campaign_exits_2(tmp_path, db):
    path = write_csv(tmp_path / "p.csv", [["URL"], ["https://a.example/"]])
    with pytest.raises(CommandError, match="No campaign") as caught:
        command("import_prospects", str(path), "--campaign", "nope")
    assert caught.value.returncode == 2


def test_import_backlinks_with_a_target(tmp_path, campaign):
    path = write_csv(tmp_path / "gsc.csv", [["Linking page"], ["https://a.example/post"]])
    output = command(
        "import_backlinks",
        str(path),
        "--campaign",
        campaign.slug,
        "--target",
        "https://ours.example/guide",
    )
    assert "created 1, updated 0, duplicates 0, rejected 0" in output
    assert Backlink.objects.get().target_url == "https://ours.example/guide"


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py as a person would, against the test database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_db = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = environment({"DATABASE_URL": test_db, "SECRET_KEY": "cli-test"})
    return run_python("manage.py", *args, env=env, check=False, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_exit_status_of_the_real_command(tmp_path):
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(slug="cli")
    good = write_csv(tmp_path / "p.csv", [["URL"], ["https://a.example/"], ["ftp://b.example/"]])
    done = _manage("import_prospects", str(good), "--campaign", campaign.slug)
    assert done.returncode == 0, done.stderr
    assert "created 1, updated 0, duplicates 0, rejected 1" in done.stdout
    assert "row 3: URL:" in done.stdout
    missing = _manage("import_prospects", str(tmp_path / "nope.csv"), "--campaign", "cli")
    assert missing.returncode == 2
    assert "There is no file" in missing.stderr
