"""Prospect and backlink exports: the services and the XLSX downloads."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.spreadsheets import neutralize_cell
from links.exports import backlink_rows
from links.models import Backlink, BacklinkState
from outreach.exports import (
    csv_lines,
    prospect_rows,
    write_csv,
    write_xlsx,
)
from outreach.models import Kind, Prospect, Tag
from tests.factories import BacklinkFactory, ProspectFactory

HOSTILE = ['=HYPERLINK("https://evil.example")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_starts_are_neutralized(value):
    assert neutralize_cell(value) == "'" + value


def test_plain_text_is_left_alone():
    assert neutralize_cell("Ann's blog") == "Ann's blog"


def test_csv_export_neutralizes_every_hostile_cell(campaign):
    for i, notes in enumerate(HOSTILE):
        ProspectFactory(campaign=campaign, url=f"https://p{i}.example/", notes=notes)
    out = io.StringIO()
    write_csv(prospect_rows(campaign.prospects.all()), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert sorted(row["Notes"] for row in rows) == sorted("'" + v for v in HOSTILE)


def test_csv_lines_stream_the_same_rows(campaign):
    ProspectFactory(campaign=campaign, contact_name="Ann")
    lines = list(csv_lines(prospect_rows(campaign.prospects.all())))
    assert lines[0].startswith("URL,Domain,Type,Status")
    assert "Ann" in lines[1]


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
    assert row["Notes"].value == "'=1+1"
    assert row["Notes"].data_type == "s"
    assert row["Name"].value == "'-dash"
    assert (row["Domain rating"].value, row["Domain rating"].data_type) == (45, "n")
    assert row["Tags"].value == "a, b"
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def test_export_round_trips_through_import(campaign, tmp_path):
    from outreach.imports import services

    ProspectFactory(campaign=campaign, url="https://a.example/", notes="=not a formula")
    out = tmp_path / "export.xlsx"
    with open(out, "wb") as handle:
        write_xlsx(prospect_rows(campaign.prospects.all()), handle, title="Prospects")
    Prospect.objects.all().delete()
    summary = services.import_path(out, campaign=campaign, target="prospects")
    assert summary.created == 1
    assert Prospect.objects.get().notes == "=not a formula"


@pytest.mark.parametrize("count", [3, 30])
def test_export_query_count_does_not_grow_with_rows(campaign, django_assert_max_num_queries, count):
    tag = Tag.objects.create(campaign=campaign, name="t")
    for prospect in ProspectFactory.create_batch(count, campaign=campaign):
        prospect.tags.add(tag)
    with django_assert_max_num_queries(3):
        rows = list(prospect_rows(campaign.prospects.all()))
    assert len(rows) == count + 1


@pytest.mark.parametrize("count", [3, 30])
def test_backlink_export_query_count_does_not_grow(campaign, django_assert_max_num_queries, count):
    BacklinkFactory.create_batch(count, campaign=campaign)
    with django_assert_max_num_queries(2):
        rows = list(backlink_rows(campaign.backlinks.all()))
    assert len(rows) == count + 1
    assert rows[0][:3] == ["Source URL", "Source domain", "Target URL"]


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def test_prospects_xlsx_download_applies_filters(client, member, campaign, other_campaign):
    client.force_login(member)
    ProspectFactory(campaign=campaign, kind=Kind.HARO, url="https://haro.example/")
    ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, url="https://blog.example/")
    ProspectFactory(campaign=other_campaign, kind=Kind.HARO, url="https://theirs.example/")
    url = reverse("exports:prospects_xlsx", args=[campaign.slug])
    response = client.get(url, {"kind": "haro"})
    assert 'filename="ours-prospects-' in response["Content-Disposition"]
    sheet = _sheet(response)
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "https://haro.example/"
    ]


def test_backlinks_xlsx_download_applies_filters(client, manager, campaign):
    client.force_login(manager)
    BacklinkFactory(campaign=campaign, source_url="https://live.example/", state=BacklinkState.LIVE)
    BacklinkFactory(campaign=campaign, source_url="https://pending.example/")
    response = client.get(
        reverse("exports:backlinks_xlsx", args=[campaign.slug]), {"state": "live"}
    )
    sheet = _sheet(response)
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "https://live.example/"
    ]
    assert Backlink.objects.count() == 2


def test_prospects_xlsx_uses_every_filter_of_the_list(client, member, campaign):
    """The download has the rows the list shows for the same query string, for
    filters beyond kind/status/q too (here the DR range and the sort)."""
    client.force_login(member)
    ProspectFactory(campaign=campaign, url="https://strong.example/", domain_rating=80)
    ProspectFactory(campaign=campaign, url="https://stronger.example/", domain_rating=90)
    ProspectFactory(campaign=campaign, url="https://weak.example/", domain_rating=10)
    params = {"dr_min": "50", "sort": "-dr"}
    listed = client.get(reverse("outreach:prospect_list", args=[campaign.slug]), params)
    response = client.get(reverse("exports:prospects_xlsx", args=[campaign.slug]), params)
    exported = [row[0] for row in _sheet(response).iter_rows(min_row=2, values_only=True)]
    assert exported == ["https://stronger.example/", "https://strong.example/"]
    assert exported == [p.url for p in listed.context["page"].object_list]
