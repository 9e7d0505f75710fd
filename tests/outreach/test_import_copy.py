"""The import's COPY writer: every value reaches PostgreSQL as psycopg's own
write_row would have sent it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from psycopg._copy_base import TextFormatter
from psycopg.adapt import Transformer

from outreach.imports.copy import CopyStream, allocate_ids, insert_rows
from outreach.models import Kind, Prospect, Status

VALUES = [
    "plain",
    "",
    "tab\tnew\nline\rreturn\\back\bbell\vvertical\fform",
    "é ünïcödé ✓ 😀",
    "\\N",
    None,
    0,
    -7,
    2**40,
    True,
    False,
    datetime(2025, 9, 30, 23, 59, tzinfo=UTC),
    date(2025, 9, 30),
    Decimal("150.00"),
    [],
    Kind.HARO,
    Status.NEW,
]


@pytest.mark.django_db
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_value_is_written_as_write_row_writes_it(value):
    stream = CopyStream(Prospect, ["notes"])
    connection.ensure_connection()
    stream._transformer = Transformer(connection.connection)
    formatter = TextFormatter(Transformer(connection.connection))
    formatter.write_row([value])
    assert stream._text(value) == bytes(formatter.end()).decode().removesuffix("\n")


@pytest.mark.django_db
def test_a_nul_character_is_refused_as_write_row_refuses_it():
    import psycopg

    stream = CopyStream(Prospect, ["notes"])
    connection.ensure_connection()
    stream._transformer = Transformer(connection.connection)
    with pytest.raises(psycopg.DataError, match="NUL"):
        stream._text("a\x00b")


@pytest.mark.django_db
def test_streamed_rows_are_stored_as_given(campaign):
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    notes = "tab\tnew\nline\rreturn\\back\bbell\vvertical\fform é 😀"
    with transaction.atomic():
        ids = allocate_ids(Prospect, 2)
        stream = CopyStream(
            Prospect,
            ["id", "url", "url_key", "domain", "notes", "deadline", "domain_rating", "kind"],
            fixed={"campaign_id": campaign.pk, "status": Status.NEW, "created_at": now},
        )
        stream.write(
            [ids[0], "https://a.example/", "a.example", "a.example", notes, now, 7, Kind.HARO]
        )
        stream.write(
            [ids[1], "https://b.example/", "b.example", "b.example", "", None, None, "blogger"]
        )
        stream.close()
    a, b = Prospect.objects.filter(pk__in=ids).order_by("pk")
    assert (a.notes, a.deadline, a.domain_rating, a.kind) == (notes, now, 7, Kind.HARO)
    assert (b.notes, b.deadline, b.domain_rating, b.kind) == ("", None, None, "blogger")
    assert a.created_at == b.created_at == now
    assert a.status == b.status == Status.NEW
    assert [a.quality_stale, b.quality_stale] == [True, True]
    # The JSON default is a JSON list, not the array literal "{}" read as {}.
    assert [a.relevance_terms, b.relevance_terms] == [[], []]


@pytest.mark.django_db
def test_json_values_given_in_rows_are_stored_as_json(campaign):
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    insert_rows(
        Prospect,
        [
            {
                "campaign_id": campaign.pk,
                "kind": Kind.BLOGGER,
                "url": f"https://{name}.example/",
                "url_key": f"{name}.example",
                "domain": f"{name}.example",
                "status": Status.NEW,
                "relevance_terms": terms,
                "created_at": now,
                "updated_at": now,
            }
            for name, terms in [("empty", []), ("some", ["trail", "shoes"])]
        ],
    )
    stored = dict(Prospect.objects.values_list("domain", "relevance_terms"))
    assert stored == {"empty.example": [], "some.example": ["trail", "shoes"]}
