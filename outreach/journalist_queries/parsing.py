"""Split journalist-query digests into queries.

Every service (HARO, Qwoted, Featured, SourceBottle, Help a B2B Writer...)
writes its digest differently, and each changes its layout now and then. What
they share is the shape: a list of entries, each a run of "Label: value" lines
where a value may go on for several lines (the query itself). So the parser
knows labels, not layouts: an entry starts at a title-like label ("Summary:",
"Opportunity:", "Call-out:", "Question:"...), and its other labels fill the
fields through a table of synonyms. A new service with the same shape works
without code; a layout nothing can be made of is kept whole as one query, so an
email is never lost to a parser that did not understand it.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.utils import parsedate_to_datetime

from dateutil import parser as dateparser
from dateutil import tz
from lxml import etree
from lxml import html as lxml_html

from outreach.email.wire import message as mail

MAX_QUERY_TEXT = 20_000
# The text of one digest we split. HARO's largest digests list ~100 queries of a
# few hundred words: ~250 KB of text. Pasted text is capped the same way.
MAX_DIGEST_TEXT = 512 * 1024
# An HTML digest before it is made text (HARO's HTML runs to ~400 KB).
MAX_DIGEST_HTML = 1024 * 1024

# Label synonyms, lower case, without the colon.
TITLE_LABELS = (
    "summary", "opportunity", "call-out", "callout", "call out", "question", "request",
    "title", "headline", "query title",
)  # fmt: skip
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "journalist": ("name", "reporter", "journalist", "writer", "posted by", "author", "from"),
    "outlet": ("media outlet", "outlet", "publication", "media", "publisher", "website name"),
    "category": ("category", "beat", "industry", "section", "topic"),
    "contact_email": ("email", "e-mail", "contact", "reply to", "contact email"),
    "deadline": ("deadline", "due", "due date", "closes", "respond by", "expires"),
    "query_text": ("query", "details", "description", "request details", "brief", "the query",
                   "more details", "pitch details", "info"),
    "requirements": ("requirements", "criteria", "looking for", "must have"),
    "outlet_url": ("website", "outlet url", "outlet website", "publication url"),
    "link": ("link", "url", "view & pitch", "pitch here", "view and pitch", "respond here",
             "pitch link", "reply link", "apply here"),
}  # fmt: skip
_LABEL_TO_FIELD = {label: name for name, labels in FIELD_LABELS.items() for label in labels}
_ALL_LABELS = sorted({*TITLE_LABELS, *_LABEL_TO_FIELD}, key=len, reverse=True)
# Matched (anchored) against one line: possessive whitespace and a bounded
# alternation of literals, so a line costs a pass over its start, whatever it holds.
_LABEL_LINE = re.compile(
    r"\s*+(?:\d{1,3}[).]\s*+)?(?P<label>"
    + "|".join(re.escape(label) for label in _ALL_LABELS)
    + r")\s*+:\s*+(?P<value>.*)",
    re.IGNORECASE,
)
# Lines that end an entry's text: navigation and footers of the digests.
_FOOTER = re.compile(
    r"\s*+(?:back to top|back to category|-{5,}|\*{5,}|={5,}|_{5,}|unsubscribe|"
    r"you are receiving|manage (?:your )?(?:email )?preferences|view in browser)",
    re.IGNORECASE,
)
_PITCH_BUTTON = re.compile(r"\b(pitch|respond|reply|view|apply|answer)\b", re.IGNORECASE)
# Starts only where a run of address characters starts (the lookbehind), and
# gives nothing back (possessive): "aaaa…" without an "@" is one pass, not n².
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+")
# A literal start, then one greedy run that needs nothing after it: linear.
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
# A tag, for markup lxml refused: "<" then no "<" or ">" (each scan stops at the
# next "<", so "<<<<…" is linear).
_TAG = re.compile(r"<[^<>]*+>")
# "Deadline: …" in a digest nothing else could be made of.
_DEADLINE = re.compile(r"deadline\s*+:?+\s*+(.+)", re.IGNORECASE)
# Where a digest comes from, by the sender's domain (or a word of the subject).
SERVICES = (
    ("haro", ("helpareporter.com", "helpareporter.net", "haro")),
    ("qwoted", ("qwoted.com", "qwoted")),
    ("featured", ("featured.com", "featured")),
    ("sourcebottle", ("sourcebottle.com", "sourcebottle")),
    ("help_a_b2b_writer", ("helpab2bwriter.com", "help a b2b writer")),
    ("terkel", ("terkel.io", "terkel")),
)
SERVICE_SITES = {
    "haro": "https://www.helpareporter.com/",
    "qwoted": "https://www.qwoted.com/",
    "featured": "https://featured.com/",
    "sourcebottle": "https://www.sourcebottle.com/",
    "help_a_b2b_writer": "https://helpab2bwriter.com/",
    "terkel": "https://terkel.io/",
}
# US and Australian zone abbreviations the digests use; dateutil knows none.
TZINFOS = {
    name: tz.tzoffset(name, hours * 3600)
    for name, hours in {
        "EST": -5, "EDT": -4, "ET": -5, "CST": -6, "CDT": -5, "CT": -6, "MST": -7, "MDT": -6,
        "MT": -7, "PST": -8, "PDT": -7, "PT": -8, "GMT": 0, "UTC": 0, "BST": 1, "CET": 1,
        "CEST": 2, "AEST": 10, "AEDT": 11, "ACST": 9.5, "AWST": 8, "NZST": 12, "NZDT": 13,
    }.items()
}  # fmt: skip


@dataclass
class ParsedQuery:
    title: str = ""
    journalist: str = ""
    outlet: str = ""
    outlet_url: str = ""
    # Where to answer the query (a service's page for it), when the digest says.
    link: str = ""
    category: str = ""
    contact_email: str = ""
    query_text: str = ""
    requirements: str = ""
    deadline: datetime | None = None
    deadline_text: str = ""
    unparsed: bool = False

    def fingerprint(self, service: str) -> str:
        text = " ".join(f"{service}|{self.title}|{self.outlet}|{self.query_text[:4000]}".split())
        return hashlib.sha256(text.lower().encode()).hexdigest()


@dataclass
class Digest:
    subject: str
    sender: str
    message_id: str
    received_at: datetime | None
    service: str
    text: str
    queries: list[ParsedQuery] = field(default_factory=list)


def detect_service(sender: str, subject: str = "", text: str = "") -> str:
    haystack_sender = sender.lower()
    for service, signs in SERVICES:
        if any("." in sign and sign in haystack_sender for sign in signs):
            return service
    haystack = f"{subject}\n{text[:2000]}".lower()
    for service, signs in SERVICES:
        if any(re.search(rf"\b{re.escape(sign)}\b", haystack) for sign in signs):
            return service
    return ""


def html_to_text(markup: str) -> str:
    """Readable text of an HTML email: block elements and <br> become line breaks."""
    try:
        root = lxml_html.fromstring(markup)
    except (etree.ParserError, ValueError):  # empty or junk markup: it is text then
        return _TAG.sub(" ", markup)
    for bad in root.xpath("//script|//style|//head"):
        bad.drop_tree()
    for br in root.xpath("//br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.xpath("//p|//div|//li|//tr|//h1|//h2|//h3|//h4|//table|//hr"):
        block.tail = "\n" + (block.tail or "")
    for anchor in root.xpath("//a[@href]"):
        href = anchor.get("href", "")
        label = anchor.text_content().strip()
        if not href.startswith(("http://", "https://")) or href in label:
            continue
        if _PITCH_BUTTON.search(label):
            # A "View & Pitch" button's address is the query's link.
            anchor.text, anchor.tail = f"\nLink: {href}\n", anchor.tail
            for child in list(anchor):
                anchor.remove(child)
        else:
            anchor.tail = f" {href}" + (anchor.tail or "")
    return root.text_content()


def message_text(message: Message) -> str:
    """The text of an email: its plain part, else its HTML part as text."""
    part = mail.body_part(message)
    if part is None:
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(mail.decoded_text(part, MAX_DIGEST_HTML))
    return mail.decoded_text(part, MAX_DIGEST_TEXT)


def parse_email(raw: bytes) -> Digest:
    # The reply reader's caps and its compat32 parse: the structured header parser
    # of policy.default recurses and slows on hostile headers.
    message = email.message_from_bytes(mail.bound(raw), policy=email.policy.compat32)
    received_at = None
    date = mail.header(message, "Date", 200)
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            received_at = parsedate_to_datetime(date)
    return parse_text(
        message_text(message),
        subject=mail.header(message, "Subject", 998),
        sender=mail.header(message, "From", 998),
        message_id=mail.header(message, "Message-ID", 998),
        received_at=received_at,
    )


def parse_text(
    text: str,
    *,
    subject: str = "",
    sender: str = "",
    message_id: str = "",
    received_at: datetime | None = None,
) -> Digest:
    """Split a digest's text into queries; never returns an empty list for a
    non-empty text: what cannot be split is one query."""
    text = text[:MAX_DIGEST_HTML]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    if "<html" in text[:2000].lower() or "<body" in text[:4000].lower():
        text = html_to_text(text)
    text = text[:MAX_DIGEST_TEXT]
    subject, sender = subject[:998], sender[:998]
    service = detect_service(sender, subject, text)
    digest = Digest(subject, sender, message_id, received_at, service, text)
    queries = [q for q in _entries(text, received_at) if q.query_text or q.requirements]
    queries = _without_index_duplicates(queries)
    for query in queries:
        # HARO writes "Name: Jane Doe Runner's Weekly": the outlet is not her name.
        if query.outlet and query.journalist.endswith(query.outlet):
            name = query.journalist[: -len(query.outlet)].strip(" ,-\u2013")
            query.journalist = name or query.journalist
    if not queries and text.strip():
        queries = [_whole(text, subject, received_at)]
    digest.queries = queries
    return digest


def _entries(text: str, received_at: datetime | None) -> Iterable[ParsedQuery]:
    current: ParsedQuery | None = None
    field_name: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        if current is not None and field_name is not None:
            _set(current, field_name, "\n".join(buffer), received_at)

    for line in text.split("\n"):
        match = _LABEL_LINE.match(line)
        if match:
            label = match.group("label").lower()
            flush()
            if label in TITLE_LABELS:
                # A title label starts the next entry.
                if current is not None:
                    yield current
                current = ParsedQuery()
                field_name = "title"
            elif current is None:
                field_name = None  # labels before the first entry: the digest's header
                continue
            else:
                field_name = _LABEL_TO_FIELD[label]
            buffer = [match.group("value").strip()]
        elif current is not None and _FOOTER.match(line):
            flush()
            field_name = None
            buffer = []
        elif field_name is not None:
            buffer.append(line)
    flush()
    if current is not None:
        yield current


def _set(query: ParsedQuery, name: str, raw: str, received_at: datetime | None) -> None:
    value = _tidy(raw)
    if not value:
        return
    if name == "title":
        query.title = query.title or value.split("\n")[0][:500]
        # A one-line entry's "Summary:" with the text after it is the query.
        rest = value.split("\n", 1)[1].strip() if "\n" in value else ""
        if rest and not query.query_text:
            query.query_text = rest[:MAX_QUERY_TEXT]
    elif name == "contact_email":
        found = _EMAIL.search(value)
        query.contact_email = found.group(0)[:254] if found else ""
    elif name in ("outlet_url", "link"):
        found = _URL.search(value)
        if found:
            setattr(query, name, found.group(0)[:2000])
    elif name == "deadline":
        query.deadline_text = value.split("\n")[0][:200]
        query.deadline = parse_deadline(query.deadline_text, received_at)
    elif name == "journalist":
        query.journalist = value.split("\n")[0][:200]
        found = _EMAIL.search(value)
        if found and not query.contact_email:
            query.contact_email = found.group(0)[:254]
    elif name in ("query_text", "requirements"):
        current = getattr(query, name)
        combined = f"{current}\n{value}".strip() if current else value
        setattr(query, name, combined[:MAX_QUERY_TEXT])
    else:
        setattr(query, name, value.split("\n")[0][:200])


def _tidy(raw: str) -> str:
    lines = [line.rstrip() for line in raw.strip().split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _without_index_duplicates(queries: list[ParsedQuery]) -> list[ParsedQuery]:
    # HARO-style digests list every title in an index first; the index entries
    # have no text and were dropped, but a title-with-one-line index entry may
    # survive: keep the fullest entry of each title.
    best: dict[str, ParsedQuery] = {}
    order: list[str] = []
    for query in queries:
        key = " ".join(query.title.lower().split()) or f"#{len(order)}"
        kept = best.get(key)
        if kept is None:
            best[key] = query
            order.append(key)
        elif len(query.query_text) + len(query.requirements) > len(kept.query_text) + len(
            kept.requirements
        ):
            best[key] = query
    return [best[key] for key in order]


def _whole(text: str, subject: str, received_at: datetime | None) -> ParsedQuery:
    body = _tidy(text)
    query = ParsedQuery(
        title=(subject or body.split("\n")[0])[:500],
        query_text=body[:MAX_QUERY_TEXT],
        unparsed=True,
    )
    found = _DEADLINE.search(body)
    if found:
        query.deadline_text = found.group(1)[:200]
        query.deadline = parse_deadline(query.deadline_text, received_at)
    return query


def parse_deadline(text: str, received_at: datetime | None) -> datetime | None:
    """A deadline as the digests write it ("7:00 PM EST - 12 March", "Mar 14, 2026
    5:00 PM EDT", "15/03/2026 17:00 AEDT"), in UTC; None when it says no date.

    A deadline without a year is the next such date on or after the day the
    digest was received; one without a zone is taken as UTC.
    """
    cleaned = re.sub(r"\s[-\u2013\u2014]\s", " ", text).replace(" at ", " ").strip(" .")
    if not re.search(r"\d", cleaned):
        return None
    base = received_at or datetime.now(tz=tz.UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=tz.UTC)
    default = base.replace(hour=23, minute=59, second=0, microsecond=0, tzinfo=None)
    day_first = bool(re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", cleaned)) and "AE" in cleaned
    try:
        parsed = dateparser.parse(
            cleaned, default=default, fuzzy=True, tzinfos=TZINFOS, dayfirst=day_first
        )
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz.UTC)
    has_year = bool(re.search(r"\b(19|20)\d{2}\b", cleaned))
    # Queries are not posted with deadlines weeks gone: such a date is next year's.
    if not has_year and parsed < base - timedelta(days=30):
        parsed = parsed.replace(year=parsed.year + 1)
    return parsed.astimezone(tz.UTC)
