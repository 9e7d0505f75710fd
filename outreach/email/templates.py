"""A template made into one prospect's emails: the whitelisted merge values, and
the pitch and follow-ups rendered with them (``wire.merge`` does the rendering)."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from campaigns.models import Campaign, TargetPage
from outreach.email.models import (
    EmailTemplate,
    Mailbox,
    TemplateFollowUp,
)
from outreach.email.wire import merge
from outreach.models import Prospect


@dataclass(frozen=True)
class RenderedEmail:
    step: int
    delay_days: int
    subject: str
    body: str


def top_target_url(campaign: Campaign) -> str:
    """The campaign's highest-priority target page: ``{{ target_url }}`` for
    prospects that were not offered a specific page."""
    target = TargetPage.objects.filter(campaign=campaign).order_by("priority", "url").first()
    return target.url if target else ""


def merge_values(
    prospect: Prospect, *, campaign: Campaign, mailbox: Mailbox | None, target_url: str = ""
) -> dict[str, str]:
    """The whitelisted values a template may use. Strings only: a template can
    reach nothing else."""
    name = " ".join(prospect.contact_name.split())
    offered = prospect.offered_target.url if prospect.offered_target_id else ""
    deadline = ""
    if prospect.deadline:
        deadline = date_format(timezone.localtime(prospect.deadline), "DATETIME_FORMAT")
    return {
        "first_name": name.split(" ")[0] if name else "",
        "contact_name": name,
        "contact_email": prospect.contact_email,
        "site": prospect.domain,
        "url": prospect.url,
        "target_url": offered or target_url,
        "dead_url": prospect.dead_url,
        "our_site": campaign.site,
        "campaign": campaign.name,
        "niche": prospect.niche,
        "domain_rating": "" if prospect.domain_rating is None else str(prospect.domain_rating),
        "outlet": prospect.outlet,
        "query_text": prospect.query_text,
        "deadline": deadline,
        "fee": "" if prospect.fee is None else str(prospect.fee),
        "sender_name": mailbox.from_name if mailbox else "",
    }


def render_emails(
    template: EmailTemplate, follow_ups: Seq[TemplateFollowUp], values: dict[str, str]
) -> list[RenderedEmail]:
    """The pitch and its follow-ups for one prospect. Raises MissingValues naming
    every empty field of every email at once, so one fix is enough."""
    missing: list[str] = []
    emails: list[RenderedEmail] = []

    def attempt(text: str) -> str:
        try:
            return merge.render(text, values)
        except merge.MissingValues as exc:
            missing.extend(n for n in exc.names if n not in missing)
            return ""

    subject = " ".join(attempt(template.subject).split())
    emails.append(RenderedEmail(0, 0, subject, attempt(template.body)))
    for step, follow_up in enumerate(follow_ups, start=1):
        emails.append(
            RenderedEmail(step, follow_up.delay_days, f"Re: {subject}", attempt(follow_up.body))
        )
    if missing:
        raise merge.MissingValues(tuple(missing))
    return emails
