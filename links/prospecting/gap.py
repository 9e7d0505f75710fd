"""Competitor link gap: read competitors' backlink exports (Ahrefs, Semrush, Moz)
into referring domains, and make prospects of the domains that link to several
competitors but not to us.

Files are read by the import feature's reader (outreach/imports/reader.py: CSV
in any common encoding and delimiter, or XLSX, with its size and zip-bomb
limits), and columns are recognized by the import mapping's header matching.
Recognized columns, whichever tool wrote them:

* the linking page: "Referring page URL" (Ahrefs), "Source url" (Semrush),
  "URL" (Moz), "Linking page"...
* or the linking domain: "Referring domain", "Domain", "Root Domain" (Moz)...
* the rating: "Domain rating" / "DR" (Ahrefs), "Domain Authority" / "DA" (Moz),
  "Authority Score" / "Domain ascore" / "Page ascore" (Semrush);
* the target: "Target URL", used to tell which competitor the file is about
  when the uploader does not say.

Every domain here is a site, the registrable domain of whatever the row gives:
Moz lists root domains, Ahrefs and Semrush list linking pages whose hosts may be
``blog.`` or ``m.`` subdomains, and our backlinks are counted the same way, so
``blog.linker.co.uk`` in one file and ``linker.co.uk`` in another are one
referring domain.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.models import Campaign
from config.enqueue import TaskRef
from links.prospecting import profile
from links.prospecting.models import (
    BacklinkExport,
    ExportFacet,
    ExportState,
    ExportUpload,
    FacetKind,
    ReferringDomain,
)
from links.prospecting.queries import competitors_of, link_gap
from links.prospecting.signals import exports_changed
from links.verification.urls import InvalidURL, domain_of, normalize_url, registrable_domain
from outreach.imports.mapping import Field, guess_mapping, header_key
from outreach.imports.reader import Cell, UnreadableFile, file_format, open_table, size_of
from outreach.imports.validate import MAX_URL_CELL
from outreach.models import Kind, Prospect
from outreach.services import create_prospect

if TYPE_CHECKING:
    from campaigns.models import User

MAX_ROWS = 500_000
# Bound by links.prospecting.tasks, which imports this module.
export_task: TaskRef[[int]] = TaskRef("links.prospecting.tasks.read_backlink_export")
# A rating is a number from 0 to 100, as "57", "57.0" or "57,3".
MAX_RATING_CELL = 32
FIELDS = (
    Field(
        "page",
        "Linking page",
        ("referring page url", "source url", "url", "linking page", "referring url",
         "backlink url", "from url", "source", "page url", "referring page"),
    ),
    Field(
        "domain",
        "Linking domain",
        ("referring domain", "domain", "root domain", "linking domain", "source domain",
         "referring domains", "linking root domain"),
    ),
    Field(
        "rating",
        "Domain rating",
        ("domain rating", "dr", "domain authority", "da", "authority score", "domain ascore",
         "ascore", "page ascore", "domain score"),
    ),
    Field("target", "Target URL", ("target url", "target", "to url", "destination url")),
    # For the comparison with our profile (links.prospecting.profile):
    Field("anchor", "Anchor text", ("anchor", "anchor text", "link anchor", "anchor_text")),
    Field("nofollow", "Nofollow", ("nofollow", "no follow", "is nofollow")),
    Field("ugc", "UGC", ("ugc", "is ugc")),
    Field("sponsored", "Sponsored", ("sponsored", "is sponsored")),
    Field("rel", "Link type", ("link type", "rel", "link rel", "follow type")),
    Field(
        "first_seen",
        "First seen",
        ("first seen", "first seen date", "first indexed", "date found", "found date",
         "first found", "discovered", "first crawled"),
    ),
)  # fmt: skip
# The comparison keeps each export's most linked pages, counted by referring
# domains; pages beyond MAX_PAGES_TRACKED distinct ones in one file are not
# followed (a file that large is a sitewide export, and its top pages are
# among the first seen anyway).
PAGES_KEPT = 100
MAX_PAGES_TRACKED = 20_000
# Distinct anchor texts remembered to tell branded ones once the file's site is
# known; the rest count as "other".
MAX_ANCHORS_TRACKED = 20_000
TOOL_SIGNS = (
    ("Ahrefs", ("referring page url", "domain rating")),
    ("Semrush", ("page ascore", "source url", "domain ascore", "authority score")),
    ("Moz", ("domain authority", "root domain", "page authority")),
)


class ExportError(Exception):
    """The upload cannot be used; the message says why, for a person."""


def max_upload_mb() -> int:
    return int(settings.LINK_GAP_MAX_UPLOAD_MB)


def _domain(value: Cell) -> str | None:
    text = str(value or "").strip()
    if not text or len(text) > MAX_URL_CELL:
        return None
    if "://" not in text:
        text = f"https://{text.lstrip('/')}"
    try:
        return domain_of(text)
    except InvalidURL:
        return None


def _rating(value: Cell) -> int | None:
    if value is None or isinstance(value, bool) or len(str(value)) > MAX_RATING_CELL:
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return round(number) if 0 <= number <= 100 else None


def _tool(headers: list[str]) -> str:
    keys = {header_key(h) for h in headers}
    for tool, signs in TOOL_SIGNS:
        if any(sign in keys for sign in signs):
            return tool
    return ""


@dataclass
class _Domain:
    rating: int | None = None
    links: int = 0
    sample_url: str = ""


@dataclass
class _Reading:
    headers: list[str]
    domains: dict[str, _Domain] = field(default_factory=dict)
    targets: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    skipped: int = 0
    # The comparison's figures (see ExportFacet).
    follow: int = 0
    nofollow: int = 0
    anchor_classes: Counter[str] = field(default_factory=Counter)
    # Anchors that may turn out branded, by text (capped).
    other_anchors: Counter[str] = field(default_factory=Counter)
    months: Counter[date] = field(default_factory=Counter)
    page_domains: dict[str, set[str]] = field(default_factory=dict)
    page_links: Counter[str] = field(default_factory=Counter)
    page_keys: dict[str, str] = field(default_factory=dict)


# Progress is written every this many rows while a job reads an export.
PROGRESS_EVERY_ROWS = 5000


def read_export(
    handle: IO[bytes], *, name: str, progress: Callable[[int], None] | None = None
) -> _Reading:
    """Referring domains of one export, with their best rating and a sample page."""
    try:
        with open_table(
            handle, name=name, max_bytes=max_upload_mb() * 1024 * 1024, max_rows=MAX_ROWS
        ) as table:
            mapping = {v: k for k, v in guess_mapping(table.headers, FIELDS).items()}
            if "page" not in mapping and "domain" not in mapping:
                shown = ", ".join(h for h in table.headers[:12] if h) or "none"
                raise ExportError(
                    "No column with the linking page or domain was found (expected e.g. "
                    f"“Referring page URL”, “Source url”, “URL” or “Domain”). Columns: {shown}."
                )
            reading = _Reading(headers=list(table.headers))
            for _number, cells in table.rows():
                reading.rows += 1
                _read_row(reading, cells, mapping)
                if progress is not None and reading.rows % PROGRESS_EVERY_ROWS == 0:
                    progress(reading.rows)
    except UnreadableFile as exc:
        raise ExportError(str(exc)) from exc
    return reading


def _read_row(reading: _Reading, cells: list[Cell], mapping: dict[str, int]) -> None:
    page = str(cells[mapping["page"]] or "").strip() if "page" in mapping else ""
    domain = _domain(cells[mapping["domain"]]) if "domain" in mapping else None
    if domain is None and page:
        domain = _domain(page)
    if domain is None:
        reading.skipped += 1
        return
    entry = reading.domains.get(domain)
    if entry is None:
        entry = reading.domains[domain] = _Domain()
    entry.links += 1
    if "rating" in mapping:
        rating = _rating(cells[mapping["rating"]])
        if rating is not None and (entry.rating is None or rating > entry.rating):
            entry.rating = rating
    if page.startswith(("http://", "https://")) and not entry.sample_url and len(page) <= 2000:
        entry.sample_url = page
    if "target" in mapping:
        target = _domain(cells[mapping["target"]])
        if target:
            reading.targets[target] += 1
        _read_page(reading, cells[mapping["target"]], domain)
    _read_profile(reading, cells, mapping)


def _read_page(reading: _Reading, cell: Cell, domain: str) -> None:
    raw = str(cell or "").strip()
    if not raw or len(raw) > 2000:
        return
    page = reading.page_keys.get(raw)
    if page is None:
        if len(reading.page_keys) >= MAX_PAGES_TRACKED:
            return
        try:
            page = normalize_url(raw if "://" in raw else f"https://{raw}")
        except InvalidURL:
            page = ""
        reading.page_keys[raw] = page
    if page:
        reading.page_domains.setdefault(page, set()).add(domain)
        reading.page_links[page] += 1


def _read_profile(reading: _Reading, cells: list[Cell], mapping: dict[str, int]) -> None:
    if "anchor" in mapping:
        anchor = profile.clean_anchor(cells[mapping["anchor"]])
        kind = profile.anchor_class_before_brand(anchor)
        if kind == "other" and (
            anchor in reading.other_anchors or len(reading.other_anchors) < MAX_ANCHORS_TRACKED
        ):
            reading.other_anchors[anchor] += 1
        else:
            reading.anchor_classes[kind] += 1
    flags = [profile.flag(cells[mapping[name]]) for name in ("nofollow", "ugc", "sponsored")
             if name in mapping]  # fmt: skip
    by_rel = profile.follows_by_rel(cells[mapping["rel"]]) if "rel" in mapping else None
    if any(flags) or by_rel is False:
        reading.nofollow += 1
    elif by_rel is True or (flags and all(f is False for f in flags)):
        reading.follow += 1
    if "first_seen" in mapping:
        month = profile.month_of(cells[mapping["first_seen"]])
        if month is not None:
            reading.months[month] += 1


@transaction.atomic
def queue_export(
    campaign: Campaign,
    upload: Any,
    *,
    competitor: str = "",
    is_ours: bool = False,
    by: User | None,
    enqueue: bool = True,
) -> BacklinkExport:
    """Keep an uploaded export and queue the job that reads it. What can be told
    from the upload alone (size, file type, the competitor typed) is refused
    here, at once; the rest by the job."""
    name = str(upload.name or "export")[:255]
    handle = upload.file if hasattr(upload, "file") else upload
    size = size_of(handle)
    limit = max_upload_mb() * 1024 * 1024
    if size > limit:
        raise ExportError(f"The file is {size / 1e6:.1f} MB; the limit is {max_upload_mb()} MB.")
    if size == 0:
        raise ExportError("The file is empty.")
    try:
        file_format(name, handle.read(8))
    except UnreadableFile as exc:
        raise ExportError(str(exc)) from exc
    handle.seek(0)
    about = ""
    ours = registrable_domain(campaign.site)
    if is_ours:
        about = ours
    elif competitor.strip():
        about = _domain(competitor) or ""
        if not about:
            raise ExportError(f"“{competitor}” is not a domain or URL.")
        if about == ours:
            raise ExportError(
                f"{about} is the campaign's own site: tick “our own backlinks” for its export."
            )
    export = BacklinkExport.objects.create(
        campaign=campaign,
        competitor=about,
        is_ours=is_ours,
        original_name=name,
        file_size=size,
        uploaded_by=by,
        task_id=str(uuid.uuid4()),
    )
    ExportUpload.objects.create(export=export, data=handle.read())
    if enqueue:
        transaction.on_commit(lambda: _enqueue(export))
    return export


def _enqueue(export: BacklinkExport) -> None:
    export_task.delay_as(export.task_id, export.pk)


def run_export(export_id: int) -> BacklinkExport | None:
    """Read a queued export into referring domains. Safe to call twice: only the
    call that moves it from queued to reading does the work. A file that cannot
    be used fails the export with the reason, shown on the page."""
    claimed = BacklinkExport.objects.filter(pk=export_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING
    )
    if not claimed:
        return None
    export = BacklinkExport.objects.select_related("campaign").get(pk=export_id)
    upload = ExportUpload.objects.filter(export=export).first()
    try:
        if upload is None:
            raise ExportError("The uploaded file is gone; upload it again.")

        def progress(rows: int) -> None:
            BacklinkExport.objects.filter(pk=export_id).update(rows_read=rows)

        reading = read_export(
            io.BytesIO(bytes(upload.data)), name=export.original_name, progress=progress
        )
        _store(export, reading)
    except ExportError as exc:
        BacklinkExport.objects.filter(pk=export_id).update(
            state=ExportState.FAILED, error=str(exc)[:2000]
        )
    finally:
        ExportUpload.objects.filter(export_id=export_id).delete()
    return BacklinkExport.objects.get(pk=export_id)


@transaction.atomic
def _store(export: BacklinkExport, reading: _Reading) -> None:
    campaign = export.campaign
    about = export.competitor
    if not about:
        if not reading.targets:
            raise ExportError(
                "Say which competitor this export is about: the file has no target column."
            )
        about = reading.targets.most_common(1)[0][0]
        if about == registrable_domain(campaign.site):
            raise ExportError(
                f"This export is about {about}, the campaign's own site: upload it again "
                "with “our own backlinks” ticked."
            )
    if not reading.domains:
        raise ExportError("No row has a usable linking page or domain.")
    ReferringDomain.objects.bulk_create(
        (
            ReferringDomain(
                export=export,
                campaign=campaign,
                competitor=about,
                is_ours=export.is_ours,
                domain=domain,
                domain_rating=entry.rating,
                links=entry.links,
                sample_url=entry.sample_url,
            )
            for domain, entry in reading.domains.items()
        ),
        batch_size=2000,
    )
    ExportFacet.objects.bulk_create(_facets(export, reading, about), batch_size=2000)
    BacklinkExport.objects.filter(pk=export.pk).update(
        state=ExportState.DONE,
        competitor=about,
        tool=_tool(reading.headers),
        rows_read=reading.rows,
        rows_skipped=reading.skipped,
        domain_count=len(reading.domains),
        links_follow=reading.follow,
        links_nofollow=reading.nofollow,
    )
    # Ratings from the export may now be the best known for our links' sites.
    exports_changed.send(BacklinkExport, campaign_id=campaign.pk)


@transaction.atomic
def delete_export(export: BacklinkExport) -> None:
    """Remove an export and its referring domains; the ratings it gave our
    links' scores go with it."""
    campaign_id = export.campaign_id
    export.delete()
    exports_changed.send(BacklinkExport, campaign_id=campaign_id)


