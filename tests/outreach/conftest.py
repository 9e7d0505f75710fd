"""Fixtures for outreach email: a mailbox on the test SMTP server (aiosmtpd) and
the test IMAP server (Dovecot), a template, and a prospect to write to."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from campaigns.models import Campaign, User
from outreach.email.models import EmailTemplate, Mailbox
from outreach.models import Prospect
from tests.factories import (
    EmailTemplateFactory,
    MailboxFactory,
    ProspectFactory,
    TargetPageFactory,
)
from tests.support.imap import ImapServer
from tests.support.smtp import SmtpSink


@dataclass
class Outreach:
    campaign: Campaign
    member: User
    mailbox: Mailbox
    template: EmailTemplate
    prospect: Prospect
    smtp: SmtpSink
    imap: ImapServer

    def prospect_on(self, domain: str, **fields) -> Prospect:
        fields.setdefault("campaign", self.campaign)
        fields.setdefault("contact_email", f"editor@{domain}")
        fields.setdefault("url", f"https://{domain}/post/")
        return ProspectFactory(**fields)


@pytest.fixture
def outreach(campaign, member, smtp_sink, imap_mailbox, settings) -> Outreach:
    """A campaign with a target page, a template (+3, +7 days), a mailbox that
    sends through the test SMTP server with a login and reads the Dovecot INBOX,
    and a blogger to write to."""
    # The test servers listen on 127.0.0.1, which mailboxes may not reach by default.
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = True
    imap_mailbox.clear("Sent")
    TargetPageFactory(campaign=campaign, url="https://ours.example/guide/", priority=1)
    mailbox = MailboxFactory(
        email="mia@agency.example",
        smtp_port=smtp_sink.port,
        smtp_username=smtp_sink.user,
        imap_host=imap_mailbox.host,
        imap_port=imap_mailbox.port,
        imap_username=imap_mailbox.user,
        passwords={"smtp": smtp_sink.password, "imap": imap_mailbox.password},
    )
    template = EmailTemplateFactory(campaign=campaign, name="Guide pitch")
    prospect = ProspectFactory(
        campaign=campaign,
        url="https://runner-blog.example/best-shoes/",
        contact_name="Jo Novak",
        contact_email="jo@runner-blog.example",
    )
    return Outreach(campaign, member, mailbox, template, prospect, smtp_sink, imap_mailbox)
