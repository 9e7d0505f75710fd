from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from campaigns.models import Campaign, Membership, Role, TargetPage, User
from links.models import Alert, Backlink, LinkCheck, Verdict
from outreach.models import ImportJob, Kind, OutreachActivity, Prospect, Status, StatusChange, Tag

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@team.example")
    role = Role.MEMBER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    site = factory.Sequence(lambda n: f"site{n}.example")
    owner = factory.SubFactory(UserFactory, role=Role.MANAGER)

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        for user in extracted or []:
            Membership.objects.create(campaign=obj, user=user)


class TargetPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetPage

    campaign = factory.SubFactory(CampaignFactory)
    url = factory.Sequence(lambda n: f"https://ours.example/page-{n}/")
    title = factory.Sequence(lambda n: f"Target page {n}")


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    campaign = factory.SubFactory(CampaignFactory)
    kind = Kind.BLOGGER
    status = Status.NEW
    url = factory.Sequence(lambda n: f"https://blog{n}.example/post/")
    contact_name = "Sam Park"
    contact_email = factory.Sequence(lambda n: f"sam@blog{n}.example")
    domain_rating = 40


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutreachActivity

    prospect = factory.SubFactory(ProspectFactory)
    kind = OutreachActivity.Kind.EMAIL_SENT
    summary = "Pitched the guide"


class BacklinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Backlink

    campaign = factory.SubFactory(CampaignFactory)
    source_url = factory.Sequence(lambda n: f"https://source{n}.example/article/")
    target_url = factory.LazyAttribute(lambda b: f"https://{b.campaign.site}/")
    expected_anchor_text = "our guide"


class LinkCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkCheck

    backlink = factory.SubFactory(BacklinkFactory)
    verdict = Verdict.LIVE
    http_status = 200
    checked_at = factory.LazyFunction(timezone.now)


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    campaign = factory.SubFactory(CampaignFactory)
    kind = Alert.Kind.LOST
    message = "Link lost"


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    prospect = factory.SubFactory(ProspectFactory)
    from_status = Status.NEW
    to_status = Status.CONTACTED


class ImportJobFactory(factory.django.DjangoModelFactory):
    """An uploaded prospect import with a small CSV stored under MEDIA_ROOT."""

    class Meta:
        model = ImportJob

    campaign = factory.SubFactory(CampaignFactory)
    target = ImportJob.Target.PROSPECTS
    original_name = "prospects.csv"
    file = factory.django.FileField(
        filename="prospects.csv",
        data=b"URL,Email\r\nhttps://a.example/,a@a.example\r\nhttps://b.example/,broken\r\n",
    )
    file_format = "csv"
    mapping = factory.LazyFunction(lambda: {"0": "url", "1": "contact_email"})
    options = factory.LazyFunction(lambda: {"kind": Kind.BLOGGER})


# --- Prospecting and the journalist-query inbox ------------------------------------------------


class BrokenLinkScanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "prospecting.BrokenLinkScan"

    campaign = factory.SubFactory(CampaignFactory)
    state = "done"
    pages_total = 1
    pages_done = 1


class ScanPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "prospecting.ScanPage"

    scan = factory.SubFactory(BrokenLinkScanFactory)
    url = factory.Sequence(lambda n: f"https://resources{n}.example/links/")
    final_url = factory.LazyAttribute(lambda p: p.url)
    done = True


class DeadLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "prospecting.DeadLink"

    page = factory.SubFactory(ScanPageFactory)
    scan = factory.LazyAttribute(lambda d: d.page.scan)
    url = factory.Sequence(lambda n: f"https://gone{n}.example/guide")
    anchor_text = "running shoe guide"
    context = "Read this running shoe guide before you buy."
    verdict = "dead"
    reason = "answered 404"
    http_status = 404


class DigestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inbox.Digest"

    source = "paste"
    subject = "Digest"


class JournalistQueryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inbox.JournalistQuery"

    digest = factory.SubFactory(DigestFactory)
    service = "haro"
    title = factory.Sequence(lambda n: f"Experts on trail running shoes {n}")
    outlet = "Runner's Weekly"
    journalist = "Jane Doe"
    contact_email = "query-1@helpareporter.net"
    query_text = "How should beginners choose trail running shoes?"
    deadline = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=2))
    fingerprint = factory.Sequence(lambda n: f"fp-{n:060d}")


class BacklinkExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "prospecting.BacklinkExport"

    campaign = factory.SubFactory(CampaignFactory)
    competitor = factory.Sequence(lambda n: f"rival{n}.example")
    original_name = "backlinks.csv"
    state = "done"


# --- Outreach email --------------------------------------------------------------------

from outreach.email.models import (  # noqa: E402  (kept apart so merges with other branches stay easy)
    DoNotContact,
    EmailTemplate,
    Mailbox,
    TemplateFollowUp,
)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    """A pitch with follow-ups after 3 and 7 days (``follow_ups=[]`` for none)."""

    class Meta:
        model = EmailTemplate
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    subject = "A resource for {{ site }}"
    body = "Hi {{ first_name }},\n\nI enjoyed {{ url }}. Would {{ target_url }} help?\n\nMia"

    @factory.post_generation
    def follow_ups(obj, create, extracted, **kwargs):
        if not create:
            return
        steps = (
            extracted
            if extracted is not None
            else [
                (3, "Hi {{ first_name }}, just floating this back up."),
                (7, "Hi {{ first_name }}, last note from me on this."),
            ]
        )
        for position, (days, body) in enumerate(steps, start=1):
            TemplateFollowUp.objects.create(
                template=obj, position=position, delay_days=days, body=body
            )


class MailboxFactory(factory.django.DjangoModelFactory):
    """Plain SMTP/IMAP on loopback; pass the test servers' ports."""

    class Meta:
        model = Mailbox
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Mailbox {n}")
    from_name = "Mia Chen"
    email = factory.Sequence(lambda n: f"mia{n}@agency.example")
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    smtp_security = Mailbox.Security.NONE
    smtp_username = ""
    imap_host = ""
    imap_port = 1143
    imap_security = Mailbox.Security.NONE
    daily_limit = 100
    window_start = datetime.time(0, 0)
    window_end = datetime.time(23, 59, 59)

    @factory.post_generation
    def passwords(obj, create, extracted, **kwargs):
        from outreach.email.mailboxes import set_passwords

        if extracted:
            set_passwords(obj, **extracted)
            if create:
                obj.save()


class DoNotContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoNotContact

    kind = DoNotContact.Kind.EMAIL
    value = factory.Sequence(lambda n: f"nobody{n}@blocked.example")
