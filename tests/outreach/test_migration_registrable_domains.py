"""Migration outreach 0006: prospects' and sequences' stored domains become sites
(registrable domains); of two sequences that now run to one site, the later stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.email.models import ScheduledEmail, Sequence
from outreach.models import OutreachActivity, Prospect
from tests.factories import (
    CampaignFactory,
    EmailTemplateFactory,
    MailboxFactory,
    ProspectFactory,
)
from tests.support.migrations import replay

pytestmark = pytest.mark.django_db

THIS = ("outreach", "0006_registrable_domains")


def old_prospect(url: str, old_domain: str, **fields) -> Prospect:
    """A prospect as the code before this migration stored it: the host without
    "www." in ``domain``."""
    prospect = ProspectFactory(url=url, **fields)
    Prospect.objects.filter(pk=prospect.pk).update(domain=old_domain)
    return prospect


def sequence(prospect: Prospect, *, domain: str, state: str = "active", days_ago: int = 0):
    started = timezone.now() - timedelta(days=days_ago)
    row = Sequence.objects.create(
        campaign=prospect.campaign,
        prospect=prospect,
        template=EmailTemplateFactory(campaign=prospect.campaign),
        mailbox=MailboxFactory(),
        domain=domain,
        to_email=prospect.contact_email,
        state=state,
        started_at=started,
    )
    for step, email_state in enumerate(("sent", "queued", "queued")):
        ScheduledEmail.objects.create(
            sequence=row,
            mailbox=row.mailbox,
            step=step,
            to_email=row.to_email,
            subject="A resource",
            body="Hi",
            message_id=f"<{row.pk}.{step}@agency.example>",
            state=email_state,
            due_at=started + timedelta(days=3 * step),
            sent_at=started if email_state == "sent" else None,
        )
    return row


def test_prospect_domains_become_registrable_domains():
    cases = {
        old_prospect("https://blog.example.co.uk/a/", "blog.example.co.uk"): "example.co.uk",
        old_prospect("https://m.example.com/", "m.example.com"): "example.com",
        old_prospect("https://news.example.com.au/x", "news.example.com.au"): "example.com.au",
        old_prospect("https://alice.blogspot.com/", "alice.blogspot.com"): "alice.blogspot.com",
        old_prospect("https://docs.bob.github.io/", "docs.bob.github.io"): "bob.github.io",
        old_prospect("https://www.xn--e1afmkfd.xn--p1ai/", "xn--e1afmkfd.xn--p1ai"): (
            "xn--e1afmkfd.xn--p1ai"
        ),
        old_prospect("https://shop.xn--bcher-kva.de/", "shop.xn--bcher-kva.de"): (
            "xn--bcher-kva.de"
        ),
        old_prospect("http://203.0.113.7/links", "203.0.113.7"): "203.0.113.7",
    }
    replay(*THIS)
    for prospect, site in cases.items():
        prospect.refresh_from_db()
        assert prospect.domain == site, prospect.url


def test_the_earlier_of_two_sequences_to_one_site_keeps_running():
    campaign, rival = CampaignFactory(), CampaignFactory()
    blog = old_prospect("https://blog.runner.co.uk/post/", "blog.runner.co.uk", campaign=campaign)
    home = old_prospect("https://runner.co.uk/", "runner.co.uk", campaign=rival)
    shop = old_prospect("https://shop.runner.co.uk/", "shop.runner.co.uk", campaign=rival)
    elsewhere = old_prospect("https://m.other.example/", "m.other.example", campaign=rival)
    first = sequence(blog, domain="blog.runner.co.uk", days_ago=5)
    second = sequence(home, domain="runner.co.uk", days_ago=2)
    third = sequence(shop, domain="shop.runner.co.uk", days_ago=1)
    unrelated = sequence(elsewhere, domain="m.other.example", days_ago=1)
    done = sequence(elsewhere, domain="m.other.example", state="finished", days_ago=30)
    replay(*THIS)

    for row in (first, second, third, unrelated, done):
        row.refresh_from_db()
    assert (first.state, first.domain) == ("active", "runner.co.uk")
    assert (unrelated.state, unrelated.domain) == ("active", "other.example")
    assert (done.state, done.domain) == ("finished", "other.example")
    for later in (second, third):
        assert later.state == "stopped"
        assert later.stop_reason == Sequence.StopReason.SAME_SITE
        assert later.ended_at is not None
        assert later.domain == "runner.co.uk"
        states = list(later.emails.order_by("step").values_list("state", flat=True))
        assert states == ["sent", "cancelled", "cancelled"]
        (note,) = OutreachActivity.objects.filter(prospect=later.prospect, kind="note")
        assert note.summary.startswith(
            "Sequence stopped: another sequence to runner.co.uk was already running"
        )
    assert list(first.emails.order_by("step").values_list("state", flat=True)) == [
        "sent",
        "queued",
        "queued",
    ]
    assert not OutreachActivity.objects.filter(prospect=blog).exists()
    # The invariant holds on the new values: one active sequence per site.
    assert Sequence.objects.filter(state="active", domain="runner.co.uk").count() == 1
