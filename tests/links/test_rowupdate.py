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
    first, second, untouched = BacklinkFactory.create_batch(3)
    first.state, first.noindex, first.lost_at = "lost", True, now
    second.state, second.noindex, second.first_seen_at = "live", False, now - timedelta(days=3)
    second.canonical_url = "https://elsewhere.example/" + "x" * 1500
    with django_assert_num_queries(1):
        assert (
            update_rows(
                [first, second], ["state", "noindex", "lost_at", "first_seen_at", "canonical_url"]
            )
            == 2
        )
    rows = {b.pk: b for b in Backlink.objects.all()}
    assert (rows[first.pk].state, rows[first.pk].noindex, rows[first.pk].lost_at) == (
        "lost",
        True,
        now,
    )
    assert rows[first.pk].first_seen_at is None
    assert (rows[second.pk].state, rows[second.pk].first_seen_at) == (
        "live",
        now - timedelta(days=3),
    )
    assert rows[second.pk].canonical_url == second.canonical_url
    assert rows[untouched.pk].state == untouched.state


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


def test_no_rows_is_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert update_rows([], ["state"]) == 0
