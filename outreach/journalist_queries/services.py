"""The inbox's operations: take digests in (mailbox or paste), keep each query
once, make haro prospects of them."""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.crypto import UndecryptableSecret
from campaigns.models import Campaign
from links.verification.urls import InvalidURL, domain_of
from outreach.email.wire import imap
from outreach.email.wire.message import MAX_RAW_BYTES
from outreach.email.wire.secrets import SecretNameRefused
from outreach.journalist_queries.models import (
    IMAP_TIMEOUT,
    Digest,
    JournalistQuery,
    Mailbox,
    QueryProspect,
)
from outreach.journalist_queries.parsing import SERVICE_SITES, ParsedQuery, parse_email, parse_text
from outreach.journalist_queries.parsing import Digest as ParsedDigest
from outreach.models import Kind, Prospect
from outreach.services import create_prospect

if TYPE_CHECKING:
    from campaigns.models import User

log = logging.getLogger(__name__)

# Messages read per poll: a mailbox with years of mail is read over several polls.
MAX_MESSAGES_PER_POLL = 200
# Addresses that say nothing about the outlet: relays of the services, webmail.
GENERIC_MAIL_DOMAINS = frozenset(
    {"helpareporter.net", "helpareporter.com", "qwoted.com", "featured.com",
     "sourcebottle.com", "gmail.com", "googlemail.com", "outlook.com", "hotmail.com",
     "yahoo.com", "icloud.com", "proton.me", "protonmail.com", "aol.com", "gmx.com"}
)  # fmt: skip


@dataclass
class IngestResult:
    digest: Digest | None
    created: int
    duplicates: int
    already_read: bool = False


@transaction.atomic
def ingest(
    parsed: ParsedDigest,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    by: User | None = None,
) -> IngestResult:
    """Store a parsed digest and its queries; a query seen before (same service,
    title, outlet and text) is not stored twice, and an email read before (same
    Message-ID) is skipped whole."""
    if parsed.message_id and Digest.objects.filter(message_id=parsed.message_id).exists():
        return IngestResult(None, 0, 0, already_read=True)
    received = parsed.received_at or timezone.now()
    digest = Digest.objects.create(
        source=source,
        mailbox=mailbox,
        message_id=parsed.message_id[:998],
        subject=parsed.subject[:998],
        sender=parsed.sender[:998],
        service=parsed.service,
        body=parsed.text[:200_000],
        received_at=received,
        created_by=by,
    )
    by_print = {query.fingerprint(parsed.service): query for query in parsed.queries}
    seen = set(
        JournalistQuery.objects.filter(fingerprint__in=by_print).values_list(
            "fingerprint", flat=True
        )
    )
    rows = [
        _row(digest, parsed.service, fingerprint, query, received)
        for fingerprint, query in by_print.items()
        if fingerprint not in seen
    ]
    # Two polls racing over the same mail: the unique fingerprint keeps one.
    created = JournalistQuery.objects.bulk_create(rows, ignore_conflicts=True)
    Digest.objects.filter(pk=digest.pk).update(query_count=len(created))
    digest.query_count = len(created)
    return IngestResult(digest, len(rows), len(parsed.queries) - len(rows))


def _row(
    digest: Digest, service: str, fingerprint: str, query: ParsedQuery, received: datetime
) -> JournalistQuery:
    return JournalistQuery(
        digest=digest,
        service=service,
        title=query.title[:500],
        outlet=query.outlet[:200],
        outlet_url=query.outlet_url[:2000],
        link=query.link[:2000],
        journalist=query.journalist[:200],
        contact_email=query.contact_email[:254],
        category=query.category[:200],
        query_text=query.query_text,
        requirements=query.requirements,
        deadline=query.deadline,
        unparsed=query.unparsed,
        fingerprint=fingerprint,
        received_at=received,
    )


