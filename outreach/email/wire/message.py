"""Outgoing messages with their threading headers, and reading incoming ones.

Incoming mail is sorted into four kinds, because each asks for something else:

- ``bounce``: the message did not arrive (a DSN, RFC 3464, or the older
  free-form notices from mailer-daemons): the address is bad, stop writing to it;
- ``auto_reply``: an out-of-office or other robot answer (RFC 3834's
  Auto-Submitted, or the usual subjects): a person has not answered yet;
- ``unsubscribe``: a person asking not to be written to again;
- ``reply``: anything else a person wrote back.
"""

from __future__ import annotations

import contextlib
import email
import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from urllib.parse import quote

from bs4 import BeautifulSoup
from flufl.bounce import all_failures

# Caps on what a stranger's email may make us parse, from real-world sizes. A
# person's reply, quoted thread included, is a few KB to a few hundred KB of text;
# bounces carry our own (short) message back. Anything larger is attachments,
# which nobody reads here, so the rest of the message is never parsed.
MAX_RAW_BYTES = 2 * 1024 * 1024
# The email package reads a body line by line, at about a microsecond a line: a
# megabyte of blank lines would hold the worker for a second. A reply with its
# quoted thread and an HTML copy runs to a few thousand lines; base64 attachments
# (76 characters a line) come after the text parts and are not read anyway.
MAX_BODY_LINES = 50_000
# Received chains, DKIM and ARC signatures of a long relay path stay under ~30 KB.
MAX_HEADER_BLOCK_BYTES = 128 * 1024
# One header field, unfolded: References of a 100-message thread is ~8 KB.
MAX_HEADER_BYTES = 8 * 1024
# An address header (From, To): one or a few addresses, far below 1 KB. The email
# package's address parser recurses on nested comments, so it gets less.
MAX_ADDRESS_HEADER_CHARS = 2048
# The text of a body part we read (plain, or HTML before it is made text).
MAX_TEXT_CHARS = 256 * 1024
# One line of text, for line-wise checks: RFC 5322 allows 998 characters.
MAX_LINE_CHARS = 1000

# Possessive quantifiers and an id-left without "@" (RFC 5322 msg-id): each
# candidate is scanned once, so a header of "<a@a@a@..." costs linear time.
MSGID = re.compile(r"<[^<>\s@]++@[^<>\s]++>")

BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
# Alternations of bounded literals only: at most a few dozen steps per position.
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|delivery status notification"
    r"|delivery (?:has )?failed|mail delivery failed|delivery failure|failure notice"
    r"|could not be delivered|message not delivered|address not found",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"\s*+(?:automatic reply|auto[- ]?reply|autoreply|auto:|out of (?:the )?office"
    r"|away from (?:the )?office|on vacation|abwesenheitsnotiz|réponse automatique)",
    re.IGNORECASE,
)
UNSUBSCRIBE = re.compile(
    r"\bunsubscribe\b|\bremove me\b|\btake me off\b|\bstop (?:e-?)?mailing\b"
    r"|\bstop contacting\b|\bdo not (?:contact|e-?mail)\b|\bdon'?t (?:contact|e-?mail)\b"
    r"|\bno more e-?mails\b|\bopt[- ]?out\b",
    re.IGNORECASE,
)
# Where the quoted message starts in a reply, matched against one stripped line
# (two, for a wrapped "On ... wrote:") of at most MAX_LINE_CHARS: anchored, with
# bounded gaps, so a line costs at most a few thousand steps whatever it holds.
QUOTE_LINE = re.compile(
    r"On\b.{0,200}\bwrote:|-{2,}\s*+Original Message\s*+-{2,}.*|_{20,}|From:\s.+"
    r"|Le\b.{0,200}\ba écrit\s*+:|Am\b.{0,200}\bschrieb.{0,100}:",
    re.IGNORECASE,
)
# A delivery notice that is a warning, not a failure: the server keeps trying.
# Exim "Warning: message … delayed 24 hours", Postfix "Delayed Mail (still being
# retried)", Sendmail "Warning: could not send message for past 4 hours", Gmail
# "Delivery Status Notification (Delay)". Plain substrings, checked with ``in``.
WARNING_SUBJECTS = ("delayed", "delay)", "warning:", "still being retried", "(delay")
WARNING_TEXTS = (
    "has not yet been delivered",
    "not yet been delivered",
    "no action is required on your part",
    "will be retried",
    "still being retried",
    "will continue to try",
    "delivery attempts will continue",
    "this is a warning",
    "this is just a warning",
)


# --- outgoing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    body: str
    message_id: str
    date: datetime
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    # Where a recipient's mail client sends a one-click "unsubscribe" (RFC 2369):
    # that mail lands in our inbox and is read as an unsubscribe.
    unsubscribe_address: str = ""


