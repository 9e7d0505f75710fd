"""Prospect and backlink exports: one column table per model serving CSV and
XLSX, the writers of campaigns/spreadsheets.py, and the XLSX downloads."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.spreadsheets import csv_lines, neutralize_cell, write_xlsx
from links.exports import BACKLINK_COLUMNS, backlink_rows
from links.models import Backlink, BacklinkState
from outreach.exports import PROSPECT_COLUMNS, prospect_rows
from outreach.models import Kind, Prospect, Status, Tag
from tests.factories import BacklinkFactory, ProspectFactory, TargetPageFactory, UserFactory

HOSTILE = ['=HYPERLINK("https://evil.example")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_starts_are_neutralized(value):
    assert neutralize_cell(value) == "'" + value


def test_plain_text_is_left_alone():
    assert neutralize_cell("Ann's blog") == "Ann's blog"


def _csv(rows) -> list[list[str]]:
    text = "".join(csv_lines(rows))
    assert text.startswith("\ufeff"), "a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def _xlsx_rows(rows, *, title: str = "Sheet") -> list[tuple]:
    out = io.BytesIO()
    write_xlsx(rows, out, title=title)
    out.seek(0)
    return list(load_workbook(out).active.iter_rows(values_only=True))


def test_csv_export_neutralizes_every_hostile_cell(campaign):
    for i, notes in enumerate(HOSTILE):
        ProspectFactory(campaign=campaign, url=f"https://p{i}.example/", notes=notes)
    header, *rows = _csv(prospect_rows(campaign.prospects.all()))
    notes = header.index("notes")
    assert sorted(row[notes] for row in rows) == sorted("'" + v for v in HOSTILE)


def test_xlsx_export_writes_no_formula_and_keeps_numbers(campaign):
    prospect = ProspectFactory(
        campaign=campaign, notes="=1+1", domain_rating=45, contact_name="-dash"
    )
    prospect.tags.add(
        Tag.objects.create(campaign=campaign, name="b"),
        Tag.objects.create(campaign=campaign, name="a"),
    )
    out = io.BytesIO()
    write_xlsx(prospect_rows(campaign.prospects.all()), out, title="Prospects")
    out.seek(0)
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert row["notes"].value == "'=1+1"
    assert row["notes"].data_type == "s"
    assert row["contact_name"].value == "'-dash"
    assert (row["domain_rating"].value, row["domain_rating"].data_type) == (45, "n")
    assert row["tags"].value == "a, b"
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_export_round_trips_through_import(campaign, tmp_path):
    from outreach.imports import services

    ProspectFactory(
        campaign=campaign,
        url="https://a.example/",
        notes="=not a formula",
        kind=Kind.HARO,
        deadline=timezone.now().replace(microsecond=0),
    )
    before = Prospect.objects.get()
    out = tmp_path / "export.xlsx"
    with open(out, "wb") as handle:
        write_xlsx(prospect_rows(campaign.prospects.all()), handle, title="Prospects")
    Prospect.objects.all().delete()
    summary = services.import_path(out, campaign=campaign, target="prospects")
    assert summary.created == 1
    after = Prospect.objects.get()
    assert (after.notes, after.kind, after.deadline) == (
        "=not a formula",
        Kind.HARO,
        before.deadline,
    )


@pytest.mark.parametrize("count", [3, 30])
def test_export_query_count_does_not_grow_with_rows(campaign, django_assert_max_num_queries, count):
    tag = Tag.objects.create(campaign=campaign, name="t")
    for prospect in ProspectFactory.create_batch(count, campaign=campaign):
        prospect.tags.add(tag)
    with django_assert_max_num_queries(2):
        rows = list(prospect_rows(campaign.prospects.all()))
    assert len(rows) == count + 1


@pytest.mark.parametrize("count", [3, 30])
def test_backlink_export_query_count_does_not_grow(campaign, django_assert_max_num_queries, count):
    BacklinkFactory.create_batch(count, campaign=campaign)
    with django_assert_max_num_queries(1):
        rows = list(backlink_rows(campaign.backlinks.all()))
    assert len(rows) == count + 1
    assert rows[0][:4] == ["id", "source_url", "source_domain", "target_url"]


# --- CSV and XLSX of the same filters: the same table -------------------------


def _download(client, name: str, campaign, params):
    response = client.get(reverse(name, args=[campaign.slug]), params)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _csv_download(client, name, campaign, params) -> list[list[str]]:
    text = _download(client, name, campaign, params).decode("utf-8")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def _xlsx_download(client, name, campaign, params) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(_download(client, name, campaign, params))).active
    return list(sheet.iter_rows(values_only=True))


def _as_csv_cell(value: object, csv_cell: str) -> object:
    """An XLSX cell in the CSV's terms: numbers stay numbers in XLSX (compared
    as numbers), text must be the CSV's text exactly."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return csv_cell if Decimal(str(value)) == Decimal(csv_cell) else value
    return value


