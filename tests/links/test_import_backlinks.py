"""Backlink import from the exports of Ahrefs, Semrush, Moz and Search Console,
through the same service as prospects."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from campaigns.models import TargetPage
from links.models import Backlink, BacklinkState
from outreach.imports import services
from outreach.imports.reader import UnreadableFile
from tests.factories import BacklinkFactory, TargetPageFactory
from tests.spreadsheets import write_csv, write_xlsx


def run(path, campaign, **kwargs):
    rejections = []
    summary = services.import_path(
        path, campaign=campaign, target="backlinks", on_reject=rejections.append, **kwargs
    )
    return summary, rejections


AHREFS = [
    "Referring page title",
    "Referring page URL",
    "Domain rating",
    "Target URL",
    "Anchor",
    "Type",
    "Nofollow",
    "UGC",
    "Sponsored",
    "First seen",
    "Last seen",
]
SEMRUSH = ["Page ascore", "Source title", "Source url", "Target url", "Anchor", "Nofollow",
           "Sponsored", "Ugc", "First seen", "Last seen"]  # fmt: skip
MOZ = ["URL", "Title", "Anchor Text", "Spam Score", "Domain Authority", "Target URL", "Link Type"]


def test_ahrefs_export(tmp_path, campaign):
    path = write_csv(
        tmp_path / "ahrefs.csv",
        [
            AHREFS,
            [
                "Best shoes",
                "https://blog.example/shoes",
                "55",
                "https://ours.example/guide",
                "our guide",
                "text",
                "false",
                "false",
                "false",
                "2024-05-17 09:31:02",
                "",
            ],
            [
                "Forum",
                "https://forum.example/t/1",
                "20",
                "https://ours.example/",
                "ours",
                "text",
                "true",
                "false",
                "false",
                "2024-06-01 00:00:00",
                "",
            ],
        ],
    )
    summary, rejections = run(path, campaign)
    assert (summary.created, rejections) == (2, [])
    blog = Backlink.objects.get(source_domain="blog.example")
    assert (blog.target_url, blog.expected_anchor_text, blog.expected_dofollow) == (
        "https://ours.example/guide",
        "our guide",
        True,
    )
    assert blog.won_on == date(2024, 5, 17)
    assert timezone.localtime(blog.first_seen_at).strftime("%Y-%m-%d %H:%M") == "2024-05-17 09:31"
    assert Backlink.objects.get(source_domain="forum.example").expected_dofollow is False


def test_semrush_export(tmp_path, campaign):
    path = write_csv(
        tmp_path / "semrush.csv",
        [
            SEMRUSH,
            [
                "12",
                "T",
                "https://a.example/x",
                "https://ours.example/",
                "shoes",
                "FALSE",
                "TRUE",
                "FALSE",
                "2024-01-02",
                "2024-02-02",
            ],
        ],
    )
    run(path, campaign)
    link = Backlink.objects.get()
    assert (link.source_url, link.expected_anchor_text) == ("https://a.example/x", "shoes")
    assert link.expected_dofollow is False  # sponsored


def test_moz_export_as_xlsx(tmp_path, campaign):
    path = write_xlsx(
        tmp_path / "moz.xlsx",
        [
            MOZ,
            ["https://a.example/p", "T", "Acme", 1, 30, "https://ours.example/", "follow"],
            ["https://b.example/p", "T", "Acme", 1, 30, "https://ours.example/", "nofollow"],
        ],
    )
    run(path, campaign)
    follow = dict(Backlink.objects.values_list("source_domain", "expected_dofollow"))
    assert follow == {"a.example": True, "b.example": False}


def test_moz_follow_column(tmp_path, campaign):
    path = write_csv(
        tmp_path / "moz.csv",
        [
            ["URL", "Target URL", "Anchor Text", "Follow"],
            ["https://a.example/", "https://ours.example/", "x", "No"],
        ],
    )
    run(path, campaign)
    assert Backlink.objects.get().expected_dofollow is False


def test_search_console_linking_pages_use_the_default_target(tmp_path, campaign):
    path = write_csv(
        tmp_path / "gsc.csv",
        [["Linking page", "Last crawled"], ["https://a.example/post", "2024-05-01"]],
    )
    run(path, campaign, options={"target_url": "https://ours.example/guide"})
    assert Backlink.objects.get().target_url == "https://ours.example/guide"


def test_without_target_column_or_option_the_campaign_home_page_is_the_target(tmp_path, campaign):
    path = write_csv(tmp_path / "gsc.csv", [["Linking page"], ["https://a.example/post"]])
    run(path, campaign)
    assert Backlink.objects.get().target_url == f"https://{campaign.site}/"


def test_search_console_top_linking_sites_is_refused_with_a_hint(tmp_path, campaign):
    path = write_csv(
        tmp_path / "sites.csv",
        [["Top linking sites", "Linking pages", "Target pages"], ["a.example", "12", "3"]],
    )
    with pytest.raises(UnreadableFile, match="lists sites, not the pages"):
        run(path, campaign)


def test_imported_backlinks_are_pending_and_due_now(tmp_path, campaign):
    before = timezone.now()
    path = write_csv(
        tmp_path / "l.csv",
        [["Source url", "Target url"], ["https://a.example/", "https://ours.example/"]],
    )
    run(path, campaign)
    link = Backlink.objects.get()
    assert link.state == BacklinkState.PENDING
    assert before <= link.next_check_at <= timezone.now()
    assert list(Backlink.objects.due()) == [link]


def test_target_page_is_matched_by_url_key_then_by_whole_domain(tmp_path, campaign):
    page = TargetPageFactory(campaign=campaign, url="https://ours.example/guide/")
    whole = TargetPage.objects.create(
        campaign=campaign, url="https://shop.ours.example/", is_domain=True
    )
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Source url", "Target url"],
            ["https://a.example/", "http://www.ours.example/guide"],
            ["https://b.example/", "https://shop.ours.example/any/product"],
            ["https://c.example/", "https://elsewhere.example/"],
        ],
    )
    run(path, campaign)
    pages = dict(Backlink.objects.values_list("source_domain", "target_page"))
    assert pages == {"a.example": page.pk, "b.example": whole.pk, "c.example": None}


def test_source_domain_is_the_site(tmp_path, campaign):
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Source url", "Target url"],
            ["https://m.example.com/a", "https://ours.example/"],
            ["https://news.example.com.au/b", "https://ours.example/"],
            ["https://bob.github.io/c", "https://ours.example/"],
        ],
    )
    run(path, campaign)
    assert sorted(Backlink.objects.values_list("source_domain", flat=True)) == [
        "bob.github.io",
        "example.com",
        "example.com.au",
    ]


def test_dedupe_by_source_and_target(tmp_path, campaign):
    existing = BacklinkFactory(
        campaign=campaign,
        source_url="https://a.example/post",
        target_url="https://ours.example/",
        expected_anchor_text="kept",
        state=BacklinkState.LIVE,
    )
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Source url", "Target url", "Anchor"],
            ["http://a.example/post/", "https://www.ours.example", ""],  # existing, nothing new
            ["https://a.example/post", "https://ours.example/other", "x"],  # other target: new
            ["https://a.example/post", "https://ours.example/other/", "y"],  # repeat in file
        ],
    )
    summary, _ = run(path, campaign)
    assert (summary.created, summary.unchanged, summary.repeated) == (1, 1, 1)
    existing.refresh_from_db()
    assert (existing.expected_anchor_text, existing.state) == ("kept", BacklinkState.LIVE)
    summary, _ = run(path, campaign)
    assert (summary.created, summary.updated) == (0, 0)


def test_existing_backlink_is_updated_only_where_the_file_has_a_value(tmp_path, campaign):
    existing = BacklinkFactory(
        campaign=campaign,
        source_url="https://a.example/post",
        target_url="https://ours.example/",
        expected_anchor_text="kept",
    )
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Source url", "Target url", "Anchor", "Nofollow"],
            ["https://a.example/post", "https://ours.example/", "", "true"],
        ],
    )
    summary, _ = run(path, campaign)
    assert dict(summary.updated_fields) == {"expected_dofollow": 1}
    existing.refresh_from_db()
    assert (existing.expected_anchor_text, existing.expected_dofollow) == ("kept", False)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["ftp://a.example/x", "https://ours.example/", "", ""], "Source url", "only http"),
        (["", "https://ours.example/", "", ""], "Source url", "every backlink needs"),
        (["https://a.example/", "ours", "", ""], "Target url", "not a full URL"),
        (["https://a.example/", "", "17/05/2024", ""], "First seen", "YYYY-MM-DD"),
        (["https://a.example/", "", "", "maybe"], "Nofollow", "not yes/no"),
    ],
)
def test_bad_rows_are_rejected(tmp_path, campaign, row, column, reason):
    path = write_csv(
        tmp_path / "l.csv",
        [
            ["Source url", "Target url", "First seen", "Nofollow"],
            ["https://ok.example/", "", "", ""],
            row,
        ],
    )
    summary, [rejection] = run(path, campaign)
    assert (summary.created, summary.rejected, rejection.row) == (1, 1, 3)
    [(rejected_column, message)] = rejection.problems
    assert rejected_column == column
    assert reason in message


def test_backlink_import_through_the_browser_flow_services(campaign, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from outreach.models import ImportJob
    from outreach.tasks import run_import
    from tests.spreadsheets import csv_bytes

    data = csv_bytes([["Linking page", "Last crawled"], ["https://a.example/p", "2024-05-01"]])
    job = services.start_job(
        campaign=campaign,
        target="backlinks",
        upload=SimpleUploadedFile("gsc.csv", data),
        by=admin_user,
        options={"target_url": "https://ours.example/guide"},
    )
    assert job.mapping == {"0": "source_url"}
    assert services.preview_job(job).created == 1
    assert services.queue_job(job)
    run_import(job.pk)
    job.refresh_from_db()
    assert (job.state, job.created_count) == (ImportJob.State.DONE, 1)
    assert Backlink.objects.get().target_url == "https://ours.example/guide"