def _facets(export: BacklinkExport, reading: _Reading, about: str) -> list[ExportFacet]:
    anchors = Counter(reading.anchor_classes)
    brand = profile.brand_of(about)
    for anchor, links in reading.other_anchors.items():
        anchors[profile.anchor_class(anchor, brand)] += links
    facets = [
        ExportFacet(export=export, kind=FacetKind.ANCHOR, key=kind, links=links)
        for kind, links in anchors.items()
        if links
    ]
    facets += [
        ExportFacet(export=export, kind=FacetKind.MONTH, key=month.strftime("%Y-%m"), links=links)
        for month, links in reading.months.items()
    ]
    top = sorted(reading.page_domains.items(), key=lambda item: (-len(item[1]), item[0]))
    facets += [
        ExportFacet(
            export=export,
            kind=FacetKind.PAGE,
            key=page,
            links=reading.page_links[page],
            domains=len(domains),
        )
        for page, domains in top[:PAGES_KEPT]
    ]
    return facets


def import_export(
    campaign: Campaign,
    upload: Any,
    *,
    competitor: str = "",
    is_ours: bool = False,
    by: User | None,
) -> BacklinkExport:
    """Queue and read an export in this process (commands, tests): the export,
    or ExportError with the reason (and no export left behind)."""
    export = queue_export(
        campaign, upload, competitor=competitor, is_ours=is_ours, by=by, enqueue=False
    )
    done = run_export(export.pk)
    assert done is not None
    if done.state == ExportState.FAILED:
        done.delete()
        raise ExportError(done.error)
    return done


