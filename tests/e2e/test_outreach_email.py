"""A member previews a template on a prospect, starts the sequence, and sees the
reply arrive on the timeline: headless Chromium against the live server, mail
through the test SMTP server and a real Dovecot.

The test plays beat and the worker itself (it calls the send service and the poll
task function), so no Celery process is needed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.models import Role
from outreach.email import sending, tasks
from outreach.email.models import ScheduledEmail, Sequence
from tests.factories import (
    CampaignFactory,
    EmailTemplateFactory,
    MailboxFactory,
    ProspectFactory,
    TargetPageFactory,
    UserFactory,
)


@pytest.fixture
def mail_world(transactional_db, smtp_sink, imap_mailbox, settings):
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = True  # the test servers are on 127.0.0.1
    member = UserFactory(username="mia", role=Role.MEMBER, first_name="Mia")
    campaign = CampaignFactory(name="Acme shoes", slug="acme", members=[member])
    TargetPageFactory(campaign=campaign, url="https://acme.example/trail-shoes/", priority=1)
    EmailTemplateFactory(
        campaign=campaign,
        name="Trail guide pitch",
        subject="A trail shoe guide for {{ site }}",
        body="Hi {{ first_name }},\n\nWould {{ target_url }} fit {{ url }}?\n\n{{ sender_name }}",
    )
    mailbox = MailboxFactory(
        from_name="Mia Chen",
        email="mia@agency.example",
        smtp_port=smtp_sink.port,
        smtp_username=smtp_sink.user,
        imap_host=imap_mailbox.host,
        imap_port=imap_mailbox.port,
        imap_username=imap_mailbox.user,
        passwords={"smtp": smtp_sink.password, "imap": imap_mailbox.password},
    )
    prospect = ProspectFactory(
        campaign=campaign,
        url="https://runner-blog.example/best-shoes/",
        contact_name="Jo Novak",
        contact_email="jo@runner-blog.example",
    )
    return {"member": member, "prospect": prospect, "mailbox": mailbox, "imap": imap_mailbox}


def test_preview_start_and_see_the_reply_on_the_timeline(page, login, mail_world, smtp_sink):
    prospect = mail_world["prospect"]
    login(mail_world["member"])
    page.goto(f"/campaigns/acme/prospects/{prospect.pk}/")
    panel = page.locator("#prospect-email")
    expect(panel.get_by_label("Template")).to_have_value(
        str(prospect.campaign.email_templates.get().pk)
    )
    panel.get_by_role("button", name="Preview").click()

    preview = page.locator("#email-preview")
    expect(preview).to_contain_text("A trail shoe guide for runner-blog.example")
    expect(preview).to_contain_text("Hi Jo,")
    expect(preview).to_contain_text(
        "Would https://acme.example/trail-shoes/ fit https://runner-blog.example/best-shoes/?"
    )
    expect(preview).to_contain_text("Follow-up 1, 3 days after the pitch if nobody has replied")
    preview.get_by_role("button", name="Start sequence").click()
    expect(panel).to_contain_text("Sequence started.")
    expect(panel).to_contain_text("Queued")
    sequence = Sequence.objects.get()

    # Beat and the worker: the pitch goes out through the SMTP server.
    assert [sending.send(claim) for claim in sending.claim_due()] == ["sent"]
    (received,) = smtp_sink.messages
    assert received.message["Subject"] == "A trail shoe guide for runner-blog.example"
    page.reload()
    timeline = page.locator("#prospect-timeline")
    expect(timeline).to_contain_text("Email sent")
    expect(timeline).to_contain_text("Contacted")

    # Jo answers in the thread; the mailbox poll reads it.
    pitch = sequence.emails.get(step=0)
    mail_world["imap"].deliver(
        "From: Jo Novak <jo@runner-blog.example>\n"
        "To: Mia Chen <mia@agency.example>\n"
        f"Subject: Re: {pitch.subject}\n"
        f"In-Reply-To: {pitch.message_id}\n"
        "Message-ID: <jo-reply@runner-blog.example>\n\n"
        "Love it, I'll add the link this week.\n\n"
        "On Mon, Mia Chen wrote:\n> Hi Jo,\n"
    )
    assert tasks.poll_mailbox(mail_world["mailbox"].pk) == 1
    page.reload()
    expect(timeline).to_contain_text("Reply")
    expect(timeline).to_contain_text("Love it, I'll add the link this week.")
    expect(timeline).to_contain_text("Contacted → Replied")
    expect(panel).to_contain_text("They replied")
    expect(panel.get_by_text("Cancelled")).to_have_count(2)
    expect(panel.get_by_role("button", name="Stop this sequence")).to_have_count(0)
    assert set(
        ScheduledEmail.objects.filter(sequence=sequence, step__gt=0).values_list("state", flat=True)
    ) == {"cancelled"}


def test_a_missing_merge_value_is_named_in_the_preview(page, login, mail_world):
    prospect = mail_world["prospect"]
    prospect.contact_name = ""
    prospect.save()
    login(mail_world["member"])
    page.goto(f"/campaigns/acme/prospects/{prospect.pk}/")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#email-preview")
    expect(preview).to_contain_text("No value for {{ first_name }}")
    expect(preview.get_by_role("button", name="Start sequence")).to_have_count(0)
