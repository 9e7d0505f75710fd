"""The safety rules and merge fields that decide whether a sequence may start, each
with the reason a member is shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.email import configuration, safety, sequences
from outreach.email.models import DoNotContact, ScheduledEmail, Sequence
from outreach.models import OutreachActivity
from tests.factories import (
    CampaignFactory,
    DoNotContactFactory,
    EmailTemplateFactory,
    ProspectFactory,
    UserFactory,
)


def attempt(outreach, *prospects, template=None):
    return sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[p.pk for p in prospects],
        template=template or outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    )


def reasons(result) -> list[str]:
    (blocked,) = result.blocked
    return blocked.reasons


def test_a_missing_merge_value_blocks_and_names_the_field(outreach):
    nameless = outreach.prospect_on("quiet.example", contact_name="")
    result = attempt(outreach, nameless)
    assert result.started == []
    assert reasons(result) == [
        "No value for {{ first_name }}: fill it in on the prospect, or use a template without it."
    ]
    assert not Sequence.objects.exists()


def test_every_missing_field_is_named_at_once(outreach):
    template = EmailTemplateFactory(
        campaign=outreach.campaign,
        body="Hi {{ first_name }}, your dead link {{ dead_url }} ...",
        follow_ups=[(3, "About {{ outlet }}?")],
    )
    result = attempt(
        outreach, outreach.prospect_on("quiet.example", contact_name=""), template=template
    )
    assert "{{ first_name }}, {{ dead_url }}, {{ outlet }}" in reasons(result)[0]


def test_a_fallback_fills_an_empty_field(outreach):
    template = EmailTemplateFactory(
        campaign=outreach.campaign, body='Hi {{ first_name|default:"there" }},', follow_ups=[]
    )
    result = attempt(
        outreach, outreach.prospect_on("quiet.example", contact_name=""), template=template
    )
    (sequence,) = result.started
    assert sequence.emails.get().body == "Hi there,"


def test_broken_link_fields_come_from_the_prospect(outreach):
    from tests.factories import TargetPageFactory

    offered = TargetPageFactory(campaign=outreach.campaign, url="https://ours.example/new-guide/")
    prospect = outreach.prospect_on(
        "trail-club.example",
        kind="broken_link",
        dead_url="https://gone.example/old",
        offered_target=offered,
    )
    template = EmailTemplateFactory(
        campaign=outreach.campaign,
        subject="Broken link on {{ site }}",
        body="{{ dead_url }} is gone; {{ target_url }} covers it.",
        follow_ups=[],
    )
    (sequence,) = attempt(outreach, prospect, template=template).started
    email = sequence.emails.get()
    assert email.subject == "Broken link on trail-club.example"
    assert (
        email.body == "https://gone.example/old is gone; https://ours.example/new-guide/ covers it."
    )


def test_no_contact_email_blocks(outreach):
    result = attempt(outreach, outreach.prospect_on("quiet.example", contact_email=""))
    assert reasons(result) == ["No contact email: add one to the prospect first."]


def test_a_bounced_contact_blocks_until_cleared(outreach):
    outreach.prospect.contact_invalid_at = timezone.now()
    outreach.prospect.contact_invalid_reason = "550 user unknown"
    outreach.prospect.save()
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert reason.startswith("Mail to this contact bounced on ")
    assert "(550 user unknown)" in reason


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "jo@runner-blog.example"),
        ("domain", "runner-blog.example"),
    ],
)
def test_the_do_not_contact_list_blocks_by_address_and_domain(outreach, kind, value):
    DoNotContactFactory(kind=kind, value=value)
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert reason.startswith(f"{value} is on the do-not-contact list (added on ")


def test_a_listed_domain_covers_its_subdomains_and_addresses_at_it(outreach):
    DoNotContactFactory(kind="domain", value="bigmedia.example")
    on_subdomain = outreach.prospect_on("blog.bigmedia.example")
    address_there = outreach.prospect_on("personal.example", contact_email="ed@bigmedia.example")
    elsewhere = outreach.prospect_on("fine.example")
    result = attempt(outreach, on_subdomain, address_there, elsewhere)
    assert [s.prospect for s in result.started] == [elsewhere]
    assert {b.prospect for b in result.blocked} == {on_subdomain, address_there}


def test_a_listed_subdomain_blocks_only_itself_and_below(outreach):
    # The list matches hosts, not sites: listing one blog of a site leaves the
    # rest of the site open.
    DoNotContactFactory(kind="domain", value="blog.bigmedia.co.uk")
    listed = outreach.prospect_on("blog.bigmedia.co.uk")
    below = outreach.prospect_on("team.blog.bigmedia.co.uk")
    site = outreach.prospect_on("bigmedia.co.uk")
    sibling = outreach.prospect_on("shop.bigmedia.co.uk")
    blocked = safety.safety_reasons(outreach.campaign, [listed, below, site, sibling])
    assert set(blocked) == {listed.pk, below.pk}
    (reason,) = blocked[below.pk]
    assert reason.startswith("blog.bigmedia.co.uk is on the do-not-contact list (added on ")


def test_an_unsubscribed_address_says_so(outreach):
    DoNotContactFactory(value="jo@runner-blog.example", source=DoNotContact.Source.UNSUBSCRIBE)
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert "(asked to unsubscribe on " in reason


def test_another_campaigns_recent_contact_blocks_for_the_cooldown(outreach, settings):
    settings.OUTREACH_DOMAIN_COOLDOWN_DAYS = 90
    other = CampaignFactory(name="Shoe brand")
    rival = ProspectFactory(campaign=other, url="https://runner-blog.example/other-post/")
    OutreachActivity.objects.create(
        prospect=rival, kind="follow_up", occurred_at=timezone.now() - timedelta(days=12)
    )
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert reason.startswith(
        "Campaign “Shoe brand” wrote to runner-blog.example 12 days ago; no new outreach to it "
        "until "
    )
    assert reason.endswith("(90-day cooldown between campaigns).")


@pytest.mark.parametrize(
    ("contacted", "ours"),
    [
        ("https://blog.runner-blog.co.uk/x/", "https://runner-blog.co.uk/best-shoes/"),
        ("https://runner-blog.co.uk/x/", "https://m.runner-blog.co.uk/best-shoes/"),
    ],
)
def test_the_cooldown_counts_subdomains_as_the_site(outreach, settings, contacted, ours):
    settings.OUTREACH_DOMAIN_COOLDOWN_DAYS = 90
    rival = ProspectFactory(campaign=CampaignFactory(name="Shoe brand"), url=contacted)
    OutreachActivity.objects.create(
        prospect=rival, kind="email_sent", occurred_at=timezone.now() - timedelta(days=3)
    )
    mine = outreach.prospect_on("runner-blog.co.uk", url=ours)
    (reason,) = reasons(attempt(outreach, mine))
    assert reason.startswith("Campaign “Shoe brand” wrote to runner-blog.co.uk 3 days ago;")


def test_the_cooldown_ends(outreach, settings):
    settings.OUTREACH_DOMAIN_COOLDOWN_DAYS = 90
    rival = ProspectFactory(url="https://runner-blog.example/x/")
    OutreachActivity.objects.create(
        prospect=rival, kind="email_sent", occurred_at=timezone.now() - timedelta(days=91)
    )
    assert attempt(outreach, outreach.prospect).started


def test_the_cooldown_ignores_this_campaign_and_non_emails(outreach):
    mine = outreach.prospect_on("runner-blog.example", url="https://runner-blog.example/a/")
    OutreachActivity.objects.create(prospect=mine, kind="email_sent")
    rival = ProspectFactory(url="https://runner-blog.example/b/")
    OutreachActivity.objects.create(prospect=rival, kind="call")
    OutreachActivity.objects.create(prospect=rival, kind="note")
    assert attempt(outreach, outreach.prospect).started


def test_one_running_sequence_per_domain_across_campaigns(outreach):
    other_campaign = CampaignFactory(name="Shoe brand")
    rival = ProspectFactory(
        campaign=other_campaign,
        url="https://runner-blog.example/x/",
        contact_email="ed@runner-blog.example",
    )
    rival_template = EmailTemplateFactory(campaign=other_campaign, body="Hi {{ first_name }}")
    assert sequences.start_sequences(
        other_campaign,
        prospect_ids=[rival.pk],
        template=rival_template,
        mailbox=outreach.mailbox,
        by=UserFactory(username="sam"),
    ).started
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert reason == (
        "A sequence to runner-blog.example is already running (campaign “Shoe brand”, started "
        "by sam); one at a time per domain."
    )


@pytest.mark.parametrize(
    ("running", "ours"),
    [
        ("https://blog.runner-blog.example/x/", "https://runner-blog.example/trail-guide/"),
        ("https://runner-blog.example/x/", "https://blog.runner-blog.example/trail-guide/"),
        ("https://blog.runner.com.au/x/", "https://shop.runner.com.au/best-shoes/"),
    ],
)
def test_a_running_sequence_blocks_every_host_of_its_site(outreach, running, ours):
    other_campaign = CampaignFactory(name="Shoe brand")
    rival = ProspectFactory(campaign=other_campaign, url=running)
    assert sequences.start_sequences(
        other_campaign,
        prospect_ids=[rival.pk],
        template=EmailTemplateFactory(campaign=other_campaign, body="Hi {{ first_name }}"),
        mailbox=outreach.mailbox,
        by=UserFactory(username="sam"),
    ).started
    mine = ProspectFactory(campaign=outreach.campaign, url=ours)
    (reason,) = reasons(attempt(outreach, mine))
    assert reason == (
        f"A sequence to {mine.domain} is already running (campaign “Shoe brand”, started "
        "by sam); one at a time per domain."
    )


def test_separate_blogs_of_one_host_suffix_are_separate_sites(outreach):
    # blogspot.com is a public suffix: two blogs there are two sites.
    alice = outreach.prospect_on("alice.blogspot.com")
    bob = outreach.prospect_on("bob.blogspot.com")
    assert len(attempt(outreach, alice).started) == 1
    assert len(attempt(outreach, bob).started) == 1


def test_the_same_prospect_cannot_get_a_second_running_sequence(outreach):
    assert attempt(outreach, outreach.prospect).started
    (reason,) = reasons(attempt(outreach, outreach.prospect))
    assert reason.startswith("This prospect's sequence is still running")


def test_two_selected_prospects_on_one_domain_get_one_sequence(outreach):
    second = outreach.prospect_on("runner-blog.example", url="https://runner-blog.example/b/")
    result = attempt(outreach, outreach.prospect, second)
    assert [s.prospect for s in result.started] == [outreach.prospect]
    assert reasons(result) == [
        "Another selected prospect on runner-blog.example gets this sequence."
    ]


def test_two_selected_prospects_on_one_site_get_one_sequence(outreach):
    blog = outreach.prospect_on("blog.runner-blog.example")
    result = attempt(outreach, outreach.prospect, blog)
    assert [s.prospect for s in result.started] == [outreach.prospect]
    assert result.started[0].domain == "runner-blog.example"
    assert reasons(result) == [
        "Another selected prospect on runner-blog.example gets this sequence."
    ]


def test_the_database_refuses_a_second_active_sequence_on_a_domain(outreach):
    (sequence,) = attempt(outreach, outreach.prospect).started
    with pytest.raises(IntegrityError), transaction.atomic():
        Sequence.objects.create(
            campaign=outreach.campaign,
            prospect=outreach.prospect_on(
                "runner-blog.example", url="https://runner-blog.example/z/"
            ),
            template=outreach.template,
            mailbox=outreach.mailbox,
            domain="runner-blog.example",
            to_email="z@runner-blog.example",
        )
    sequences.stop_sequence(sequence, reason="manual")
    assert attempt(outreach, outreach.prospect).started


def test_starting_for_many_prospects_takes_a_fixed_number_of_queries(
    outreach, django_assert_max_num_queries
):
    few = [outreach.prospect_on(f"few{n}.example") for n in range(3)]
    many = [outreach.prospect_on(f"many{n}.example") for n in range(30)]
    with django_assert_max_num_queries(12):
        assert len(attempt(outreach, *few).started) == 3
    with django_assert_max_num_queries(12):
        assert len(attempt(outreach, *many).started) == 30
    assert ScheduledEmail.objects.count() == 33 * 3


def test_archived_and_foreign_templates_are_refused(outreach, other_campaign):
    from django.core.exceptions import ValidationError

    archived = EmailTemplateFactory(campaign=outreach.campaign, is_archived=True)
    foreign = EmailTemplateFactory(campaign=other_campaign)
    for template in (archived, foreign):
        with pytest.raises(ValidationError, match="Choose one of this campaign's templates"):
            attempt(outreach, outreach.prospect, template=template)


# --- templates and the do-not-contact list, as managers and admins write them ----------


def test_a_template_with_an_unknown_field_is_refused(outreach):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        configuration.save_template(
            outreach.campaign,
            template=None,
            name="Bad",
            subject="Hi {{ prospect.campaign.owner.password }}",
            body="Hi {{first name}}",
            follow_ups=[(3, "{% load x %}")],
            by=None,
        )
    errors = caught.value.message_dict
    assert "is not a merge field" in errors["subject"][0]
    assert "is not a merge field" in errors["body"][0]
    assert "is not a merge field" in errors["follow_up_1"][0]


def test_follow_ups_must_come_in_order(outreach):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="later than the one before"):
        configuration.save_template(
            outreach.campaign,
            template=None,
            name="Backwards",
            subject="S",
            body="B",
            follow_ups=[(7, "a"), (3, "b")],
            by=None,
        )


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Jo@Runner-Blog.example ", "email", "jo@runner-blog.example"),
        ("https://www.BigMedia.example/about", "domain", "bigmedia.example"),
        ("bigmedia.example", "domain", "bigmedia.example"),
        # A subdomain stays itself: it blocks that host and below, not the site.
        ("https://blog.bigmedia.co.uk/about", "domain", "blog.bigmedia.co.uk"),
    ],
)
def test_do_not_contact_entries_are_normalized(text, kind, value):
    assert configuration.parse_do_not_contact(text) == (kind, value)


@pytest.mark.parametrize("text", ["", "nothing", "@example.com", "a b.example"])
def test_do_not_contact_refuses_what_is_neither(text):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        configuration.parse_do_not_contact(text)
