"""Prospect import through the one service, on real files written by the tests,
against the real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from outreach.imports import engine, services
from outreach.imports.engine import Rejection
from outreach.imports.reader import UnreadableFile
from outreach.models import ImportJob, Kind, Prospect, Status, StatusChange, Tag
from tests.factories import ProspectFactory
from tests.spreadsheets import write_csv, write_xlsx


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    # Fewer rows show the same batch boundaries.
    monkeypatch.setattr(engine, "BATCH_SIZE", 2000)


def run(path: Path, campaign, **kwargs):
    rejections: list[Rejection] = []
    summary = services.import_path(
        path, campaign=campaign, target="prospects", on_reject=rejections.append, **kwargs
    )
    return summary, rejections


# --- column names ------------------------------------------------------------------

ALIASES = [
    ("URL", "https://a.example/post", "url", "https://a.example/post"),
    ("Website", "https://a.example/post", "url", "https://a.example/post"),
    ("page url", "https://a.example/post", "url", "https://a.example/post"),
    (" Page_URL ", "https://a.example/post", "url", "https://a.example/post"),
    ("Domain", "a.example", "url", "https://a.example/"),
    ("Email", "ann@a.example", "contact_email", "ann@a.example"),
    ("CONTACT EMAIL", "ann@a.example", "contact_email", "ann@a.example"),
    ("Name", "Ann Lee", "contact_name", "Ann Lee"),
    ("Contact", "Ann Lee", "contact_name", "Ann Lee"),
    ("DR", "45", "domain_rating", 45),
    ("Domain Rating", "45", "domain_rating", 45),
    ("Authority Score", "45", "domain_rating", 45),
    ("DA", "45", "domain_rating", 45),
    ("Type", "Guest post", "kind", Kind.GUEST_POST),
    ("Kind", "guest_post", "kind", Kind.GUEST_POST),
    ("Notes", "Likes running", "notes", "Likes running"),
]


@pytest.mark.parametrize(("header", "value", "attribute", "expected"), ALIASES)
def test_header_aliases_fill_their_field(tmp_path, campaign, header, value, attribute, expected):
    columns = [header] if attribute == "url" else ["URL", header]
    cells = [value] if attribute == "url" else ["https://a.example/post", value]
    summary, rejections = run(write_csv(tmp_path / "p.csv", [columns, cells]), campaign)
    assert (summary.created, rejections) == (1, [])
    assert getattr(Prospect.objects.get(campaign=campaign), attribute) == expected


def test_tags_and_deadline_columns(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["URL", "Tags", "Type", "Deadline"],
            ["https://a.example/", "running; shoes, Running", "HARO", "2025-03-01"],
        ],
    )
    summary, rejections = run(path, campaign)
    assert (summary.created, rejections) == (1, [])
    prospect = Prospect.objects.get(campaign=campaign)
    assert sorted(tag.name for tag in prospect.tags.all()) == ["running", "shoes"]
    assert prospect.kind == Kind.HARO
    assert timezone.localtime(prospect.deadline).strftime("%Y-%m-%d %H:%M") == "2025-03-01 23:59"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Blogger", Kind.BLOGGER),
        ("Guest post", Kind.GUEST_POST),
        ("guest-post", Kind.GUEST_POST),
        ("HARO", Kind.HARO),
        ("HARO query", Kind.HARO),
        ("Broken link", Kind.BROKEN_LINK),
        ("broken_link", Kind.BROKEN_LINK),
    ],
)
def test_friendly_kind_labels(tmp_path, campaign, label, kind):
    path = write_csv(tmp_path / "p.csv", [["URL", "Type"], ["https://a.example/", label]])
    run(path, campaign)
    assert Prospect.objects.get(campaign=campaign).kind == kind


def test_kind_option_applies_to_rows_without_one(tmp_path, campaign):
    rows = [["URL", "Type"], ["https://a.example/", ""], ["https://b.example/", "haro"]]
    path = write_csv(tmp_path / "p.csv", rows)
    run(path, campaign, options={"kind": Kind.GUEST_POST})
    kinds = dict(Prospect.objects.values_list("domain", "kind"))
    assert kinds == {"a.example": Kind.GUEST_POST, "b.example": Kind.HARO}


def test_idn_domain_is_stored_in_ascii(tmp_path, campaign):
    path = write_csv(tmp_path / "p.csv", [["Website"], ["https://bücher.example/straße"]])
    run(path, campaign)
    prospect = Prospect.objects.get(campaign=campaign)
    assert prospect.url == "https://xn--bcher-kva.example/stra%C3%9Fe"
    assert prospect.domain == "xn--bcher-kva.example"


def test_the_stored_domain_is_the_site_and_pages_stay_separate_prospects(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["URL", "Domain"],
            ["https://blog.example.co.uk/post", ""],
            ["https://example.co.uk/about", ""],
            ["", "www.shop.example.com.au"],
            ["https://alice.blogspot.com/2024/01/x.html", ""],
        ],
    )
    summary, rejections = run(path, campaign)
    assert (summary.created, rejections) == (4, [])
    # Dedupe stays by page (URL); the domain is the registrable one, what the
    # outreach safety rules count.
    assert sorted(Prospect.objects.values_list("url", "domain")) == [
        ("https://alice.blogspot.com/2024/01/x.html", "alice.blogspot.com"),
        ("https://blog.example.co.uk/post", "example.co.uk"),
        ("https://example.co.uk/about", "example.co.uk"),
        ("https://www.shop.example.com.au/", "example.com.au"),
    ]


def test_bare_domain_becomes_its_https_home_page_and_url_wins_over_domain(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [["Domain", "URL"], ["WWW.Example.com", ""], ["other.example", "http://other.example/x"]],
    )
    run(path, campaign)
    assert sorted(Prospect.objects.values_list("url", flat=True)) == [
        "http://other.example/x",
        "https://www.example.com/",
    ]


def test_xlsx_import_reads_typed_cells(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "p.xlsx",
        [
            ["URL", "DR", "Type", "Deadline"],
            ["https://a.example/", 45.0, "HARO", datetime(2025, 3, 1, 14, 30)],
        ],
    )
    summary, rejections = run(path, campaign)
    assert (summary.created, rejections) == (1, [])
    prospect = Prospect.objects.get()
    assert prospect.domain_rating == 45
    assert timezone.localtime(prospect.deadline).strftime("%H:%M") == "14:30"


# --- rejections ----------------------------------------------------------------------

REJECTIONS = [
    ("URL", "ftp://a.example/", "URL", "only http and https"),
    ("URL", "https://", "URL", "no host"),
    ("URL", "http://localhost/", "URL", "not a domain name"),
    ("URL", "https://exa mple.com/", "URL", "not a valid domain name"),
    ("URL", "a.example/page", "URL", "not a full URL"),
    ("URL", "", "URL", "every prospect needs a URL"),
    ("Email", "ann@", "Email", "not a valid email address"),
    ("DR", "101", "DR", "out of range"),
    ("DR", "-1", "DR", "out of range"),
    ("DR", "4.5", "DR", "not a whole number"),
    ("DR", "high", "DR", "not a whole number"),
    ("Type", "podcast", "Type", "not a prospect type"),
    ("Deadline", "next week", "Deadline", "not a date"),
    ("Name", "x" * 201, "Name", "at most 200 fit"),
    ("Tags", "y" * 61, "Tags", "longer than 60 characters"),
]


@pytest.mark.parametrize(("header", "value", "column", "reason"), REJECTIONS)
def test_bad_row_is_rejected_with_row_column_and_reason(
    tmp_path, campaign, header, value, column, reason
):
    if header == "URL":
        rows = [["URL"], ["https://good.example/"], [value], ["https://also-good.example/"]]
        if value == "":
            rows = [["URL", "Name"], ["https://good.example/", ""], ["", "Ann"]]
    else:
        rows = [["URL", header], ["https://good.example/", ""], ["https://bad.example/", value]]
    summary, rejections = run(write_csv(tmp_path / "p.csv", rows), campaign)
    assert summary.rejected == 1
    assert summary.created == len(rows) - 2
    [rejection] = rejections
    assert rejection.row == 3
    [(rejected_column, message)] = rejection.problems
    assert rejected_column == column
    assert reason in message
    assert not Prospect.objects.filter(domain="bad.example").exists()


def test_deadline_on_a_non_haro_row_is_rejected(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [["URL", "Type", "Deadline"], ["https://a.example/", "Blogger", "2025-03-01"]],
    )
    summary, rejections = run(path, campaign)
    assert summary.rejected == 1
    assert "only HARO queries have a deadline" in rejections[0].reason


def test_every_problem_of_a_row_is_reported_at_once(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv", [["URL", "Email", "DR"], ["https://a.example/", "nope", "300"]]
    )
    _summary, [rejection] = run(path, campaign)
    assert [column for column, _ in rejection.problems] == ["Email", "DR"]


def test_file_with_30_percent_bad_rows_imports_the_good_ones(tmp_path, campaign):
    rows = [["URL", "Email", "DR"]]
    for i in range(100):
        if i % 10 < 3:
            rows.append([f"https://bad{i}.example/", "not-an-email", "40"])
        else:
            rows.append([f"https://good{i}.example/", f"a@good{i}.example", "40"])
    summary, rejections = run(write_csv(tmp_path / "p.csv", rows), campaign)
    assert (summary.created, summary.rejected, summary.rows) == (70, 30, 100)
    assert Prospect.objects.filter(campaign=campaign).count() == 70
    assert {r.row for r in rejections} == {i + 2 for i in range(100) if i % 10 < 3}


# --- duplicates and updates --------------------------------------------------------


def test_duplicates_inside_the_file_are_counted_once(tmp_path, campaign):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["URL", "Name"],
            ["https://a.example/post", "First"],
            ["http://www.A.example/post/", "Second"],  # same url_key
            ["https://a.example/post#top", "Third"],
        ],
    )
    summary, _ = run(path, campaign)
    assert (summary.created, summary.repeated, summary.duplicates) == (1, 2, 2)
    assert Prospect.objects.get(campaign=campaign).contact_name == "First"


def test_existing_prospects_are_updated_only_where_the_file_has_a_value(tmp_path, campaign):
    existing = ProspectFactory(
        campaign=campaign,
        url="https://a.example/post",
        contact_name="Kept Name",
        contact_email="kept@a.example",
        domain_rating=10,
        notes="kept notes",
    )
    same = ProspectFactory(campaign=campaign, url="https://same.example/", domain_rating=33)
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["URL", "Name", "Email", "DR", "Notes"],
            ["http://www.a.example/post/", "", "new@a.example", "55", ""],
            ["https://same.example", "", "", "33", ""],
            ["https://fresh.example/", "Fresh", "", "", ""],
        ],
    )
    summary, _ = run(path, campaign)
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)
    assert dict(summary.updated_fields) == {"contact_email": 1, "domain_rating": 1}
    existing.refresh_from_db()
    assert (existing.contact_name, existing.contact_email, existing.domain_rating) == (
        "Kept Name",
        "new@a.example",
        55,
    )
    assert existing.notes == "kept notes"
    assert existing.url == "https://a.example/post"  # the stored URL stays
    same.refresh_from_db()
    assert same.domain_rating == 33


def test_prospect_in_another_campaign_is_not_a_duplicate(tmp_path, campaign, other_campaign):
    ProspectFactory(campaign=other_campaign, url="https://a.example/")
    summary, _ = run(write_csv(tmp_path / "p.csv", [["URL"], ["https://a.example/"]]), campaign)
    assert summary.created == 1


def test_tags_are_added_to_existing_prospects_never_removed(tmp_path, campaign):
    existing = ProspectFactory(campaign=campaign, url="https://a.example/")
    existing.tags.add(Tag.objects.create(campaign=campaign, name="Kept"))
    path = write_csv(tmp_path / "p.csv", [["URL", "Tags"], ["https://a.example/", "kept, New"]])
    summary, _ = run(path, campaign)
    assert summary.updated == 1
    assert sorted(t.name for t in existing.tags.all()) == ["Kept", "New"]
    assert Tag.objects.filter(campaign=campaign).count() == 2


def test_kind_change_that_would_orphan_kind_fields_is_rejected(tmp_path, campaign):
    ProspectFactory(campaign=campaign, url="https://a.example/", kind=Kind.GUEST_POST, fee=50)
    path = write_csv(tmp_path / "p.csv", [["URL", "Type"], ["https://a.example/", "blogger"]])
    summary, rejections = run(path, campaign)
    assert summary.rejected == 1
    assert "with a fee" in rejections[0].reason
    assert Prospect.objects.get().kind == Kind.GUEST_POST


def test_new_prospects_get_their_first_status_history_row(tmp_path, campaign, admin_user):
    rows = [["URL"]] + [[f"https://p{i}.example/"] for i in range(5)]
    run(write_csv(tmp_path / "p.csv", rows), campaign, by=admin_user)
    changes = StatusChange.objects.filter(prospect__campaign=campaign)
    assert changes.count() == 5
    assert set(changes.values_list("from_status", "to_status", "changed_by")) == {
        ("", Status.NEW, admin_user.pk)
    }


# --- dry run, idempotence, all or nothing -----------------------------------------


def _mixed_file(tmp_path: Path, rows: int = 50) -> Path:
    data = [["URL", "Email", "Tags"]]
    data += [[f"https://p{i}.example/", f"a@p{i}.example", "t1, t2"] for i in range(rows)]
    return write_csv(tmp_path / "p.csv", data)


def test_dry_run_writes_nothing_and_counts_the_same(tmp_path, campaign):
    ProspectFactory(campaign=campaign, url="https://p0.example/", contact_email="")
    path = _mixed_file(tmp_path)
    dry, _ = run(path, campaign, dry_run=True)
    assert (dry.created, dry.updated) == (49, 1)
    assert Prospect.objects.count() == 1
    assert not Tag.objects.exists()
    assert not StatusChange.objects.exists()
    assert not ImportJob.objects.exists()
    real, _ = run(path, campaign)
    assert (real.created, real.updated) == (dry.created, dry.updated)


def test_second_import_of_the_same_file_creates_nothing(tmp_path, campaign):
    path = _mixed_file(tmp_path)
    first, _ = run(path, campaign)
    counts = (Prospect.objects.count(), StatusChange.objects.count(), Tag.objects.count())
    second, _ = run(path, campaign)
    assert first.created == 50
    assert (second.created, second.updated, second.duplicates) == (0, 0, 50)
    assert (Prospect.objects.count(), StatusChange.objects.count(), Tag.objects.count()) == counts


def test_a_row_the_database_refuses_late_in_the_file_leaves_nothing(tmp_path, campaign):
    # A real constraint, added for this test only (rolled back with it), that
    # validation knows nothing of: the last batch breaks it.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE outreach_prospect ADD CONSTRAINT test_no_boom CHECK (notes <> 'boom')"
        )
    existing = ProspectFactory(campaign=campaign, url="https://p1.example/", contact_email="")
    rows = [["URL", "Email", "Notes"]]
    rows += [[f"https://p{i}.example/", f"a@p{i}.example", "fine"] for i in range(4500)]
    rows.append(["https://last.example/", "", "boom"])
    with pytest.raises(Exception, match="test_no_boom"):
        run(write_csv(tmp_path / "p.csv", rows), campaign)
    assert list(Prospect.objects.filter(campaign=campaign)) == [existing]
    existing.refresh_from_db()
    assert existing.contact_email == ""
    assert not StatusChange.objects.exists()
    assert not Tag.objects.exists()
    assert not ImportJob.objects.exists()


def test_an_error_raised_between_batches_rolls_everything_back(tmp_path, campaign):
    class Boom(Exception):
        pass

    def fail_after_first_batch(rows_read: int) -> None:
        raise Boom(rows_read)

    with pytest.raises(Boom):
        services.import_path(
            _mixed_file(tmp_path, rows=5000),
            campaign=campaign,
            target="prospects",
            after_batch=fail_after_first_batch,
        )
    assert not Prospect.objects.exists()
    assert not StatusChange.objects.exists()
    assert not Tag.objects.exists()


def test_import_is_recorded_in_the_history(tmp_path, campaign):
    run(_mixed_file(tmp_path, rows=3), campaign)
    job = ImportJob.objects.get()
    assert (job.source, job.state, job.original_name) == ("cli", "done", "p.csv")
    assert (job.created_count, job.rows_total) == (3, 3)


def test_file_without_a_url_column_is_unreadable(tmp_path, campaign):
    path = write_csv(tmp_path / "p.csv", [["Name", "Email"], ["Ann", "a@b.example"]])
    with pytest.raises(UnreadableFile, match="No column holds the prospect's URL"):
        run(path, campaign)
