"""Bulk prospect creation through the import engine: a JSON list of rows is
read as a spreadsheet whose headers are the importer's field names, so a row is
cleaned, deduplicated and refused with the same reasons as in an upload."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from campaigns.models import Campaign, User
from outreach.imports import engine
from outreach.imports.prospects import FIELDS, ProspectImporter
from outreach.imports.reader import Cell, Table

FIELD_NAMES = [field.name for field in FIELDS]


class RowRejectionSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based position in the rows sent.")
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BulkResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejections = RowRejectionSerializer(many=True)


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValidationError({"rows": ["Each value is a string, a number, a boolean or null."]})


def import_prospects(campaign: Campaign, rows: list[dict[str, Any]], *, by: User) -> dict[str, Any]:
    unknown = sorted({key for row in rows for key in row} - set(FIELD_NAMES))
    if unknown:
        raise ValidationError(
            {"rows": [f"Unknown field(s): {', '.join(unknown)}. Known: {', '.join(FIELD_NAMES)}."]}
        )
    used = [name for name in FIELD_NAMES if any(name in row for row in rows)]
    table = Table(
        headers=used,
        format="json",
        _rows=iter(
            (number, [_cell(row.get(name)) for name in used])
            for number, row in enumerate(rows, start=1)
        ),
    )
    mapping = dict(enumerate(used))
    rejections: list[dict[str, Any]] = []

    def keep(rejection: engine.Rejection) -> None:
        # Every one of them: the summary itself keeps only the first few.
        errors: dict[str, list[str]] = {}
        for column, reason in rejection.problems:
            errors.setdefault(column, []).append(reason)
        rejections.append({"row": rejection.row, "errors": errors})

    try:
        with transaction.atomic():
            summary = engine.run(
                ProspectImporter(campaign, by=by), table, mapping, write=True, on_reject=keep
            )
    except engine.MappingProblem as exc:
        raise ValidationError({"rows": [str(exc)]}) from exc
    return {
        "rows": summary.rows,
        "created": summary.created,
        "updated": summary.updated,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "rejections": rejections,
    }