def assert_same_table(csv_rows: list[list[str]], xlsx_rows: list[tuple]) -> None:
    assert len(csv_rows) == len(xlsx_rows)
    assert list(xlsx_rows[0]) == csv_rows[0]
    for csv_row, xlsx_row in zip(csv_rows[1:], xlsx_rows[1:], strict=True):
        converted = [
            _as_csv_cell(value, cell) for value, cell in zip(xlsx_row, csv_row, strict=True)
        ]
        assert converted == csv_row


@pytest.fixture
def varied_prospects(campaign):
    target = TargetPageFactory(campaign=campaign)
    tags = [Tag.objects.create(campaign=campaign, name=n) for n in ("tier-1", "=evil")]
    rows = [
        ProspectFactory(
            campaign=campaign,
            url="https://blog.example/a/",
            kind=Kind.BLOGGER,
            status=Status.CONTACTED,
            assignee=UserFactory(username="alice"),
            domain_rating=55,
            next_follow_up=timezone.localdate() - timedelta(days=1),
            contact_name="=cmd|' /C calc'!A0",
            notes="+SUM(1,2)",
            niche="@import",
        ),
        ProspectFactory(
            campaign=campaign,
            url="https://guest.example/b/",
            kind=Kind.GUEST_POST,
            fee=Decimal("120.50"),
            domain_rating=None,
        ),
        ProspectFactory(
            campaign=campaign,
            url="https://news.example/c/",
            kind=Kind.HARO,
            outlet="Daily -News",
            query_text="Looking for\nrunners",
            deadline=timezone.now(),
        ),
        ProspectFactory(
            campaign=campaign,
            url="https://dead.example/d/",
            kind=Kind.BROKEN_LINK,
            dead_url="https://dead.example/gone",
            offered_target=target,
        ),
    ]
    rows[0].tags.add(*tags)
    ProspectFactory(url="https://elsewhere.example/")  # another campaign
    return rows


@pytest.mark.parametrize(
    "params", [{}, {"kind": "haro"}, {"dr_min": "50"}, {"q": "example", "sort": "-dr"}]
)
def test_prospect_csv_and_xlsx_of_the_same_filters_are_the_same_table(
    client, member, campaign, varied_prospects, params
):
    client.force_login(member)

    as_csv = _csv_download(client, "campaigns:prospects_export", campaign, params)
    as_xlsx = _xlsx_download(client, "exports:prospects_xlsx", campaign, params)

    assert as_csv[0] == [column.header for column in PROSPECT_COLUMNS]
    assert len(as_csv) > 1
    assert_same_table(as_csv, as_xlsx)


def test_prospect_csv_and_xlsx_neutralize_the_same_cells(
    client, member, campaign, varied_prospects
):
    client.force_login(member)

    as_csv = _csv_download(client, "campaigns:prospects_export", campaign, {"kind": "blogger"})
    as_xlsx = _xlsx_download(client, "exports:prospects_xlsx", campaign, {"kind": "blogger"})

    for rows in (as_csv, [list(row) for row in as_xlsx]):
        header, row = rows
        cells = dict(zip(header, row, strict=True))
        assert cells["contact_name"] == "'=cmd|' /C calc'!A0"
        assert cells["notes"] == "'+SUM(1,2)"
        assert cells["niche"] == "'@import"
        # Tags join to "=evil, tier-1": neutralized as one cell.
        assert cells["tags"] == "'=evil, tier-1"


