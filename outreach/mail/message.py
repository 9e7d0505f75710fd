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

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup

MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

BOUNCE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|delivery status notification \(failure\)"
    r"|delivery (has )?failed|mail delivery failed|delivery failure|failure notice"
    r"|could not be delivered|message not delivered|address not found",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto:|out of (the )?office"
    r"|away from (the )?office|on vacation|abwesenheitsnotiz|réponse automatique)",
    re.IGNORECASE,
)
UNSUBSCRIBE = re.compile(
    r"\bunsubscribe\b|\bremove me\b|\btake me off\b|\bstop (e-?)?mailing\b"
    r"|\bstop contacting\b|\bdo not (contact|e-?mail)\b|\bdon'?t (contact|e-?mail)\b"
    r"|\bno more e-?mails\b|\bopt[- ]?out\b",
    re.IGNORECASE,
)
# Where the quoted message starts in a reply.
QUOTE_START = re.compile(
    r"^\s*(On\b.{0,200}\bwrote:\s*$|-{2,}\s*Original Message\s*-{2,}|_{20,}\s*$"
    r"|From:\s.+$|Le\b.{0,200}\ba écrit\s*:\s*$|Am\b.{0,200}\bschrieb.{0,100}:\s*$)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
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
        message["List-Unsubscribe"] = f"<mailto:{out.unsubscribe_address}?subject=unsubscribe>"
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


def read(raw: bytes) -> Inbound:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    from_name, from_address = _first_address(message, "From")
    subject = _header(message, "Subject")
    inbound = Inbound(
        kind="reply",
        message_id=next(iter(_ids(_header(message, "Message-ID"))), ""),
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        date=_date(message),
    )
    inbound.referenced_ids = _ids(
        _header(message, "In-Reply-To") + " " + _header(message, "References")
    )
    if _is_bounce(message, from_address, subject):
        return _read_bounce(message, inbound)
    if _is_auto_reply(message, subject):
        inbound.kind = "auto_reply"
        inbound.text = _new_text(_plain_text(message))
        return inbound
    inbound.text = _new_text(_plain_text(message))
    if UNSUBSCRIBE.search(subject) or UNSUBSCRIBE.search(inbound.text):
        inbound.kind = "unsubscribe"
    return inbound


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        # A header the parser cannot make sense of: take it as raw text.
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")
    return " ".join(str(value or "").split())


def _first_address(message: Message, name: str) -> tuple[str, str]:
    pairs = getaddresses([_header(message, name)])
    for display, address in pairs:
        if "@" in address:
            return display, address.strip().lower()
    return "", ""


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(MSGID.findall(text)))


def _date(message: Message) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def _is_bounce(message: Message, from_address: str, subject: str) -> bool:
    if message.get_content_type() == "multipart/report":
        return message.get_param("report-type", "").lower() == "delivery-status"
    if message.get("X-Failed-Recipients"):
        return True
    local = from_address.partition("@")[0]
    return local in BOUNCE_SENDERS or (not from_address and bool(BOUNCE_SUBJECT.search(subject)))


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if _header(message, "Precedence").lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.search(subject))


def _read_bounce(message: Message, inbound: Inbound) -> Inbound:
    inbound.kind = "bounce"
    failed: list[str] = []
    reasons: list[str] = []
    delivery_status_seen = False
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            delivery_status_seen = True
            for block in _status_blocks(part):
                action = block.get("action", "").lower()
                recipient = block.get("final-recipient") or block.get("original-recipient", "")
                address = recipient.rpartition(";")[2].strip().strip("<>").lower()
                if action == "failed" and address:
                    failed.append(address)
                    diagnostic = block.get("diagnostic-code", "").rpartition(";")[2].strip()
                    reasons.append(f"{address}: {block.get('status', '')} {diagnostic}".strip())
        elif content_type in {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}:
            inbound.referenced_ids += _ids(_original_message_id(part))
    if delivery_status_seen and not failed:
        # A DSN that only says "delayed" or "relayed": not a bounce (yet).
        inbound.kind = "notice"
    for header in message.get_all("X-Failed-Recipients", []):
        failed += [a.lower() for a in EMAIL_ADDRESS.findall(str(header))]
    body = _plain_text(message)
    if not delivery_status_seen:
        # Free-form notices: the original's headers are often quoted in the text.
        inbound.referenced_ids += _ids(body)
        if not failed:
            failed = [a.lower() for a in EMAIL_ADDRESS.findall(body)]
    inbound.referenced_ids = list(dict.fromkeys(inbound.referenced_ids))
    inbound.failed_recipients = list(dict.fromkeys(failed))
    inbound.text = "; ".join(reasons) or _first_lines(body, 6)
    return inbound


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a message/delivery-status part, as lowercase dicts."""
    blocks: list[dict[str, str]] = []
    payload = part.get_payload()
    if isinstance(payload, list):
        for block in payload:
            blocks.append({k.lower(): " ".join(str(v).split()) for k, v in block.items()})
        return blocks
    # Some parsers leave the part as text: split it into blank-line separated blocks.
    text = payload if isinstance(payload, str) else ""
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        pairs = (line.partition(":") for line in chunk.splitlines())
        fields = {k.strip().lower(): v.strip() for k, _, v in pairs if v}
        if fields:
            blocks.append(fields)
    return blocks


def _original_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return _header(payload[0], "Message-ID")
    if isinstance(payload, str):
        match = re.search(r"^Message-ID:\s*(.+)$", payload, re.IGNORECASE | re.MULTILINE)
        return match.group(1) if match else ""
    return ""


def _plain_text(message: Message) -> str:
    body = (
        message.get_body(preferencelist=("plain", "html")) if hasattr(message, "get_body") else None
    )
    if body is None:
        # multipart/report and friends: the first text part is the human-readable notice.
        for part in message.walk():
            if part.get_content_maintype() == "text":
                body = part
                break
    if body is None:
        return ""
    try:
        text = body.get_content()
    except (LookupError, ValueError):  # an unknown or lying charset
        text = (body.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    if body.get_content_subtype() == "html":
        text = BeautifulSoup(text, "lxml").get_text("\n")
    return text if isinstance(text, str) else ""


def _new_text(text: str) -> str:
    """The part of a reply the person wrote: above the quoted thread."""
    text = text.replace("\r\n", "\n")
    match = QUOTE_START.search(text)
    if match:
        text = text[: match.start()]
    lines = [line.rstrip() for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _first_lines(text: str, count: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:count])