def ingest_pasted(text: str, *, subject: str = "", by: User | None) -> IngestResult:
    if not text.strip():
        raise ValidationError("Paste the text of a digest email first.")
    return ingest(parse_text(text, subject=subject), source=Digest.Source.PASTE, by=by)


def ingest_email(raw: bytes, *, mailbox: Mailbox | None = None) -> IngestResult:
    return ingest(parse_email(raw), source=Digest.Source.IMAP, mailbox=mailbox)


# --- IMAP ------------------------------------------------------------------------------------


class MailboxError(Exception):
    pass


def poll_mailbox(mailbox: Mailbox) -> int:
    """Read the mail that arrived since the last poll; returns the new queries.

    Mail is read with BODY.PEEK, so it stays unread for the people who share the
    mailbox; the last UID read is remembered instead (per UIDVALIDITY, which
    the server changes when UIDs start over). Errors are recorded on the
    mailbox for the admin to see, and the next poll tries again.
    """
    created = 0
    try:
        server = mailbox.imap_server()
        if not server.password:
            raise MailboxError(
                "No password: set one in the admin, or set the environment variable "
                f"{mailbox.password_env or '(none named)'}."
            )
        # The one IMAP client, as for replies: the private-address guard, and the
        # socket goes to the address that was checked.
        with imap.session(server) as session:
            validity = session.select(mailbox.folder)
            if validity is None:
                raise MailboxError(f"Cannot open the folder {mailbox.folder!r}.")
            last_uid = mailbox.last_uid if validity == mailbox.uid_validity else 0
            for uid in session.uids(after_uid=last_uid, since=None)[:MAX_MESSAGES_PER_POLL]:
                # A partial fetch: the reader parses MAX_RAW_BYTES at most anyway.
                raw = session.fetch(uid, limit=MAX_RAW_BYTES)
                if raw is not None:
                    created += ingest_email(raw, mailbox=mailbox).created
                last_uid = uid
                Mailbox.objects.filter(pk=mailbox.pk).update(
                    uid_validity=validity, last_uid=last_uid
                )
            mailbox.uid_validity, mailbox.last_uid = validity, last_uid
    except (
        imap.ImapError,
        MailboxError,
        UndecryptableSecret,
        SecretNameRefused,
    ) as exc:
        message = _describe(exc, mailbox)
        log.warning("mailbox %s: %s", mailbox, message)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error=message
        )
        mailbox.last_error = message
        return created
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    mailbox.last_error = ""
    return created


def _describe(exc: BaseException, mailbox: Mailbox) -> str:
    # The client wraps what went wrong; the cause says it in the admin's terms.
    if isinstance(exc, imap.ImapError) and exc.__cause__ is not None:
        exc = exc.__cause__
    where = f"{mailbox.host}:{mailbox.port}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"{where} did not answer within {IMAP_TIMEOUT} s."
    if isinstance(exc, ConnectionRefusedError):
        return f"{where} refused the connection (wrong host or port?)."
    if isinstance(exc, socket.gaierror):
        return f"{mailbox.host} cannot be resolved: {exc}."
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed: {exc}."
    if isinstance(exc, imaplib.IMAP4.error):
        text = str(exc)
        if "authentication" in text.lower() or "login" in text.lower():
            return f"{where} refused the login of {mailbox.username}: {text}"
        return f"{where} answered an error: {text}"
    return str(exc)


def poll_all() -> int:
    return sum(poll_mailbox(mailbox) for mailbox in Mailbox.objects.filter(enabled=True))


# --- Campaign keywords and prospects --------------------------------------------------------------


def campaign_keywords(campaign: Campaign) -> list[str]:
    """The words that make a query interesting to a campaign: its target pages'
    keywords, deduplicated, case-folded."""
    keywords: dict[str, None] = {}
    for raw in campaign.target_pages.values_list("keywords", flat=True):
        for keyword in raw.split(","):
            keyword = " ".join(keyword.split()).lower()
            if len(keyword) > 1:
                keywords[keyword] = None
    return list(keywords)[:100]


