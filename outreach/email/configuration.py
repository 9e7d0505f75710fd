"""Writes of what managers and admins set up for outreach email: templates with
their follow-ups, mailboxes, and the do-not-contact list."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from links.verification.urls import InvalidURL, host_of
from outreach.email.models import DoNotContact, EmailTemplate, TemplateFollowUp
from outreach.email.wire import merge

if TYPE_CHECKING:
    from campaigns.models import Campaign, User


def template_problems(
    subject: str, body: str, follow_ups: Seq[tuple[int, str]]
) -> dict[str, list[str]]:
    """Merge-field mistakes per part of a template ("subject", "body", "follow_up_2")."""
    found = {}
    parts = {"subject": subject, "body": body}
    parts.update({f"follow_up_{i}": text for i, (_, text) in enumerate(follow_ups, start=1)})
    for name, text in parts.items():
        problems = merge.problems(text)
        if problems:
            found[name] = problems
    return found


@transaction.atomic
def save_template(
    campaign: Campaign,
    *,
    template: EmailTemplate | None,
    name: str,
    subject: str,
    body: str,
    follow_ups: Seq[tuple[int, str]],
    is_archived: bool = False,
    by: User | None,
) -> EmailTemplate:
    """Create or update a template and replace its follow-ups ((days after the
    pitch, body) in order). Scheduled emails keep the text they were rendered
    with, so editing a template never changes mail already planned."""
    problems = template_problems(subject, body, follow_ups)
    if problems:
        raise ValidationError(dict(problems))
    days = [d for d, _ in follow_ups]
    if days != sorted(set(days)):
        raise ValidationError("Each follow-up must come later than the one before it.")
    duplicate = EmailTemplate.objects.filter(campaign=campaign, name__iexact=name.strip())
    if template is not None:
        duplicate = duplicate.exclude(pk=template.pk)
    if duplicate.exists():
        raise ValidationError({"name": ["This campaign already has a template with that name."]})
    if template is None:
        template = EmailTemplate(campaign=campaign, created_by=by)
    template.name, template.subject, template.body = name.strip(), subject.strip(), body
    template.is_archived = is_archived
    template.save()
    template.follow_ups.all().delete()
    TemplateFollowUp.objects.bulk_create(
        TemplateFollowUp(template=template, position=i, delay_days=d, body=text)
        for i, (d, text) in enumerate(follow_ups, start=1)
    )
    return template


def parse_do_not_contact(text: str) -> tuple[str, str]:
    """An address or a domain (a URL gives its domain): (kind, lowercase value).

    A domain entry keeps the host as typed (``www.`` aside), not its registrable
    domain: listing ``blog.x.com`` blocks that blog and its subdomains, never the
    rest of ``x.com``."""
    value = text.strip().lower()
    if not value:
        raise ValidationError("Enter an email address or a domain.")
    if "@" in value and "/" not in value:
        local, _, domain = value.rpartition("@")
        if not local or "." not in domain:
            raise ValidationError(f"“{text.strip()}” is not an email address.")
        return DoNotContact.Kind.EMAIL, value
    try:
        domain = host_of(value if "//" in value else f"https://{value}")
    except InvalidURL as exc:
        raise ValidationError(
            f"“{text.strip()}” is neither an email address nor a domain."
        ) from exc
    if "." not in domain:
        raise ValidationError(f"“{text.strip()}” is neither an email address nor a domain.")
    return DoNotContact.Kind.DOMAIN, domain


def _neither(text: str) -> str:
    return f"“{text.strip()}” is neither an email address nor a domain."


def add_do_not_contact(
    text: str, *, reason: str = "", by: User | None
) -> tuple[DoNotContact, bool]:
    """Add an entry (or find the existing one). Running and future sequences to it
    stop before their next email (the rules are checked again before each send)."""
    kind, value = parse_do_not_contact(text)
    return DoNotContact.objects.get_or_create(
        kind=kind,
        value=value,
        defaults={
            "reason": reason.strip()[:300],
            "added_by": by,
            "source": DoNotContact.Source.MANUAL,
        },
    )


def remove_do_not_contact(entry: DoNotContact) -> None:
    """Take an entry off the list: sequences may be started to it again."""
    entry.delete()
