"""Prospect import: the columns a prospect list has, what a valid row is, and
how a batch is written (bulk, with the first status history row of each new
prospect and its tags)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import partial
from typing import Any

from django.db import connection
from django.utils import timezone

from outreach.imports import validate as v
from outreach.imports.copy import CopyStream, allocate_ids, insert_rows, int_array
from outreach.imports.engine import Change, Importer
from outreach.imports.mapping import Field, header_key
from outreach.imports.reader import Cell
from outreach.models import PIPELINE, Kind, Prospect, Status, StatusChange, Tag

NEW_STEP = PIPELINE.index(Status.NEW)

FIELDS = (
    Field("url", "URL", ("website", "page url", "page", "link", "site url", "website url", "web")),
    Field(
        "domain",
        "Domain",
        ("root domain", "site", "host", "hostname"),
        help="A bare domain becomes its https home page when the row has no URL.",
    ),
    Field("contact_email", "Email", ("contact email", "e mail", "email address", "mail")),
    Field("contact_name", "Name", ("contact", "contact name", "author", "full name", "person")),
    Field(
        "domain_rating",
        "Domain rating",
        ("dr", "domain rating", "authority score", "da", "domain authority", "as", "rating"),
    ),
    Field("kind", "Type", ("type", "kind", "prospect type", "category type")),
    Field("notes", "Notes", ("note", "comments", "comment", "remarks")),
    Field("tags", "Tags", ("tag", "labels", "label")),
    Field("deadline", "Deadline", ("due", "due date", "deadline date")),
    Field("niche", "Niche", ("topic", "category", "industry")),
    Field("outlet", "Outlet", ("publication", "media outlet")),
)

# Friendly labels people type in a Type column, by their header_key form.
KIND_WORDS: dict[str, str] = {
    **{header_key(kind.value): kind.value for kind in Kind},
    **{header_key(kind.label): kind.value for kind in Kind},
    "blog": Kind.BLOGGER,
    "bloggers": Kind.BLOGGER,
    "blogger outreach": Kind.BLOGGER,
    "guest post": Kind.GUEST_POST,
    "guest posts": Kind.GUEST_POST,
    "guest posting": Kind.GUEST_POST,
    "guestpost": Kind.GUEST_POST,
    "guest": Kind.GUEST_POST,
    "haro": Kind.HARO,
    "haro query": Kind.HARO,
    "haro queries": Kind.HARO,
    "journalist query": Kind.HARO,
    "broken link": Kind.BROKEN_LINK,
    "broken links": Kind.BROKEN_LINK,
    "broken link building": Kind.BROKEN_LINK,
    "brokenlink": Kind.BROKEN_LINK,
}
TAG_SEPARATORS = (",", ";", "|")
# Prospect ids taken from the sequence at a time while streaming.
ID_BLOCK = 5000
# A deadline given as a date means by the end of that day.
DEADLINE_TIME = time(23, 59)


@dataclass
class ProspectRecord:
    url: str
    url_key: str
    domain: str
    kind: str | None = None
    contact_email: str = ""
    contact_name: str = ""
    domain_rating: int | None = None
    notes: str = ""
    deadline: datetime | None = None
    niche: str = ""
    outlet: str = ""
    tags: list[str] = field(default_factory=list)


# The plain fields copied onto a prospect when the row has a value for them.
COPIED = ("contact_email", "contact_name", "domain_rating", "notes", "deadline", "niche", "outlet")
# The columns a new prospect's row gives the COPY (the rest are the same for
# every row).
STREAMED = ("id", "kind", "url", "url_key", "domain", *COPIED)


# Each spelling of a type seen in a file, with its kind: a file spells its types
# a few ways, and header_key costs more than the rest of a row's type check.
# Bounded, because a hostile file could spell them in endless ways.
_KIND_OF_TEXT: dict[str, str] = {}
KIND_TEXTS_KEPT = 1000


def parse_kind(value: Cell) -> str:
    raw = v.text(value)
    kind = _KIND_OF_TEXT.get(raw)
    if kind is not None:
        return kind
    kind = KIND_WORDS.get(header_key(raw))
    if kind is None:
        raise v.RowError(
            "kind",
            f"{raw[:60]!r} is not a prospect type: use blogger, guest post, HARO or broken link",
        )
    if len(_KIND_OF_TEXT) < KIND_TEXTS_KEPT:
        _KIND_OF_TEXT[raw] = kind
    return kind


def parse_tags(value: Cell) -> list[str]:
    raw = v.text(value)
    for separator in TAG_SEPARATORS[1:]:
        raw = raw.replace(separator, TAG_SEPARATORS[0])
    names: dict[str, str] = {}
    for name in (part.strip() for part in raw.split(TAG_SEPARATORS[0])):
        if not name:
            continue
        if len(name) > 60:
            raise v.RowError("tags", f"the tag {name[:20]!r}… is longer than 60 characters")
        names.setdefault(name.lower(), name)
    return list(names.values())


# Each field's parser, in the order a row's problems are listed.
PARSERS: tuple[tuple[str, Callable[[Cell], Any]], ...] = (
    ("kind", parse_kind),
    ("contact_email", partial(v.email, field="contact_email")),
    ("contact_name", partial(v.limited_text, field="contact_name", max_length=200)),
    ("domain_rating", partial(v.integer, field="domain_rating", low=0, high=100)),
    ("notes", v.text),
    ("niche", partial(v.limited_text, field="niche", max_length=120)),
    ("outlet", partial(v.limited_text, field="outlet", max_length=200)),
    ("tags", parse_tags),
    ("deadline", partial(v.a_datetime, field="deadline", date_only_at=DEADLINE_TIME)),
)


class ProspectImporter(Importer):
    target = "prospects"
    label = "Prospects"
    fields = FIELDS
    preview_columns = ("URL", "Domain", "Type", "Email", "Name", "DR", "Tags", "Deadline")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_kind = Kind(self.options.get("kind") or Kind.BLOGGER).value
        self._tags: dict[str, Tag] | None = None
        self._streaming = connection.vendor == "postgresql"
        self._stream = (
            CopyStream(
                Prospect,
                STREAMED,
                fixed={
                    "campaign_id": self.campaign.pk,
                    "status": Status.NEW,
                    # What the "new" history row below sets, written now so that
                    # its trigger has no prospect row to rewrite.
                    "furthest_step": NEW_STEP,
                    "created_at": self.now,
                    "updated_at": self.now,
                },
            )
            if self._streaming
            else None
        )
        self._ids: list[int] = []
        self._added: list[tuple[int | None, ProspectRecord]] = []
        self._unsaved: list[dict[str, Any]] = []

    def mapping_problems(self, mapped: set[str]) -> list[str]:
        if not mapped & {"url", "domain"}:
            return [
                "No column holds the prospect's URL or domain: name one URL, Website, "
                "Page URL or Domain, or pick it in the column mapping."
            ]
        return []

    def clean(self, values: dict[str, Cell]) -> ProspectRecord:
        # Runs once per row of files of 100,000 rows: no closures or
        # per-field lambdas, the parsers are built once (PARSERS), and the URL
        # is parsed once for its normal form, domain and key.
        errors: list[v.RowError] = []
        url = None
        source = "url" if "url" in values else "domain" if "domain" in values else None
        if source is None:
            errors.append(v.RowError("url", "is empty: every prospect needs a URL or a domain"))
        else:
            try:
                url = v.web_url_domain_and_key(
                    values[source], field=source, bare_domain=source == "domain"
                )
            except v.RowError as exc:
                errors.append(exc)
        record = ProspectRecord(url="", url_key="", domain="")
        for name, parse in PARSERS:
            if name in values:
                try:
                    setattr(record, name, parse(values[name]))
                except v.RowError as exc:
                    errors.append(exc)
        if record.deadline is not None and record.kind is not None and record.kind != Kind.HARO:
            errors.append(
                v.RowError("deadline", "only HARO queries have a deadline; set the type to HARO")
            )
        if errors:
            raise v.RowErrors(errors)
        assert url is not None
        record.url, record.domain, record.url_key = url
        return record

    def key(self, record: ProspectRecord) -> Hashable:
        return record.url_key

    def existing_keys(self) -> set[Hashable]:
        return set(
            Prospect.objects.filter(campaign=self.campaign)
            .order_by()
            .values_list("url_key", flat=True)
        )

    def find_existing(self, keys: Sequence[Hashable]) -> dict[Hashable, Prospect]:
        found = {
            prospect.url_key: prospect
            for prospect in Prospect.objects.filter(
                campaign=self.campaign, url_key__in=keys
            ).order_by()
        }
        # Tag names by prospect in one flat query: prefetch_related would build
        # a Tag instance per link, the slowest part of re-importing a big file.
        self._existing_tags: dict[int, set[str]] = defaultdict(set)
        if found:
            pairs = Prospect.tags.through.objects.filter(
                prospect_id__in=[prospect.pk for prospect in found.values()]
            ).values_list("prospect_id", "tag__name")
            for prospect_id, name in pairs:
                self._existing_tags[prospect_id].add(name.lower())
        return found

    def merge(self, obj: Prospect, record: ProspectRecord) -> list[str]:
        changed: list[str] = []
        if record.kind and record.kind != obj.kind:
            self._check_kind_change(obj, record.kind)
            obj.kind = record.kind
            changed.append("kind")
        if record.deadline is not None and obj.kind != Kind.HARO:
            raise v.RowError(
                "deadline", "only HARO queries have a deadline, and this prospect is not one"
            )
        for name in COPIED:
            value = getattr(record, name)
            if value in (None, "") or getattr(obj, name) == value:
                continue
            setattr(obj, name, value)
            changed.append(name)
        if record.tags:
            have = self._existing_tags.get(obj.pk, set())
            if any(name.lower() not in have for name in record.tags):
                changed.append("tags")
        return changed

    @staticmethod
    def _check_kind_change(obj: Prospect, kind: str) -> None:
        kept = []
        if kind != Kind.GUEST_POST and obj.fee is not None:
            kept.append("a fee")
        if kind != Kind.HARO and (obj.deadline is not None or obj.query_text):
            kept.append("a HARO query or deadline")
        if kind != Kind.BROKEN_LINK and (obj.dead_url or obj.offered_target_id):
            kept.append("a dead link")
        if kept:
            raise v.RowError(
                "kind",
                f"this prospect is a {obj.get_kind_display()} with {' and '.join(kept)}; "
                f"change its type in the app, not by import",
            )

    def build(self, record: ProspectRecord) -> ProspectRecord:
        # New prospects stay records until COPY writes them: a model instance
        # per row costs more than the rest of the row's work together.
        kind = record.kind or self.default_kind
        if record.deadline is not None and kind != Kind.HARO:
            raise v.RowError("deadline", "only HARO queries have a deadline; set the type to HARO")
        record.kind = kind
        return record

    def _row(self, record: ProspectRecord) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign.pk,
            "kind": record.kind,
            "status": Status.NEW,
            "furthest_step": NEW_STEP,
            "url": record.url,
            "url_key": record.url_key,
            "domain": record.domain,
            "created_at": self.now,
            "updated_at": self.now,
            **{name: getattr(record, name) for name in COPIED},
        }

    def add(self, obj: ProspectRecord, record: ProspectRecord) -> None:
        if self._stream is None:
            self._unsaved.append(self._row(record))
            self._added.append((None, record))
            return
        if not self._ids:
            # Ids come from the sequence, a query: the COPY must pause for it.
            self._stream.close()
            self._ids = allocate_ids(Prospect, ID_BLOCK)
            self._ids.reverse()
        pk = self._ids.pop()
        # STREAMED's order.
        self._stream.write(
            (
                pk,
                record.kind,
                record.url,
                record.url_key,
                record.domain,
                record.contact_email,
                record.contact_name,
                record.domain_rating,
                record.notes,
                record.deadline,
                record.niche,
                record.outlet,
            )
        )
        self._added.append((pk, record))

    def flush_new(self) -> None:
        """Close the COPY, then write the new prospects' history and tags."""
        if self._stream is not None:
            self._stream.close()
            ids = [pk for pk, _ in self._added]
        else:
            ids = insert_rows(Prospect, self._unsaved, returning_ids=True)
            self._unsaved = []
        records = [record for _, record in self._added]
        self._added = []
        if not ids:
            return
        by = self.by.pk if self.by is not None else None
        if self._streaming:
            # One statement for the batch's history rows: the database builds
            # them from the ids, no Python row each.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {StatusChange._meta.db_table} "
                    "(prospect_id, from_status, to_status, changed_by_id, changed_at) "
                    "SELECT unnest(%s::bigint[]), '', %s, %s, %s",
                    [int_array(ids), Status.NEW, by, self.now],
                )
        else:
            insert_rows(
                StatusChange,
                [
                    {
                        "prospect_id": prospect_id,
                        "from_status": "",
                        "to_status": Status.NEW,
                        "changed_by_id": by,
                        "changed_at": self.now,
                    }
                    for prospect_id in ids
                ],
            )
        tagged = [(pk, r.tags) for pk, r in zip(ids, records, strict=True) if r.tags]
        if tagged:
            self._add_tags(tagged, [])

    def abort(self) -> None:
        if self._stream is not None:
            self._stream.abort()
        self._added, self._unsaved = [], []

    def save_changed(self, changed: list[Change]) -> None:
        by_fields: dict[tuple[str, ...], list[Prospect]] = {}
        for change in changed:
            change.obj.updated_at = self.now
            # Rating or URL may have changed: links.quality rescores it.
            change.obj.quality_stale = True
            plain = tuple(sorted(f for f in change.fields if f != "tags"))
            if plain:
                by_fields.setdefault(plain, []).append(change.obj)
        # One UPDATE per set of changed fields, so a field the file does not
        # change is never written back, even with its own old value.
        for fields, objs in by_fields.items():
            Prospect.objects.bulk_update(
                objs, [*fields, "updated_at", "quality_stale"], batch_size=500
            )
        retagged = [(c.obj.pk, c.record.tags) for c in changed if "tags" in c.fields]
        if retagged:
            self._add_tags([], retagged)

    def _add_tags(
        self, tagged: list[tuple[int, list[str]]], retagged: list[tuple[int, list[str]]]
    ) -> None:
        """Tag new prospects (by COPY: nothing to conflict with) and add tags to
        existing ones (skipping the ones they have)."""
        if self._tags is None:
            self._tags = {
                tag.name.lower(): tag for tag in Tag.objects.filter(campaign=self.campaign)
            }
        wanted = {name.lower(): name for _, names in tagged + retagged for name in names}
        missing = [name for lower, name in wanted.items() if lower not in self._tags]
        if missing:
            Tag.objects.bulk_create(
                [Tag(campaign=self.campaign, name=name) for name in missing], ignore_conflicts=True
            )
            for tag in Tag.objects.filter(campaign=self.campaign, name__in=missing):
                self._tags[tag.name.lower()] = tag
        Through = Prospect.tags.through
        tag_ids = {lower: tag.pk for lower, tag in self._tags.items()}
        pairs = [(pk, tag_ids[name.lower()]) for pk, names in tagged for name in names]
        if self._streaming and pairs:
            # New prospects have no tags yet: nothing to conflict with.
            prospect_ids, tag_id_column = zip(*pairs, strict=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {Through._meta.db_table} (prospect_id, tag_id) "  # noqa: S608
                    "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                    [int_array(prospect_ids), int_array(tag_id_column)],
                )
        else:
            insert_rows(Through, [{"prospect_id": pk, "tag_id": tag_id} for pk, tag_id in pairs])
        Through.objects.bulk_create(
            [
                Through(prospect_id=pk, tag_id=self._tags[name.lower()].pk)
                for pk, names in retagged
                for name in names
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )

    def describe(self, obj: Prospect | ProspectRecord, record: ProspectRecord) -> dict[str, str]:
        rating = obj.domain_rating
        return {
            "URL": obj.url,
            "Domain": obj.domain,
            "Type": Kind(obj.kind).label,
            "Email": obj.contact_email,
            "Name": obj.contact_name,
            "DR": "" if rating is None else str(rating),
            "Tags": ", ".join(record.tags),
            "Deadline": timezone.localtime(obj.deadline).strftime("%Y-%m-%d %H:%M")
            if obj.deadline
            else "",
        }