@pytest.fixture
def varied_backlinks(campaign):
    prospect = ProspectFactory(campaign=campaign, url="https://origin.example/")
    return [
        BacklinkFactory(
            campaign=campaign,
            source_url="https://alpha.example/post/",
            state=BacklinkState.LIVE,
            expected_anchor_text="-10% off",
            last_checked_at=timezone.now(),
            cost=Decimal("80.00"),
            prospect=prospect,
        ),
        BacklinkFactory(
            campaign=campaign,
            source_url="https://beta.example/post/",
            state=BacklinkState.LOST,
            lost_at=timezone.now(),
            noindex=True,
            placement="footer",
            link_kind="image",
            link_rel="nofollow sponsored",
        ),
        BacklinkFactory(
            campaign=campaign,
            source_url="https://gamma.example/post/",
            expected_dofollow=False,
            canonical_url="https://gamma.example/elsewhere/",
            won_on=date(2025, 1, 1),
        ),
    ]


@pytest.mark.parametrize("params", [{}, {"state": "lost"}, {"q": "gamma"}, {"sort": "domain"}])
def test_backlink_csv_and_xlsx_of_the_same_filters_are_the_same_table(
    client, manager, campaign, varied_backlinks, params
):
    client.force_login(manager)

    as_csv = _csv_download(client, "campaigns:backlinks_export", campaign, params)
    as_xlsx = _xlsx_download(client, "exports:backlinks_xlsx", campaign, params)

    assert as_csv[0] == [column.header for column in BACKLINK_COLUMNS]
    assert len(as_csv) > 1
    assert_same_table(as_csv, as_xlsx)


def test_backlink_csv_and_xlsx_neutralize_the_same_cells(
    client, manager, campaign, varied_backlinks
):
    client.force_login(manager)

    as_csv = _csv_download(client, "campaigns:backlinks_export", campaign, {"q": "alpha"})
    as_xlsx = _xlsx_download(client, "exports:backlinks_xlsx", campaign, {"q": "alpha"})

    for rows in (as_csv, [list(row) for row in as_xlsx]):
        header, row = rows
        assert dict(zip(header, row, strict=True))["expected_anchor_text"] == "'-10% off"


# --- Downloads -------------------------------------------------------------------


def _sheet_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_prospects_xlsx_download_applies_filters(client, member, campaign, other_campaign):
    client.force_login(member)
    ProspectFactory(campaign=campaign, kind=Kind.HARO, url="https://haro.example/")
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, url="https://blog.example/")
    ProspectFactory(campaign=other_campaign, kind=Kind.HARO, url="https://theirs.example/")
    url = reverse("exports:prospects_xlsx", args=[campaign.slug])
    response = client.get(url, {"kind": "haro"})
    assert 'filename="ours-prospects-' in response["Content-Disposition"]
    assert [row["url"] for row in _sheet_rows(response)] == ["https://haro.example/"]


def test_backlinks_xlsx_download_applies_filters(client, manager, campaign):
    client.force_login(manager)
    BacklinkFactory(campaign=campaign, source_url="https://live.example/", state=BacklinkState.LIVE)
    BacklinkFactory(campaign=campaign, source_url="https://pending.example/")
    response = client.get(
        reverse("exports:backlinks_xlsx", args=[campaign.slug]), {"state": "live"}
    )
    assert [row["source_url"] for row in _sheet_rows(response)] == ["https://live.example/"]
    assert Backlink.objects.count() == 2


def test_prospects_xlsx_uses_every_filter_of_the_list(client, member, campaign):
    """The download has the rows the list shows for the same query string, in
    its order, for filters beyond kind/status/q too (here the DR range and the
    sort, which puts the older prospect first)."""
    client.force_login(member)
    ProspectFactory(campaign=campaign, url="https://stronger.example/", domain_rating=90)
    ProspectFactory(campaign=campaign, url="https://strong.example/", domain_rating=80)
    ProspectFactory(campaign=campaign, url="https://weak.example/", domain_rating=10)
    params = {"dr_min": "50", "sort": "-dr"}
    listed = client.get(reverse("outreach:prospect_list", args=[campaign.slug]), params)
    response = client.get(reverse("exports:prospects_xlsx", args=[campaign.slug]), params)
    exported = [row["url"] for row in _sheet_rows(response)]
    assert exported == ["https://stronger.example/", "https://strong.example/"]
    assert exported == [p.url for p in listed.context["page"].object_list]