@dataclass
class MadeProspects:
    created: list[Prospect]
    skipped: list[str]


@transaction.atomic
def make_prospects(
    campaign: Campaign, *, domains: list[str], kind: str, by: User | None
) -> MadeProspects:
    """Prospects for gap domains: their home page, rating, and which competitors
    they link to in the notes. Domains already prospects, or that link to us by
    now, are skipped."""
    if kind not in (Kind.BLOGGER, Kind.GUEST_POST):
        raise ValidationError("Link-gap prospects are bloggers or guest-post sites.")
    wanted = list(dict.fromkeys(d.strip().lower() for d in domains if d.strip()))
    rows = {row["domain"]: row for row in link_gap(campaign, min_competitors=1, domains=wanted)}
    names = competitors_of(campaign, list(rows))
    created: list[Prospect] = []
    skipped: list[str] = []
    for domain in wanted:
        row = rows.get(domain)
        if row is None or row["is_prospect"]:
            skipped.append(domain)
            continue
        note = f"Link gap: links to {', '.join(names.get(domain, []))}."
        if row["sample_url"]:
            note += f" Example: {row['sample_url']}"
        try:
            with transaction.atomic():
                created.append(
                    create_prospect(
                        by=by,
                        campaign=campaign,
                        kind=kind,
                        url=f"https://{domain}/",
                        domain_rating=row["rating"],
                        notes=note,
                    )
                )
        except ValidationError:
            skipped.append(domain)
    return MadeProspects(created, skipped)
