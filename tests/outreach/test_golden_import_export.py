"""Golden files for imports and exports: what the code wrote before the fast
paths (COPY out, set-based import) replaced the row-by-row ones, kept in
tests/outreach/golden/, and compared byte for byte (CSV) and cell for cell
(XLSX, import results) with what the code writes now.

The files were written by the row-by-row code; regenerate them only for a
deliberate change of output, and say so in the commit:

    UPDATE_GOLDEN=1 scripts/with-services.sh scripts/run-tests.sh \
        tests/outreach/test_golden_import_export.py
"""

from __future__ import annotations

import io
import json
import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns import spreadsheets
from campaigns.models import Membership
from links.models import Backlink, BacklinkState, LinkKind, Placement, Verdict
from outreach.imports import engine, services
from outreach.imports.engine import Rejection
from outreach.models import Kind, Prospect, Status, StatusChange, Tag
from tests.factories import BacklinkFactory, ProspectFactory, TargetPageFactory, UserFactory
from tests.spreadsheets import write_xlsx

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent / "data"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
# Local times cross a DST change and are not UTC, so a fast path that formats
# dates in the database must convert them exactly as Python does.
ZONE = "America/New_York"
T0 = datetime(2025, 3, 8, 12, 30, 15, tzinfo=ZoneInfo("UTC"))