def matching_filter(keywords: list[str]) -> Q:
    """Queries whose title, category or text mentions any of the keywords."""
    condition = Q(pk__in=[])
    for keyword in keywords:
        condition |= (
            Q(title__icontains=keyword)
            | Q(query_text__icontains=keyword)
            | Q(category__icontains=keyword)
        )
    return condition


def matched_keywords(query: JournalistQuery, keywords: list[str]) -> list[str]:
    # A literal after a one-character lookbehind: linear in the text (at most
    # MAX_QUERY_TEXT plus a title and category) times the keyword's length.
    text = f"{query.title}\n{query.category}\n{query.query_text}".lower()
    return [k for k in keywords if re.search(rf"(?<!\w){re.escape(k)}", text)]


def prospect_url(query: JournalistQuery) -> str:
    """A page for the prospect: the outlet's site, or where to answer the query,
    or the outlet's domain from the journalist's address; as a last resort the
    service's site. Each query is its own prospect, so the query's id goes in."""
    base = query.outlet_url or query.link
    if not base and query.contact_email:
        domain = query.contact_email.rsplit("@", 1)[-1].lower()
        if domain not in GENERIC_MAIL_DOMAINS:
            base = f"https://{domain}/"
    if not base:
        base = SERVICE_SITES.get(query.service, "https://journalist-query.invalid/")
    if base == query.link:
        return base
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}journalist-query={quote(str(query.pk))}"


@transaction.atomic
def make_prospect(query: JournalistQuery, *, campaign: Campaign, by: User | None) -> Prospect:
    """A haro prospect for ``campaign`` from a query, with its deadline (which
    puts it on My day). A second click returns the same prospect."""
    existing = (
        QueryProspect.objects.filter(query=query, campaign=campaign)
        .select_related("prospect")
        .first()
    )
    if existing is not None:
        return existing.prospect
    text = query.query_text
    if query.requirements:
        text += f"\n\nRequirements: {query.requirements}"
    notes = f"From a {query.service or 'journalist'} query: {query.title}".strip()
    if query.link:
        notes += f"\nAnswer at: {query.link}"
    try:
        url = prospect_url(query)
        domain_of(url)
    except InvalidURL as exc:
        raise ValidationError(f"No usable page for this query: {exc}") from exc
    prospect = create_prospect(
        by=by,
        campaign=campaign,
        kind=Kind.HARO,
        url=url,
        outlet=query.outlet[:200],
        query_text=text,
        deadline=query.deadline,
        contact_name=query.journalist[:200],
        contact_email=query.contact_email,
        niche=query.category[:120],
        notes=notes,
        # Whoever takes a query answers it before its deadline.
        assignee=by,
    )
    try:
        with transaction.atomic():
            QueryProspect.objects.create(query=query, prospect=prospect, campaign=campaign)
    except IntegrityError as exc:  # a double click that raced this one
        raise ValidationError("This query was just made a prospect.") from exc
    return prospect


def inbox_queries(*, include_past: bool = False) -> QuerySet[JournalistQuery]:
    queries = JournalistQuery.objects.filter(dismissed_at__isnull=True)
    if not include_past:
        # A query whose deadline passed is no longer worth an answer; one with
        # no deadline stays.
        cutoff = timezone.now()
        queries = queries.filter(Q(deadline__isnull=True) | Q(deadline__gte=cutoff))
    return queries


def dismiss(query: JournalistQuery) -> None:
    JournalistQuery.objects.filter(pk=query.pk, dismissed_at__isnull=True).update(
        dismissed_at=timezone.now()
    )


def prospects_by_query(queries: list[JournalistQuery], campaign: Campaign | None) -> dict[int, int]:
    """{query id: prospect id} for these queries in this campaign (one query)."""
    if campaign is None:
        return {}
    return dict(
        QueryProspect.objects.filter(query__in=queries, campaign=campaign).values_list(
            "query_id", "prospect_id"
        )
    )