def build(out: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address(out.from_name, addr_spec=out.from_address)
    message["To"] = Address(out.to_name, addr_spec=out.to_address)
    message["Subject"] = out.subject
    message["Date"] = format_datetime(out.date)
    message["Message-ID"] = out.message_id
    if out.in_reply_to:
        message["In-Reply-To"] = out.in_reply_to
    if out.references:
        message["References"] = " ".join(out.references)
    if out.unsubscribe_address:
        # The subject names this message, so the unsubscribe that comes back is
        # tied to mail we sent: a forged one naming no message of ours does nothing.
        subject = quote(f"unsubscribe {out.message_id}", safe="")
        message["List-Unsubscribe"] = f"<mailto:{out.unsubscribe_address}?subject={subject}>"
    message.set_content(out.body)
    return message


def to_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=email.policy.SMTP)


# --- incoming -------------------------------------------------------------------------


@dataclass
class Inbound:
    kind: str
    message_id: str
    from_address: str
    from_name: str
    subject: str
    date: datetime | None
    # Message-IDs that may be ours: In-Reply-To and References of a reply, the
    # original's Message-ID inside a bounce.
    referenced_ids: list[str] = field(default_factory=list)
    # What the person wrote, without the quoted thread; for a bounce, the reason.
    text: str = ""
    # For a bounce: the addresses that failed.
    failed_recipients: list[str] = field(default_factory=list)


def bound(raw: bytes) -> bytes:
    """The part of a raw message we parse: at most MAX_RAW_BYTES and
    MAX_BODY_LINES, a header block of at most MAX_HEADER_BLOCK_BYTES, each header
    field at most MAX_HEADER_BYTES. Plain byte slicing and line splitting: linear,
    whatever the message holds."""
    raw = raw[:MAX_RAW_BYTES]
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    split = min(ends) + 1 if ends else len(raw)
    head, body = raw[:split], raw[split:]
    kept: list[bytes] = []
    total = field_size = 0
    for line in head.splitlines(keepends=True):
        continuation = line[:1] in (b" ", b"\t")
        if not continuation:
            field_size = 0
        room = min(MAX_HEADER_BYTES - field_size, MAX_HEADER_BLOCK_BYTES - total)
        if room <= 2:
            continue  # the rest of an oversized field (or block) is dropped
        if len(line) > room:
            line = line[: room - 2].rstrip(b"\r\n") + b"\r\n"
        kept.append(line)
        field_size += len(line)
        total += len(line)
    lines = body.split(b"\n", MAX_BODY_LINES)
    if len(lines) > MAX_BODY_LINES:
        body = b"\n".join(lines[:MAX_BODY_LINES]) + b"\n"
    return b"".join(kept) + body


def read(raw: bytes) -> Inbound:
    # compat32: headers stay strings until we ask, and we ask only for capped
    # ones. The structured header parser of policy.default recurses on nested
    # comments (RecursionError from a Content-Type of 8,000 "(") and takes
    # quadratic time on some address lists.
    message = email.message_from_bytes(bound(raw), policy=email.policy.compat32)
    from_name, from_address = _first_address(message, "From")
    subject = header(message, "Subject")
    inbound = Inbound(
        kind="reply",
        message_id=next(iter(_ids(header(message, "Message-ID"))), ""),
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        date=date_of(message),
    )
    # Our List-Unsubscribe puts the message's id in the subject of the
    # unsubscribe mail it asks for.
    inbound.referenced_ids = _ids(
        header(message, "In-Reply-To") + " " + header(message, "References") + " " + subject
    )
    if _is_delivery_report(message):
        return _read_delivery_report(message, inbound)
    if _is_bounce(message, from_address, subject):
        return _read_notice(message, inbound)
    text = _plain_text(message)
    if _is_auto_reply(message, subject):
        inbound.kind = "auto_reply"
        inbound.text = _new_text(text)
        return inbound
    inbound.text = _new_text(text)
    if UNSUBSCRIBE.search(subject) or UNSUBSCRIBE.search(inbound.text):
        inbound.kind = "unsubscribe"
    return inbound


def header(message: Message, name: str, limit: int = MAX_HEADER_BYTES) -> str:
    """A header as one line of text, encoded words decoded, at most ``limit`` chars."""
    value = message.get(name)
    if value is None:
        return ""
    text = str(value)[:limit]
    # A broken encoded word: keep the raw text.
    with contextlib.suppress(ValueError, LookupError, UnicodeError, HeaderParseError):
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())[:limit]


