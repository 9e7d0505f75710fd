"""The outreach email pages: templates, the prospect's email panel (preview, start,
stop, settle), the bulk start, mailboxes, the do-not-contact list and the stats."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import crypto
from outreach.email import sending, sequences
from outreach.email.models import (
    DoNotContact,
    EmailTemplate,
    InboundEmail,
    Mailbox,
    ScheduledEmail,
    Sequence,
)
from outreach.models import Status
from tests.factories import (
    DoNotContactFactory,
    EmailTemplateFactory,
    MailboxFactory,
    ProspectFactory,
    UserFactory,
)

HTMX = {"HX-Request": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


def detail_url(prospect) -> str:
    return reverse("outreach:prospect_detail", args=[prospect.campaign.slug, prospect.pk])


def start_url(prospect) -> str:
    return reverse("outreach:email_start", args=[prospect.campaign.slug, prospect.pk])


def preview_url(prospect) -> str:
    return reverse("outreach:email_preview", args=[prospect.campaign.slug, prospect.pk])


def started(outreach, prospect=None):
    (sequence,) = sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[(prospect or outreach.prospect).pk],
        template=outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    ).started
    return sequence


# --- templates ----------------------------------------------------------------------


def test_members_see_templates_but_cannot_write_them(signed_in, campaign):
    EmailTemplateFactory(campaign=campaign, name="Guide pitch")
    response = signed_in.get(reverse("outreach:email_templates", args=[campaign.slug]))
    assert b"Guide pitch" in response.content
    assert b"New template" not in response.content
    assert b"Edit<span" not in response.content


def test_the_empty_template_list_says_what_to_do(signed_in, as_manager, campaign):
    url = reverse("outreach:email_templates", args=[campaign.slug])
    response = as_manager.get(url)
    assert b"No email templates yet." in response.content
    assert b"Write the first one" in response.content


@pytest.mark.parametrize("rows", [3, 30])
def test_template_list_queries_do_not_grow(
    as_manager, campaign, rows, django_assert_max_num_queries
):
    EmailTemplateFactory.create_batch(rows, campaign=campaign)
    with django_assert_max_num_queries(6):
        response = as_manager.get(reverse("outreach:email_templates", args=[campaign.slug]))
    assert len(response.context["page"].object_list) == rows


def test_a_manager_writes_a_template_with_follow_ups(as_manager, campaign, manager):
    url = reverse("outreach:email_template_create", args=[campaign.slug])
    form = as_manager.get(url)
    assert b"floating this back up" in form.content  # follow-ups offered by default
    response = as_manager.post(
        url,
        {
            "name": "Resource pitch",
            "subject": "A resource for {{ site }}",
            "body": "Hi {{ first_name }}",
            "follow_up_1_days": "4",
            "follow_up_1": "Bump, {{ first_name }}",
            "follow_up_2_days": "9",
            "follow_up_2": "Last one",
            "follow_up_3_days": "",
            "follow_up_3": "",
        },
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get(name="Resource pitch")
    assert template.created_by == manager
    assert list(template.follow_ups.values_list("delay_days", "body")) == [
        (4, "Bump, {{ first_name }}"),
        (9, "Last one"),
    ]


def test_a_template_with_a_bad_field_shows_which(as_manager, campaign):
    url = reverse("outreach:email_template_create", args=[campaign.slug])
    response = as_manager.post(
        url, {"name": "Bad", "subject": "Hi {{ firstname }}", "body": "Hi {{ site }}"}
    )
    assert response.status_code == 400
    assert "Unknown merge field {{ firstname }}" in response.content.decode()
    assert not EmailTemplate.objects.exists()


def test_a_follow_up_without_days_is_refused(as_manager, campaign):
    url = reverse("outreach:email_template_create", args=[campaign.slug])
    response = as_manager.post(
        url, {"name": "T", "subject": "S", "body": "B", "follow_up_1": "Bump"}
    )
    assert response.status_code == 400
    assert b"Say how many days after the pitch." in response.content


def test_editing_replaces_follow_ups_and_can_archive(as_manager, campaign):
    template = EmailTemplateFactory(campaign=campaign, name="Old")
    url = reverse("outreach:email_template_edit", args=[campaign.slug, template.pk])
    assert b"floating this back up" in as_manager.get(url).content
    response = as_manager.post(
        url, {"name": "New", "subject": "S", "body": "B", "is_archived": "on"}
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.is_archived, template.follow_ups.count()) == ("New", True, 0)


# --- the prospect's email panel -------------------------------------------------------


def test_the_panel_says_when_there_is_no_template(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign)
    response = signed_in.get(detail_url(prospect))
    assert b"This campaign has no email templates yet." in response.content
    assert b"Ask a manager to write one" in response.content


def test_the_panel_says_when_there_is_no_mailbox(signed_in, campaign):
    EmailTemplateFactory(campaign=campaign)
    response = signed_in.get(detail_url(ProspectFactory(campaign=campaign)))
    assert b"No mailbox may send for this campaign yet." in response.content


def test_preview_shows_the_emails_as_the_prospect_gets_them(signed_in, outreach):
    response = signed_in.get(
        preview_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("email-preview"),
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="email-preview"')
    assert "A resource for runner-blog.example" in text
    assert "Hi Jo," in text
    assert "Would https://ours.example/guide/ help?" in text
    assert "Follow-up 2</strong>, 7 days after the pitch" in text
    assert "Start sequence" in text


def test_preview_names_a_missing_field_and_offers_no_start(signed_in, outreach):
    nameless = outreach.prospect_on("quiet.example", contact_name="")
    response = signed_in.get(
        preview_url(nameless),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("email-preview"),
    )
    text = response.content.decode()
    assert "No value for {{ first_name }}" in text
    assert "Start sequence" not in text


def test_preview_shows_the_safety_reasons(signed_in, outreach):
    DoNotContactFactory(kind="domain", value="runner-blog.example")
    response = signed_in.get(
        preview_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("email-preview"),
    )
    text = response.content.decode()
    assert "runner-blog.example is on the do-not-contact list" in text
    assert "Start sequence" not in text


def test_preview_without_htmx_is_a_whole_page(signed_in, outreach):
    response = signed_in.get(
        preview_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
    )
    assert b"<html" in response.content
    assert b"Hi Jo," in response.content


def test_preview_of_another_campaigns_template_is_refused(signed_in, outreach, other_campaign):
    theirs = EmailTemplateFactory(campaign=other_campaign)
    response = signed_in.get(
        preview_url(outreach.prospect),
        {"template": theirs.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("email-preview"),
    )
    assert b"Choose one of the listed templates" in response.content


def test_starting_from_the_panel(signed_in, outreach, member):
    response = signed_in.post(
        start_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("prospect-email"),
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<section id="prospect-email"')
    assert "Sequence started." in text
    sequence = Sequence.objects.get()
    assert (sequence.prospect, sequence.started_by) == (outreach.prospect, member)
    assert "Stop this sequence" in text


def test_a_blocked_start_shows_the_reasons(signed_in, outreach):
    DoNotContactFactory(value="jo@runner-blog.example")
    response = signed_in.post(
        start_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("prospect-email"),
    )
    text = response.content.decode()
    assert "Not started:" in text
    assert "jo@runner-blog.example is on the do-not-contact list" in text
    assert not Sequence.objects.exists()


def test_starting_without_htmx_redirects_with_a_message(signed_in, outreach):
    response = signed_in.post(
        start_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail_url(outreach.prospect)
    assert b"Sequence started." in response.content


def test_stopping_from_the_panel(signed_in, outreach):
    sequence = started(outreach)
    url = reverse("outreach:sequence_stop", args=[outreach.campaign.slug, sequence.pk])
    response = signed_in.post(url, headers=htmx("prospect-email"))
    assert b"Sequence stopped: nothing more will be sent." in response.content
    sequence.refresh_from_db()
    assert (sequence.state, sequence.stop_reason) == ("stopped", "manual")


def test_an_uncertain_email_is_settled_from_the_panel(signed_in, outreach):
    sequence = started(outreach)
    pitch = sequence.emails.get(step=0)
    ScheduledEmail.objects.filter(pk=pitch.pk).update(state="uncertain")
    page = signed_in.get(detail_url(outreach.prospect)).content.decode()
    assert "Sending was interrupted." in page
    url = reverse("outreach:email_resolve", args=[outreach.campaign.slug, pitch.pk])
    response = signed_in.post(url, {"was_sent": "yes"}, headers=htmx("prospect-email"))
    assert b"Recorded as sent." in response.content
    pitch.refresh_from_db()
    assert pitch.state == "sent"


def test_a_bounced_contact_can_be_cleared_after_fixing(signed_in, outreach):
    outreach.prospect.contact_invalid_at = timezone.now()
    outreach.prospect.save()
    page = signed_in.get(detail_url(outreach.prospect)).content.decode()
    assert "No email goes to it until the address is fixed." in page
    url = reverse("outreach:contact_valid", args=[outreach.campaign.slug, outreach.prospect.pk])
    signed_in.post(url, headers=htmx("prospect-email"))
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.contact_invalid_at is None


@pytest.mark.parametrize("rows", [2, 12])
def test_prospect_page_queries_do_not_grow_with_sequences(
    signed_in, outreach, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        sequences.stop_sequence(started(outreach), reason="manual")
    with django_assert_max_num_queries(12):
        response = signed_in.get(detail_url(outreach.prospect))
    assert len(response.context["email"]["sequences"]) == min(rows, 5)


# --- bulk start from the prospect list --------------------------------------------------


def test_bulk_start_reports_started_and_skipped(signed_in, outreach):
    fine = outreach.prospect_on("fine.example")
    listed = outreach.prospect_on("listed.example")
    DoNotContactFactory(kind="domain", value="listed.example")
    response = signed_in.post(
        reverse("outreach:prospect_bulk", args=[outreach.campaign.slug]),
        {
            "bulk-ids": [fine.pk, listed.pk],
            "bulk-action": "sequence",
            "bulk-template": outreach.template.pk,
            "bulk-mailbox": outreach.mailbox.pk,
        },
        headers=htmx("prospect-table"),
    )
    text = response.content.decode()
    assert (
        "Started 1 sequence with “Guide pitch”. Skipped 1: listed.example: listed.example is on"
        in text
    )
    assert Sequence.objects.get().prospect == fine


def test_bulk_start_with_nothing_startable_is_an_error(signed_in, outreach):
    response = signed_in.post(
        reverse("outreach:prospect_bulk", args=[outreach.campaign.slug]),
        {
            "bulk-ids": [outreach.prospect_on("quiet.example", contact_email="").pk],
            "bulk-action": "sequence",
            "bulk-template": outreach.template.pk,
            "bulk-mailbox": outreach.mailbox.pk,
        },
        headers=htmx("prospect-table"),
    )
    assert b'class="message error"' in response.content
    assert b"No contact email" in response.content


def test_the_bulk_bar_offers_the_templates(signed_in, outreach):
    response = signed_in.get(reverse("outreach:prospect_list", args=[outreach.campaign.slug]))
    assert b'<option value="%d">Guide pitch</option>' % outreach.template.pk in response.content


# --- mailboxes --------------------------------------------------------------------------


MAILBOX_FORM = {
    "name": "Outreach",
    "from_name": "Mia Chen",
    "email": "Mia@Agency.example",
    "is_active": "on",
    "daily_limit": 40,
    "window_start": "09:00",
    "window_end": "17:00",
    "time_zone": "Europe/Berlin",
    "smtp_host": "smtp.agency.example",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_username": "mia@agency.example",
    "smtp_password_new": "hunter2-smtp",
    "imap_host": "imap.agency.example",
    "imap_port": 993,
    "imap_security": "ssl",
    "sent_folder": "Sent",
}


def test_an_admin_adds_a_mailbox_with_an_encrypted_password(as_admin, campaign):
    response = as_admin.post(
        reverse("outreach:mailbox_create"), {**MAILBOX_FORM, "campaigns": [campaign.pk]}
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.email == "mia@agency.example"
    assert "hunter2" not in mailbox.smtp_password
    assert crypto.decrypt(mailbox.smtp_password) == "hunter2-smtp"
    assert list(mailbox.campaigns.all()) == [campaign]
    page = as_admin.get(reverse("outreach:mailbox_edit", args=[mailbox.pk])).content.decode()
    assert "hunter2" not in page
    assert mailbox.smtp_password not in page
    assert "A password is stored." in page


def test_an_empty_password_box_keeps_the_stored_one(as_admin):
    mailbox = MailboxFactory(passwords={"smtp": "kept"})
    form = {**MAILBOX_FORM, "smtp_password_new": ""}
    as_admin.post(reverse("outreach:mailbox_edit", args=[mailbox.pk]), form)
    mailbox.refresh_from_db()
    assert crypto.decrypt(mailbox.smtp_password) == "kept"


def test_a_password_from_the_environment_replaces_the_stored_one(as_admin, monkeypatch):
    mailbox = MailboxFactory(passwords={"smtp": "old"})
    form = {
        **MAILBOX_FORM,
        "smtp_password_new": "",
        "smtp_password_env": "ANCHORAGE_SECRET_MAILBOX_PASSWORD",
    }
    as_admin.post(reverse("outreach:mailbox_edit", args=[mailbox.pk]), form)
    mailbox.refresh_from_db()
    assert mailbox.smtp_password == ""
    monkeypatch.setenv("ANCHORAGE_SECRET_MAILBOX_PASSWORD", "from-env")
    assert mailbox.smtp_server().password == "from-env"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
        ({"smtp_password_env": "lower-case"}, "cannot hold a mailbox password"),
        ({"window_end": "09:00"}, "must not start and end at the same time"),
        ({"daily_limit": 0}, "greater than or equal to 1"),
    ],
)
def test_mailbox_mistakes_are_explained(as_admin, change, error):
    response = as_admin.post(reverse("outreach:mailbox_create"), {**MAILBOX_FORM, **change})
    assert response.status_code == 400
    assert error in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_mailbox_list_queries_do_not_grow(as_admin, rows, django_assert_max_num_queries):
    MailboxFactory.create_batch(rows)
    with django_assert_max_num_queries(6):
        response = as_admin.get(reverse("outreach:mailbox_list"))
    assert len(response.context["page"].object_list) == rows


def test_the_empty_mailbox_list_says_what_to_do(as_admin):
    response = as_admin.get(reverse("outreach:mailbox_list"))
    assert b"No mailboxes yet." in response.content


# --- do not contact -----------------------------------------------------------------------


def test_an_admin_adds_searches_and_removes_entries(as_admin, admin_user):
    url = reverse("outreach:do_not_contact")
    as_admin.post(url, {"value": "https://www.BigMedia.example/", "reason": "Legal asked"})
    entry = DoNotContact.objects.get()
    assert (entry.kind, entry.value, entry.added_by) == ("domain", "bigmedia.example", admin_user)
    response = as_admin.post(url, {"value": "bigmedia.example"}, follow=True)
    assert b"bigmedia.example was already on the list." in response.content
    assert b"bigmedia.example" in as_admin.get(url, {"q": "media"}).content
    assert b"Nothing on the list matches" in as_admin.get(url, {"q": "zzz"}).content
    as_admin.post(reverse("outreach:do_not_contact_delete", args=[entry.pk]))
    assert not DoNotContact.objects.exists()


def test_a_bad_entry_is_explained(as_admin):
    response = as_admin.post(reverse("outreach:do_not_contact"), {"value": "not a thing"})
    assert response.status_code == 400
    assert "is neither an email address nor a domain" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_do_not_contact_list_queries_do_not_grow(as_admin, rows, django_assert_max_num_queries):
    DoNotContactFactory.create_batch(rows, added_by=UserFactory())
    with django_assert_max_num_queries(6):
        response = as_admin.get(reverse("outreach:do_not_contact"))
    assert len(response.context["page"].object_list) == rows


# --- stats --------------------------------------------------------------------------------


def test_stats_per_template_and_member(as_manager, outreach, member):
    other_member = UserFactory(username="sam")
    second = EmailTemplateFactory(campaign=outreach.campaign, name="Second pitch", follow_ups=[])
    prospects = [outreach.prospect_on(f"site{n}.example") for n in range(4)]
    for prospect, template, by in [
        (prospects[0], outreach.template, member),
        (prospects[1], outreach.template, member),
        (prospects[2], second, other_member),
        (prospects[3], second, other_member),
    ]:
        sequences.start_sequences(
            outreach.campaign,
            prospect_ids=[prospect.pk],
            template=template,
            mailbox=outreach.mailbox,
            by=by,
        )
    for claim in sending.claim_due():
        sending.send(claim)
    replied = Sequence.objects.get(prospect=prospects[0])
    sequences.stop_sequence(replied, reason="replied")
    InboundEmail.objects.create(
        mailbox=outreach.mailbox, uidvalidity=1, uid=1, kind="reply", sequence=replied
    )
    type(prospects[2]).objects.filter(pk=prospects[2].pk).update(status=Status.WON)
    sequences.stop_sequence(Sequence.objects.get(prospect=prospects[2]), reason="manual")

    response = as_manager.get(reverse("outreach:outreach_stats", args=[outreach.campaign.slug]))
    stats = response.context["stats"]
    by_template = {row["template__name"]: row for row in stats["by_template"]}
    guide, other = by_template["Guide pitch"], by_template["Second pitch"]
    assert (guide["emails_sent"], guide["open"], guide["contacted"]) == (2, 1, 2)
    assert (guide["reply_rate"], guide["win_rate"]) == (50.0, 0.0)
    # Its template has no follow-ups: both sequences finished with the pitch.
    assert (other["emails_sent"], other["open"], other["reply_rate"], other["win_rate"]) == (
        2,
        0,
        0.0,
        50.0,
    )
    by_member = {row["started_by__username"]: row for row in stats["by_member"]}
    assert by_member["member"]["reply_rate"] == 50.0
    assert by_member["sam"]["win_rate"] == 50.0
    totals = stats["totals"]
    assert (totals["emails_sent"], totals["open"], totals["reply_rate"], totals["win_rate"]) == (
        4,
        1,
        25.0,
        25.0,
    )
    text = response.content.decode()
    assert "<strong>4</strong> emails sent" in text
    assert "<strong>25 %</strong> replied" in text


def test_stats_without_sent_email_say_so(as_manager, campaign):
    response = as_manager.get(reverse("outreach:outreach_stats", args=[campaign.slug]))
    assert b"No outreach email sent in this campaign yet." in response.content


def test_stats_partial_for_htmx(as_manager, campaign):
    response = as_manager.get(
        reverse("outreach:outreach_stats", args=[campaign.slug]), headers=htmx("outreach-stats")
    )
    assert response.content.lstrip().startswith(b'<section id="outreach-stats"')


@pytest.mark.parametrize("rows", [3, 30])
def test_stats_queries_do_not_grow(as_manager, outreach, rows, django_assert_max_num_queries):
    prospects = [outreach.prospect_on(f"s{n}.example") for n in range(rows)]
    sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[p.pk for p in prospects],
        template=outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    )
    ScheduledEmail.objects.filter(step=0).update(state="sent", sent_at=timezone.now())
    # session, user, campaign, the nav's alert count, and the three tables
    with django_assert_max_num_queries(7):
        response = as_manager.get(reverse("outreach:outreach_stats", args=[outreach.campaign.slug]))
    assert response.context["stats"]["totals"]["emails_sent"] == rows


@pytest.mark.parametrize(
    "model",
    ["emailtemplate", "mailbox", "donotcontact", "sequence", "scheduledemail", "inboundemail"],
)
def test_the_django_admin_lists_outreach_email_rows(as_admin, outreach, model):
    started(outreach)
    DoNotContactFactory()
    response = as_admin.get(reverse(f"admin:outreach_{model}_changelist"))
    assert response.status_code == 200
    mailbox_page = as_admin.get(
        reverse("admin:outreach_mailbox_change", args=[outreach.mailbox.pk])
    )
    assert b"smtp_password" not in mailbox_page.content.replace(b"smtp_password_env", b"")


def test_starting_outside_the_sending_hours_says_when_it_goes(signed_in, outreach):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(
        window_start=(now + timedelta(hours=2)).time().replace(microsecond=0),
        window_end=(now + timedelta(hours=3)).time().replace(microsecond=0),
        time_zone="UTC",
    )
    response = signed_in.post(
        start_url(outreach.prospect),
        {"template": outreach.template.pk, "mailbox": outreach.mailbox.pk},
        headers=htmx("prospect-email"),
    )
    text = response.content.decode().replace("&#x27;", "'")
    assert "The pitch goes out when mia@agency.example's sending hours begin" in text


def test_the_campaign_dashboard_loads_the_outreach_figures(as_manager, campaign):
    response = as_manager.get(reverse("campaigns:dashboard", args=[campaign.slug]))
    url = reverse("outreach:outreach_stats", args=[campaign.slug])
    assert f'<div id="outreach-stats" hx-get="{url}" hx-trigger="load"' in response.content.decode()
