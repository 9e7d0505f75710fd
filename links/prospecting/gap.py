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
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.models import Campaign
from links.prospecting.models import BacklinkExport, ReferringDomain
from links.prospecting.queries import competitors_of, link_gap
from links.verification.urls import InvalidURL, domain_of
from outreach.imports.mapping import Field, guess_mapping, header_key
from outreach.imports.reader import Cell, UnreadableFile, open_table
from outreach.models import Kind, Prospect
from outreach.services import create_prospect

if TYPE_CHECKING:
    from campaigns.models import User

MAX_ROWS = 500_000
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
)  # fmt: skip
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
    if not text:
        return None
    if "://" not in text:
        text = f"https://{text.lstrip('/')}"
    try:
        return domain_of(text)
    except InvalidURL:
        return None


def _rating(value: Cell) -> int | None:
    if value is None or isinstance(value, bool):
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


def read_export(handle: IO[bytes], *, name: str) -> _Reading:
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


@transaction.atomic
def import_export(
    campaign: Campaign,
    upload: Any,
    *,
    competitor: str = "",
    is_ours: bool = False,
    by: User | None,
) -> BacklinkExport:
    """Store one export's referring domains. ``competitor`` (a domain or URL) may
    be left blank when the file has a target column; an export of our own site
    (``is_ours``) is about the campaign's site."""
    reading = read_export(upload.file if hasattr(upload, "file") else upload, name=upload.name)
    if is_ours:
        about = campaign.site
    elif competitor.strip():
        about = _domain(competitor)
        if about is None:
            raise ExportError(f"“{competitor}” is not a domain or URL.")
    elif reading.targets:
        about = reading.targets.most_common(1)[0][0]
    else:
        raise ExportError(
            "Say which competitor this export is about: the file has no target column."
        )
    if not is_ours and about == campaign.site:
        raise ExportError(
            f"This export is about {about}, the campaign's own site: tick “our own backlinks”."
        )
    if not reading.domains:
        raise ExportError("No row has a usable linking page or domain.")
    export = BacklinkExport.objects.create(
        campaign=campaign,
        competitor=about,
        is_ours=is_ours,
        original_name=str(upload.name)[:255],
        tool=_tool(reading.headers),
        rows_read=reading.rows,
        rows_skipped=reading.skipped,
        domain_count=len(reading.domains),
        uploaded_by=by,
    )
    ReferringDomain.objects.bulk_create(
        (
            ReferringDomain(
                export=export,
                campaign=campaign,
                competitor=about,
                is_ours=is_ours,
                domain=domain,
                domain_rating=entry.rating,
                links=entry.links,
                sample_url=entry.sample_url,
            )
            for domain, entry in reading.domains.items()
        ),
        batch_size=2000,
    )
    return export


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
