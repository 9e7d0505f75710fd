"""update_rows: one statement writes each row's own values, typed like its columns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from links.models import Backlink
from links.rowupdate import update_rows
from tests.factories import BacklinkFactory


def test_each_row_gets_its_own_values_in_one_statement(db, django_assert_num_queries):
    now = timezone.now()
    seen = now - timedelta(days=9)
    first, second, untouched = BacklinkFactory.create_batch(3, noindex=True, first_seen_at=seen)
    first.state, first.lost_at, first.first_seen_at = "lost", now, None  # NULL over a value
    second.state, second.noindex = "live", False  # False over True
    second.canonical_url = "https://elsewhere.example/" + "x" * 1500
    fields = ["state", "noindex", "lost_at", "first_seen_at", "canonical_url"]

    with django_assert_num_queries(1):
        assert update_rows([first, second], fields) == 2

    rows = {b.pk: b for b in Backlink.objects.all()}
    assert (rows[first.pk].state, rows[first.pk].lost_at, rows[first.pk].first_seen_at) == (
        "lost",
        now,
        None,
    )
    assert rows[first.pk].noindex is True
    assert (rows[second.pk].state, rows[second.pk].noindex) == ("live", False)
    assert rows[second.pk].first_seen_at == seen
    assert rows[second.pk].canonical_url == second.canonical_url
    assert (rows[untouched.pk].state, rows[untouched.pk].noindex) == (untouched.state, True)
    assert rows[untouched.pk].first_seen_at == seen


def test_fields_not_named_are_left_alone(db):
    backlink = BacklinkFactory(expected_anchor_text="our guide")
    backlink.state = "error"
    backlink.expected_anchor_text = "changed in memory only"
    update_rows([backlink], ["state"])
    backlink.refresh_from_db()
    assert (backlink.state, backlink.expected_anchor_text) == ("error", "our guide")


def test_a_too_long_value_fails_instead_of_being_cut(db):
    backlink = BacklinkFactory()
    backlink.last_page_hash = "f" * 65  # the column holds 64
    with pytest.raises(DataError), transaction.atomic():
        update_rows([backlink], ["last_page_hash"])
    backlink.refresh_from_db()
    assert backlink.last_page_hash == ""


def test_thousands_of_rows_are_split_under_the_parameter_limit(db, django_assert_num_queries):
    campaign = BacklinkFactory().campaign
    Backlink.objects.bulk_create(
        Backlink(
            campaign=campaign,
            source_url=f"https://bulk{n}.example/",
            source_url_key=f"bulk{n}.example",
            target_url="https://ours.example/",
            target_url_key="ours.example",
        )
        for n in range(1500)
    )
    rows = list(Backlink.objects.filter(source_url_key__startswith="bulk"))
    for row in rows:
        row.state = "live"

    with django_assert_num_queries(2):  # 1,000 + 500 rows
        assert update_rows(rows, ["state"]) == 1500
    assert Backlink.objects.filter(state="live").count() == 1500


def test_no_rows_is_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert update_rows([], ["state"]) == 0