def _golden_text(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 on the reference code"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected


def _golden_json(name: str, actual: Any) -> None:
    text = json.dumps(actual, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    _golden_text(name, text)


# --- exports -----------------------------------------------------------------------


HOSTILE = ['=HYPERLINK("https://evil.example")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=q"]


@pytest.fixture
def export_set(campaign, member, settings):
    """A campaign's prospects and backlinks with every kind of cell: hostile
    text, unicode, empty and null values, numbers, decimals, dates and times
    on both sides of a DST change, related rows and none."""
    settings.TIME_ZONE = ZONE
    ann = UserFactory(username="ann")
    Membership.objects.get_or_create(campaign=campaign, user=ann)
    bob = UserFactory(username="=bob")
    target = TargetPageFactory(campaign=campaign, url="https://ours.example/guide/")
    tags = {name: Tag.objects.create(campaign=campaign, name=name) for name in HOSTILE[:2]}
    tags["running"] = Tag.objects.create(campaign=campaign, name="running")
    tags["Zoë"] = Tag.objects.create(campaign=campaign, name="Zoë")
    kinds = list(Kind)
    statuses = list(Status)
    prospects = []
    for i in range(14):
        kind = kinds[i % len(kinds)]
        fields: dict[str, Any] = {
            "id": 7_000_001 + i,
            "campaign": campaign,
            "kind": kind,
            "status": statuses[i % len(statuses)],
            "url": f"https://p{i}.example/post-{i}/",
            "contact_name": HOSTILE[i % len(HOSTILE)] if i % 3 == 0 else f"Name {i} Ünal",
            "contact_email": "" if i % 4 == 0 else f"ed{i}@p{i}.example",
            "domain_rating": None if i % 5 == 0 else (i * 7) % 101,
            "niche": ["", "running", "-health", "@home"][i % 4],
            "notes": ["", "plain", 'multi\nline, "quoted"', HOSTILE[i % len(HOSTILE)]][i % 4],
            "assignee": [None, ann, bob][i % 3],
            "next_follow_up": None if i % 2 else date(2025, 3, 1) + timedelta(days=i),
            "outlet": "=Outlet" if kind == Kind.HARO else "",
            "query_text": "Need experts, -fast" if kind == Kind.HARO else "",
            "deadline": T0 + timedelta(days=i) if kind == Kind.HARO else None,
            "dead_url": f"https://p{i}.example/dead" if kind == Kind.BROKEN_LINK else "",
            "offered_target": target if kind == Kind.BROKEN_LINK and i % 2 else None,
            "fee": Decimal("120.50") if kind == Kind.GUEST_POST and i % 2 else None,
            "created_at": T0 + timedelta(hours=13 * i),
        }
        prospect = ProspectFactory(**fields)
        names = list(tags)[: i % 5]
        prospect.tags.add(*(tags[name] for name in names))
        prospects.append(prospect)
    for i, prospect in enumerate(prospects):
        Prospect.objects.filter(pk=prospect.pk).update(
            updated_at=T0 + timedelta(days=i, minutes=7 * i)
        )
    states = list(BacklinkState)
    for i in range(12):
        checked = T0 + timedelta(days=i, hours=5) if i % 3 else None
        BacklinkFactory(
            id=8_000_001 + i,
            campaign=campaign,
            source_url=f"https://source{i}.example/article-{i}/",
            target_url="https://ours.example/guide/" if i % 2 else "https://ours.example/",
            target_page=target if i % 2 else None,
            expected_anchor_text=HOSTILE[i % len(HOSTILE)] if i % 2 else f"anchor {i} é",
            expected_dofollow=bool(i % 3),
            state=states[i % len(states)],
            last_verdict="" if checked is None else list(Verdict)[i % len(Verdict)],
            noindex=i % 4 == 1,
            canonical_url="https://elsewhere.example/" if i % 5 == 2 else "",
            robots_txt_blocked=i % 6 == 3,
            placement="" if checked is None else list(Placement)[i % len(Placement)],
            link_kind="" if checked is None else list(LinkKind)[i % len(LinkKind)],
            link_rel=["", "nofollow", "ugc sponsored", "-rel"][i % 4],
            won_by=[None, ann, bob][i % 3],
            won_on=date(2025, 1, 1) + timedelta(days=9 * i),
            cost=None if i % 2 else Decimal(f"{i * 11}.25"),
            prospect=prospects[i] if i % 2 else None,
            first_seen_at=checked,
            last_checked_at=checked,
            next_check_at=None if i == 5 else T0 + timedelta(days=20 + i),
            lost_at=checked if states[i % len(states)] == BacklinkState.LOST else None,
        )
    return campaign


def _download(client, name: str, campaign, params) -> bytes:
    response = client.get(reverse(name, args=[campaign.slug]), params)
    assert response.status_code == 200
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _xlsx_cells(content: bytes) -> list[list[list[Any]]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [[[cell.value, cell.data_type] for cell in row] for row in sheet.iter_rows()]


EXPORT_QUERIES = {
    "prospects": [
        ("default", {}),
        ("by-dr", {"sort": "dr"}),
        ("filtered", {"status": "open", "q": "p1"}),
    ],
    "backlinks": [
        ("default", {}),
        ("by-domain", {"sort": "domain"}),
        ("missing", {"state": "missing"}),
    ],
}


@pytest.mark.parametrize("sql_path", [True, False], ids=["database-formatted", "row-by-row"])
@pytest.mark.parametrize("what", ["prospects", "backlinks"])
def test_csv_export_matches_golden(signed_in, export_set, what, sql_path, monkeypatch):
    # Both paths: PostgreSQL formats cells in the database, SQLite (make run)
    # row by row, and each must give the same bytes.
    monkeypatch.setattr(spreadsheets, "uses_sql_path", lambda: sql_path)
    for label, params in EXPORT_QUERIES[what]:
        content = _download(signed_in, f"campaigns:{what}_export", export_set, params)
        _golden_text(f"{what}-{label}.csv", content.decode("utf-8"))


@pytest.mark.parametrize("sql_path", [True, False], ids=["database-formatted", "row-by-row"])
@pytest.mark.parametrize("what", ["prospects", "backlinks"])
def test_xlsx_export_matches_golden(signed_in, export_set, what, sql_path, monkeypatch):
    # Both paths: PostgreSQL formats cells in the database, SQLite (make run)
    # row by row, and each must give the same bytes.
    monkeypatch.setattr(spreadsheets, "uses_sql_path", lambda: sql_path)
    for label, params in EXPORT_QUERIES[what]:
        content = _download(signed_in, f"exports:{what}_xlsx", export_set, params)
        _golden_json(f"{what}-{label}.xlsx.json", _xlsx_cells(content))


# --- imports -----------------------------------------------------------------------


@pytest.fixture
def import_campaign(campaign, member, settings):
    """The campaign with the prospects the messy sample meets in the database."""
    settings.TIME_ZONE = ZONE
    old = Tag.objects.create(campaign=campaign, name="old")
    ProspectFactory(
        campaign=campaign,
        url="https://existing-same.example/",
        contact_email="old@existing-same.example",
        contact_name="Same",
        domain_rating=10,
    )
    updated = ProspectFactory(
        campaign=campaign,
        url="https://existing-update.example/",
        contact_email="old@existing-update.example",
        contact_name="Keep me",
        domain_rating=40,
    )
    updated.tags.add(old)
    # Every value given: the factory's sequences depend on the tests run before.
    ProspectFactory(
        campaign=campaign,
        url="https://existing-guest.example/",
        kind=Kind.GUEST_POST,
        fee=Decimal("50.00"),
        contact_email="ed@existing-guest.example",
    )
    ProspectFactory(
        campaign=campaign,
        url="https://existing-blogger.example/",
        kind=Kind.BLOGGER,
        contact_email="ed@existing-blogger.example",
    )
    tagged = ProspectFactory(
        campaign=campaign,
        url="https://existing-tags.example/",
        contact_email="ed@existing-tags.example",
    )
    tagged.tags.add(old)
    return campaign


def _state(campaign, started: datetime) -> list[dict[str, Any]]:
    """Every prospect of the campaign as stored, without ids and clock times."""
    out = []
    for prospect in Prospect.objects.filter(campaign=campaign).order_by("url_key"):
        history = StatusChange.objects.filter(prospect=prospect).order_by("id")
        out.append(
            {
                "url": prospect.url,
                "url_key": prospect.url_key,
                "domain": prospect.domain,
                "kind": prospect.kind,
                "status": prospect.status,
                "contact_email": prospect.contact_email,
                "contact_name": prospect.contact_name,
                "domain_rating": prospect.domain_rating,
                "notes": prospect.notes,
                "niche": prospect.niche,
                "outlet": prospect.outlet,
                "deadline": prospect.deadline.isoformat() if prospect.deadline else None,
                "fee": str(prospect.fee) if prospect.fee is not None else None,
                "quality_stale": prospect.quality_stale,
                "created_by_import": prospect.created_at >= started,
                "touched_by_import": prospect.updated_at >= started,
                "tags": sorted(tag.name for tag in prospect.tags.all()),
                "history": [
                    [
                        change.from_status,
                        change.to_status,
                        change.changed_by.username if change.changed_by else None,
                        change.changed_at >= started,
                    ]
                    for change in history
                ],
            }
        )
    return out


def _rejections(rejections: list[Rejection]) -> list[dict[str, Any]]:
    return [
        {"row": r.row, "problems": [list(p) for p in r.problems], "cells": r.cells}
        for r in rejections
    ]


def _summary(summary: engine.Summary) -> dict[str, Any]:
    data = summary.to_json()
    data.pop("rejections")  # compared in full from on_reject
    return data


def _import(path: Path, campaign, admin, *, dry_run: bool, **options: Any):
    rejections: list[Rejection] = []
    summary = services.import_path(
        path,
        campaign=campaign,
        target="prospects",
        by=admin,
        dry_run=dry_run,
        on_reject=rejections.append,
        options=options or None,
    )
    return summary, rejections


def _messy_xlsx(tmp_path: Path) -> Path:
    """The sample's kinds of trouble as typed XLSX cells: numbers, booleans,
    dates and date-times where text was expected, and the other way round."""
    rows = [
        ["Website", "Email", "Name", "DR", "Type", "Deadline", "Tags", "Notes"],
        ["https://x1.example/", "a@x1.example", "Num DR", 45, "HARO", datetime(2025, 9, 30, 9)],
        ["https://x2.example/", None, 12345, 45.0, "Blogger", None, "a|b", 3.5],
        ["https://x3.example/", None, "Float DR", 45.5, None, None],
        ["https://x4.example/", None, "Bool DR", True, None, None],
        ["https://x5.example/", None, "Date deadline", 10, "haro", date(2025, 11, 2)],
        ["https://x6.example/", None, "Number deadline", 10, "haro", 45000],
        [12345, None, "Number URL"],
        ["https://x7.example/", None, "=formula text", -1],
        ["https://x8.example/", None, None, 100, "guest post", None, None, "'@quoted"],
        [None, None, None, None, None, None],
        ["https://x1.example", None, "Dup"],
        ["https://x9.example/", None, "Bad datetime kind", 0, "Blogger", datetime(2025, 1, 1)],
    ]
    return write_xlsx(tmp_path / "messy.xlsx", rows)


IMPORT_SAMPLES = {
    "messy_prospects": lambda tmp_path: DATA / "messy_prospects.csv",
    "messy_prospects_cp1252": lambda tmp_path: DATA / "messy_prospects_cp1252.csv",
    "messy_prospects_xlsx": _messy_xlsx,
}


@pytest.mark.parametrize("sample", list(IMPORT_SAMPLES))
@pytest.mark.parametrize("kind", ["", Kind.HARO])
def test_import_matches_golden(tmp_path, import_campaign, admin_user, sample, kind):
    path = IMPORT_SAMPLES[sample](tmp_path)
    options = {"kind": kind} if kind else {}
    name = f"import-{sample}{'-' + kind if kind else ''}"
    started = timezone.now()
    before = _state(import_campaign, started)
    assert len(before) == 5
    preview, preview_rejections = _import(
        path, import_campaign, admin_user, dry_run=True, **options
    )
    # A dry run writes nothing, and says what the real one does.
    assert _state(import_campaign, started) == before
    summary, rejections = _import(path, import_campaign, admin_user, dry_run=False, **options)
    assert _summary(preview) == _summary(summary)
    assert _rejections(preview_rejections) == _rejections(rejections)
    _golden_json(
        f"{name}.json",
        {
            "summary": _summary(summary),
            "rejections": _rejections(rejections),
            "stored": _state(import_campaign, started),
        },
    )
    # The same file again creates nothing, and says so.
    again, _ = _import(path, import_campaign, admin_user, dry_run=False, **options)
    assert again.created == 0
    assert again.rejected == summary.rejected


def test_import_all_or_nothing_on_messy_sample(tmp_path, import_campaign, admin_user):
    """A failure after rows were written leaves the campaign as it was."""
    before = _state(import_campaign, timezone.now())
    count = StatusChange.objects.count()

    def fail(rows: int) -> None:
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        services.import_path(
            DATA / "messy_prospects.csv",
            campaign=import_campaign,
            target="prospects",
            by=admin_user,
            after_batch=fail,
        )
    assert _state(import_campaign, timezone.now()) == before
    assert StatusChange.objects.count() == count
    assert not Backlink.objects.exists()