def _first_address(message: Message, name: str) -> tuple[str, str]:
    try:
        pairs = getaddresses([header(message, name, MAX_ADDRESS_HEADER_CHARS)])
    except RecursionError:
        # Comments nested hundreds deep: no mail program writes that.
        return "", ""
    for display, address in pairs:
        if "@" in address:
            return display, address.strip().lower()
    return "", ""


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(MSGID.findall(text)))


def date_of(message: Message) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(header(message, "Date", 200))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else None


def _is_delivery_report(message: Message) -> bool:
    """RFC 3464: a multipart/report of report-type delivery-status, or (loosely
    wrapped) any message/delivery-status part."""
    if message.get_content_type() == "multipart/report" and (
        str(message.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return True
    return any(part.get_content_type() == "message/delivery-status" for part in message.walk())


def _is_bounce(message: Message, from_address: str, subject: str) -> bool:
    """Looks like a free-form delivery notice (sender, header or subject); whether
    it is a permanent failure is for the detectors to say."""
    if message.get("X-Failed-Recipients"):
        return True
    local = from_address.partition("@")[0]
    return local in BOUNCE_SENDERS or (not from_address and bool(BOUNCE_SUBJECT.search(subject)))


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto = header(message, "Auto-Submitted", 200).lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if header(message, "Precedence", 200).lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.match(subject))


def _read_delivery_report(message: Message, inbound: Inbound) -> Inbound:
    """RFC 3464, per recipient: only ``Action: failed`` with a permanent status
    (5.x.x, or no status at all) is a bounce. ``delayed``, ``relayed``,
    ``delivered``, ``expanded`` and a failure with a 4.x.x status are notices:
    the address may well work."""
    failed: list[str] = []
    reasons: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            for block in _status_blocks(part):
                action = block.get("action", "").lower()
                status = block.get("status", "").strip()
                recipient = block.get("final-recipient") or block.get("original-recipient", "")
                address = recipient.rpartition(";")[2].strip().strip("<>").lower()
                # opensmtpd writes "Action: error" for "failed".
                permanent = action.startswith(("failed", "error")) and not status.startswith("4")
                if permanent and "@" in address:
                    failed.append(address)
                    diagnostic = block.get("diagnostic-code", "").rpartition(";")[2].strip()
                    reasons.append(f"{address}: {status} {diagnostic}".strip())
    inbound.kind = "bounce" if failed else "notice"
    inbound.referenced_ids = list(dict.fromkeys(inbound.referenced_ids + _embedded_ids(message)))
    inbound.failed_recipients = list(dict.fromkeys(failed))
    inbound.text = "; ".join(reasons)[:MAX_TEXT_CHARS] or _first_lines(_plain_text(message), 6)
    return inbound


def _read_notice(message: Message, inbound: Inbound) -> Inbound:
    """A delivery notice in no standard form: a warning is a notice; otherwise
    flufl.bounce (Mailman's detectors for Exim, Postfix, qmail, Exchange, ...)
    names the permanently failed recipients, if it recognizes the notice at all.
    What nobody recognizes stays a notice: only a permanent failure may mark an
    address bad."""
    body = _plain_text(message)
    # Free-form notices attach the original, or quote its headers in the text.
    inbound.referenced_ids = list(
        dict.fromkeys(inbound.referenced_ids + _embedded_ids(message) + _ids(body))
    )
    inbound.text = _first_lines(body, 6)
    subject = inbound.subject.lower()
    opening = body[:4000].lower()
    if any(sign in subject for sign in WARNING_SUBJECTS) or any(
        sign in opening for sign in WARNING_TEXTS
    ):
        inbound.kind = "notice"
        return inbound
    _temporary, permanent = all_failures(_for_detectors(message))
    failed = sorted(
        {a.decode("ascii", "replace").strip().strip("<>").lower() for a in permanent} - {""}
    )
    inbound.kind = "bounce" if failed else "notice"
    inbound.failed_recipients = failed
    return inbound


# What the detectors get: Mailman's heuristics run a few dozen regexes over every
# line, some of them quadratic in the line's length (``\s*(?P<addr>\S+@\S+)``),
# so they see a copy with short lines and a bounded text (all parts together),
# enough for any real notice (a few KB) and the headers of the original.
DETECTOR_LINE_CHARS = 128
DETECTOR_TEXT_CHARS = 12 * 1024
DETECTOR_HEADERS = ("from", "to", "subject", "x-failed-recipients", "content-description")


def _for_detectors(message: Message) -> Message:
    copy = Message()
    for name in DETECTOR_HEADERS:
        for value in (message.get_all(name) or [])[:20]:
            copy[name] = " ".join(str(value)[:MAX_ADDRESS_HEADER_CHARS].split())
    if not message.is_multipart():
        copy["Content-Type"] = "text/plain"
        copy.set_payload(_detector_text(message, DETECTOR_TEXT_CHARS))
        return copy
    copy["Content-Type"] = message.get_content_type()
    parts: list[Message] = []
    room = DETECTOR_TEXT_CHARS
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        leaf = Message()
        leaf["Content-Type"] = part.get_content_type()
        if part.get("Content-Description"):
            leaf["Content-Description"] = str(part["Content-Description"])[:200]
        text = _detector_text(part, room)
        leaf.set_payload(text)
        parts.append(leaf)
        room -= len(text)
        if room <= 0:
            break
    copy.set_payload(parts)
    return copy


def _detector_text(part: Message, limit: int) -> str:
    text = decoded_text(part)[:limit]
    return "\n".join(line[:DETECTOR_LINE_CHARS] for line in text.splitlines())


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part, as lowercase dicts."""
    blocks: list[dict[str, str]] = []
    payload = part.get_payload()
    if isinstance(payload, list):
        for block in payload[:100]:
            blocks.append(
                {k.lower(): " ".join(str(v)[:MAX_LINE_CHARS].split()) for k, v in block.items()}
            )
        return blocks
    # Some parsers leave the part as text: blank lines separate the blocks.
    text = payload[:MAX_TEXT_CHARS] if isinstance(payload, str) else ""
    fields: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if line.strip():
            key, _, value = line.partition(":")
            if value:
                fields[key.strip().lower()] = value.strip()[:MAX_LINE_CHARS]
        elif fields:
            blocks.append(fields)
            fields = {}
    return blocks


ORIGINAL_TYPES = {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}


def _embedded_ids(message: Message) -> list[str]:
    """The Message-IDs of the originals a notice carries back."""
    found: list[str] = []
    for part in message.walk():
        if part.get_content_type() in ORIGINAL_TYPES:
            found += _ids(_original_message_id(part))
    return found


def _original_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return header(payload[0], "Message-ID", MAX_LINE_CHARS)
    if isinstance(payload, str):
        # text/rfc822-headers: the original's header block, read by the email
        # package's own header parser.
        headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(
            bound(payload[:MAX_HEADER_BLOCK_BYTES].encode("utf-8", "replace")).decode(
                "utf-8", "replace"
            )
        )
        return header(headers, "Message-ID", MAX_LINE_CHARS)
    return ""


def decoded_text(part: Message, limit: int = MAX_TEXT_CHARS) -> str:
    """A leaf part's text, transfer encoding and charset undone, at most ``limit`` chars."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # an unknown or lying charset
        text = payload.decode("utf-8", errors="replace")
    return text[:limit]


def body_part(message: Message, preference: tuple[str, ...] = ("plain", "html")) -> Message | None:
    """The part a mail client shows: the first text part of the preferred
    subtypes, in order, that is not an attachment."""
    found: dict[str, Message] = {}
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        found.setdefault(part.get_content_subtype(), part)
        if part.get_content_subtype() == preference[0]:
            break
    return next((found[subtype] for subtype in preference if subtype in found), None)


def _plain_text(message: Message) -> str:
    """The text a person wrote: the plain part, else the HTML part as text, else
    (multipart/report and friends) the first text part."""
    chosen = body_part(message) or next(
        (p for p in message.walk() if p.get_content_maintype() == "text"), None
    )
    if chosen is None:
        return ""
    text = decoded_text(chosen)
    if chosen.get_content_subtype() == "html":
        # lxml's HTML parser is linear; the text is capped before it.
        text = BeautifulSoup(text, "lxml").get_text("\n")[:MAX_TEXT_CHARS]
    return text


def _new_text(text: str) -> str:
    """The part of a reply the person wrote: above the quoted thread. Line by
    line, each line looked at once (a 1 MB reply of blank lines is 1M cheap
    checks, not the quadratic scan a multi-line regex made of it)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()[:MAX_LINE_CHARS]
        if not stripped:
            kept.append("")
            continue
        if _starts_quote(stripped, lines[index + 1] if index + 1 < len(lines) else ""):
            break
        if not stripped.startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _starts_quote(stripped: str, following: str) -> bool:
    if QUOTE_LINE.fullmatch(stripped):
        return True
    # Mail clients wrap a long "On <date>, <name> <address> wrote:" over two lines.
    if stripped[:3].lower() in ("on ", "le ", "am ") and not stripped.endswith(":"):
        joined = f"{stripped} {following.strip()[:MAX_LINE_CHARS]}"
        return QUOTE_LINE.fullmatch(joined) is not None
    return False


def _first_lines(text: str, count: int) -> str:
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line.strip()[:MAX_LINE_CHARS])
            if len(lines) == count:
                break
    return "\n".join(lines)
