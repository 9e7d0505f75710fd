"""Backlink import: the link lists SEO tools export, read through the same
reader, mapping and engine as prospects (outreach/imports).

Recognized exports and their columns:

* Ahrefs (Backlinks report): "Referring page URL", "Target URL", "Anchor",
  "First seen", "Nofollow", "UGC", "Sponsored" (its "Type" is text/image/
  redirect, not the rel, so it is not read).
* Semrush (Backlinks): "Source url", "Target url", "Anchor", "First seen",
  "Nofollow", "Sponsored", "Ugc".
* Moz Link Explorer (Inbound links): "URL" (the linking page), "Target URL",
  "Anchor Text", "Link Type" (follow / nofollow) or a "Follow" yes/no column.
* Google Search Console (Links, "Top linked pages" → a page → export): it gives
  the linking pages of one target page and no target column, so the target comes
  from the import's "target URL for rows without one" option (the campaign's
  home page when left blank). Its "Top linking sites" export lists sites, not
  pages: importing those would check each site's home page, where the link
  almost never is, and raise a false "lost" alert for each. Such a file is
  refused with a message saying which export to take instead.

Imported backlinks start ``pending`` with ``next_check_at=now``, so the
verifier's scheduler checks them first. A target URL matching one of the
campaign's target pages (by url_key, or by domain for a whole-domain target)
is linked to it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from campaigns.models import TargetPage
from links import quality
from links.models import Backlink, BacklinkState
from links.verification.urls import domain_of, host_of, url_key
from outreach.imports import validate as v
from outreach.imports.copy import insert_rows
from outreach.imports.engine import Change, Importer
from outreach.imports.mapping import Field
from outreach.imports.reader import Cell

FIELDS = (
    Field(
        "source_url",
        "Source URL",
        (
            "referring page url",
            "source url",
            "url",
            "linking page",
            "source",
            "from url",
            "referring url",
            "backlink",
            "backlink url",
            "page url",
        ),
        help="The page that links to us.",
    ),
    Field(
        "target_url",
        "Target URL",
        ("target url", "target", "to url", "link url", "destination url", "target page"),
        help="Our page it links to; blank means the import's default target.",
    ),
    Field("anchor", "Anchor text", ("anchor", "anchor text", "link text", "text")),
    Field(
        "first_seen",
        "First seen",
        ("first seen", "first seen date", "date first seen", "found", "date found", "discovered"),
    ),
    Field("nofollow", "Nofollow", ("no follow", "is nofollow")),
    Field("follow", "Follow", ("dofollow", "do follow", "is follow", "followed")),
    Field("link_type", "Link type", ("link type", "rel", "link rel", "follow type")),
    Field("ugc", "UGC", ("is ugc",)),
    Field("sponsored", "Sponsored", ("is sponsored", "paid")),
    Field(
        "source_site",
        "Linking site (not a page)",
        ("top linking sites", "linking site", "linking sites", "referring domain", "site"),
        help="Search Console's 'Top linking sites': sites, not pages; cannot be imported.",
    ),
)
MAX_ANCHOR = 500
NOT_PASSING = ("nofollow", "ugc", "sponsored")


@dataclass
class BacklinkRecord:
    source_url: str
    source_url_key: str
    source_domain: str
    target_url: str
    target_url_key: str
    anchor: str = ""
    dofollow: bool | None = None
    first_seen: datetime | None = None


def link_type_dofollow(value: Cell) -> bool | None:
    """Moz's "Link Type" and a rel attribute: nofollow/ugc/sponsored do not pass
    value; follow/dofollow does; anything else says nothing about it."""
    words = v.text(value).lower().replace(",", " ").split()
    if any(word in NOT_PASSING for word in words):
        return False
    if any(word in {"follow", "dofollow", "do-follow"} for word in words):
        return True
    return None


class BacklinkImporter(Importer):
    target = "backlinks"
    label = "Backlinks"
    fields = FIELDS
    preview_columns = ("Source", "Target", "Target page", "Anchor", "Follow", "First seen")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = self.options.get("target_url") or f"https://{self.campaign.site}/"
        self.default_target = v.web_url(default, field="target_url", bare_domain=True)
        pages = list(TargetPage.objects.filter(campaign=self.campaign))
        self.pages_by_key = {page.url_key: page for page in pages if not page.is_domain}
        self.pages_by_domain = {page.url_key: page for page in pages if page.is_domain}
        self._added: list[Backlink] = []

    def mapping_problems(self, mapped: set[str]) -> list[str]:
        if "source_url" in mapped:
            return []
        if "source_site" in mapped:
            return [
                "This looks like Search Console's 'Top linking sites' export: it lists sites, "
                "not the pages that link, so there is nothing to check. In Search Console open "
                "Links → Top linked pages, pick a page, export its linking pages, and import "
                "that file with the page as the target URL."
            ]
        return [
            "No column holds the linking page's URL: name one Referring page URL, Source "
            "URL or URL, or pick it in the column mapping."
        ]

    def clean(self, values: dict[str, Cell]) -> BacklinkRecord:
        errors: list[v.RowError] = []

        def attempt(name: str, parse: Any) -> Any:
            if name not in values:
                return None
            try:
                return parse(values[name])
            except v.RowError as exc:
                errors.append(exc)
                return None

        source = attempt("source_url", lambda c: v.web_url(c, field="source_url"))
        if "source_url" not in values:
            errors.append(v.RowError("source_url", "is empty: every backlink needs its page"))
        target = attempt("target_url", lambda c: v.web_url(c, field="target_url"))
        anchor = attempt("anchor", v.text) or ""
        first_seen = attempt(
            "first_seen", lambda c: v.a_datetime(c, field="first_seen", date_only_at=time(0, 0))
        )
        dofollow = self._dofollow(values, errors)
        if errors:
            raise v.RowErrors(errors)
        assert source is not None
        target = target or self.default_target
        return BacklinkRecord(
            source_url=source,
            source_url_key=url_key(source),
            source_domain=domain_of(source),
            target_url=target,
            target_url_key=url_key(target),
            anchor=anchor[:MAX_ANCHOR],
            dofollow=dofollow,
            first_seen=first_seen,
        )

    @staticmethod
    def _dofollow(values: dict[str, Cell], errors: list[v.RowError]) -> bool | None:
        """None when the row says nothing about the rel."""
        verdicts: list[bool] = []
        try:
            if "follow" in values:
                verdicts.append(v.boolean(values["follow"], field="follow"))
            for name in NOT_PASSING:
                if name in values and v.boolean(values[name], field=name):
                    verdicts.append(False)
            if "nofollow" in values and not v.boolean(values["nofollow"], field="nofollow"):
                verdicts.append(True)
        except v.RowError as exc:
            errors.append(exc)
            return None
        if "link_type" in values:
            verdict = link_type_dofollow(values["link_type"])
            if verdict is not None:
                verdicts.append(verdict)
        if not verdicts:
            return None
        return all(verdicts)

    def key(self, record: BacklinkRecord) -> Hashable:
        return (record.source_url_key, record.target_url_key)

    def existing_keys(self) -> set[Hashable]:
        return set(
            Backlink.objects.filter(campaign=self.campaign)
            .order_by()
            .values_list("source_url_key", "target_url_key")
        )

    def find_existing(self, keys: Sequence[Hashable]) -> dict[Hashable, Backlink]:
        wanted = set(keys)
        sources = {key[0] for key in wanted}  # type: ignore[index]
        queryset = Backlink.objects.filter(
            campaign=self.campaign, source_url_key__in=sources
        ).order_by()
        found = {}
        for backlink in queryset:
            key = (backlink.source_url_key, backlink.target_url_key)
            if key in wanted:
                found[key] = backlink
        return found

    def target_page(self, record: BacklinkRecord) -> TargetPage | None:
        return self.pages_by_key.get(record.target_url_key) or self.pages_by_domain.get(
            host_of(record.target_url)
        )

    def merge(self, obj: Backlink, record: BacklinkRecord) -> list[str]:
        changed = []
        if record.anchor and obj.expected_anchor_text != record.anchor:
            obj.expected_anchor_text = record.anchor
            changed.append("expected_anchor_text")
        if record.dofollow is not None and obj.expected_dofollow != record.dofollow:
            obj.expected_dofollow = record.dofollow
            changed.append("expected_dofollow")
        if record.first_seen is not None and obj.first_seen_at != record.first_seen:
            obj.first_seen_at = record.first_seen
            changed.append("first_seen_at")
        if obj.target_page_id is None and (page := self.target_page(record)) is not None:
            obj.target_page = page
            changed.append("target_page")
        return changed

    def build(self, record: BacklinkRecord) -> Backlink:
        return Backlink(
            campaign=self.campaign,
            target_page=self.target_page(record),
            source_url=record.source_url,
            source_url_key=record.source_url_key,
            source_domain=record.source_domain,
            target_url=record.target_url,
            target_url_key=record.target_url_key,
            expected_anchor_text=record.anchor,
            expected_dofollow=True if record.dofollow is None else record.dofollow,
            first_seen_at=record.first_seen,
            won_on=(record.first_seen or self.now).date(),
            state=BacklinkState.PENDING,
            next_check_at=self.now,
        )

    def add(self, obj: Backlink, record: BacklinkRecord) -> None:
        self._added.append(obj)

    def flush_new(self) -> None:
        # Backlink lists are a few thousand rows: COPY without streaming is plenty.
        insert_rows(
            Backlink,
            [
                {
                    field.attname: getattr(obj, field.attname)
                    for field in Backlink._meta.concrete_fields
                    if not field.primary_key and field.attname != "created_at"
                }
                for obj in self._added
            ],
        )
        quality.refresh({self.campaign.pk: {obj.source_domain for obj in self._added}})
        self._added = []

    def abort(self) -> None:
        self._added = []

    def save_changed(self, changed: list[Change]) -> None:
        by_fields: dict[tuple[str, ...], list[Backlink]] = {}
        for change in changed:
            by_fields.setdefault(tuple(sorted(change.fields)), []).append(change.obj)
        for fields, objs in by_fields.items():
            Backlink.objects.bulk_update(objs, list(fields), batch_size=500)
        quality.refresh({self.campaign.pk: {change.obj.source_domain for change in changed}})

    def describe(self, obj: Backlink, record: BacklinkRecord) -> dict[str, str]:
        return {
            "Source": obj.source_url,
            "Target": obj.target_url,
            "Target page": obj.target_page.url if obj.target_page else "",
            "Anchor": obj.expected_anchor_text,
            "Follow": "yes" if obj.expected_dofollow else "no",
            "First seen": obj.first_seen_at.strftime("%Y-%m-%d") if obj.first_seen_at else "",
        }
