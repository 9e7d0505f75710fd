"""The inbox's services against the real PostgreSQL and a real IMAP server
(Dovecot on loopback, tests/support/imap.py)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from campaigns.crypto import UndecryptableSecret, decrypt, encrypt
from outreach.journalist_queries import services, tasks
from outreach.journalist_queries.models import Digest, JournalistQuery, Mailbox, QueryProspect
from outreach.models import Kind, StatusChange
from tests.factories import JournalistQueryFactory, TargetPageFactory

from .samples import HARO_TEXT, haro_email, newsletter_email, qwoted_email, sourcebottle_email

pytestmark = pytest.mark.django_db


def mailbox_for(server, **overrides) -> Mailbox:
    fields = {
        "name": "Digests",
        "host": server.host,
        "port": server.port,
        "security": Mailbox.Security.NONE,
        "username": server.user,
    }
    fields.update(overrides)
    mailbox = Mailbox(**fields)
    mailbox.set_password(server.password)
    mailbox.save()
    return mailbox


# -- ingest --------------------------------------------------------------------------------------


def test_pasted_digest_becomes_queries_and_a_second_paste_adds_none(member):
    first = services.ingest_pasted(HARO_TEXT, subject="HARO", by=member)
    assert (first.created, first.duplicates) == (3, 0)
    again = services.ingest_pasted(HARO_TEXT, by=member)
    assert (again.created, again.duplicates) == (0, 3)
    assert JournalistQuery.objects.count() == 3
    assert Digest.objects.filter(created_by=member, source="paste").count() == 2


def test_an_email_read_twice_is_one_digest():
    raw = haro_email(message_id="<same@digests.test>")
    assert services.ingest_email(raw).created == 3
    assert services.ingest_email(raw).already_read
    assert Digest.objects.count() == 1


def test_an_unparseable_email_is_kept_as_one_query():
    result = services.ingest_email(newsletter_email())
    assert result.created == 1
    query = JournalistQuery.objects.get()
    assert query.unparsed
    assert "community sports clubs" in query.query_text


def test_empty_paste_is_refused(member):
    with pytest.raises(ValidationError, match="Paste"):
        services.ingest_pasted("  ", by=member)


# -- IMAP ----------------------------------------------------------------------------------------


def test_poll_reads_new_mail_from_the_mailbox(imap_mailbox):
    imap_mailbox.deliver(haro_email())
    imap_mailbox.deliver(qwoted_email())
    mailbox = mailbox_for(imap_mailbox)
    assert services.poll_mailbox(mailbox) == 5
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert mailbox.last_polled_at is not None
    # The session's Dovecot numbers on from earlier tests' mail: the last UID read
    # is the newest message's, whatever it is.
    client = imap_mailbox.connect()
    client.select("INBOX", readonly=True)
    _, found = client.uid("SEARCH", "ALL")
    client.logout()
    assert len(found[0].split()) == 2
    assert mailbox.last_uid == max(int(uid) for uid in found[0].split())
    assert set(JournalistQuery.objects.values_list("service", flat=True)) == {"haro", "qwoted"}

    # Only mail that arrived since is read on the next poll.
    imap_mailbox.deliver(sourcebottle_email())
    assert services.poll_mailbox(mailbox) == 1
    assert services.poll_mailbox(mailbox) == 0
    assert Digest.objects.count() == 3


def test_poll_leaves_the_mail_unread_for_people(imap_mailbox):
    imap_mailbox.deliver(haro_email())
    services.poll_mailbox(mailbox_for(imap_mailbox))
    client = imap_mailbox.connect()
    client.select("INBOX")
    _, unseen = client.search(None, "UNSEEN")
    client.logout()
    assert unseen[0].split() == [b"1"]


def test_poll_reads_another_folder(imap_mailbox):
    imap_mailbox.deliver(sourcebottle_email(), mailbox="Press")
    assert services.poll_mailbox(mailbox_for(imap_mailbox, folder="Press")) == 1


def test_the_beat_task_polls_every_enabled_mailbox(imap_mailbox):
    imap_mailbox.deliver(haro_email())
    mailbox_for(imap_mailbox)
    mailbox_for(imap_mailbox, name="Off", enabled=False, folder="Nowhere")
    assert tasks.poll_query_mailboxes() == 3


def test_the_tasks_old_name_still_reads_the_mailboxes(imap_mailbox):
    """A message queued as outreach.inbox.tasks.poll_mailboxes before the rename
    does the same work."""
    from config.celery import app

    imap_mailbox.deliver(haro_email())
    mailbox_for(imap_mailbox)
    # The task closes its connection when done, so its return value (the new
    # queries) is the evidence.
    assert app.tasks["outreach.inbox.tasks.poll_mailboxes"]() == 3


def test_a_wrong_password_is_recorded_not_raised(imap_mailbox):
    mailbox = mailbox_for(imap_mailbox)
    mailbox.set_password("wrong")
    mailbox.save()
    assert services.poll_mailbox(mailbox) == 0
    mailbox.refresh_from_db()
    assert "refused the login of digests" in mailbox.last_error


def test_a_closed_port_is_recorded(imap_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailbox = mailbox_for(imap_server, port=port)
    services.poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert "refused the connection" in mailbox.last_error


def test_password_from_the_environment(imap_mailbox, monkeypatch):
    imap_mailbox.deliver(haro_email())
    mailbox = mailbox_for(imap_mailbox, password_env="ANCHORAGE_SECRET_DIGEST_IMAP")
    mailbox.password_encrypted = ""
    mailbox.save()
    monkeypatch.setenv("ANCHORAGE_SECRET_DIGEST_IMAP", imap_mailbox.password)
    assert services.poll_mailbox(mailbox) == 3


def test_a_missing_password_says_so(imap_server):
    mailbox = mailbox_for(imap_server, password_env="ANCHORAGE_SECRET_UNSET_VARIABLE")
    services.poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert "No password" in mailbox.last_error


# -- encryption -----------------------------------------------------------------------------------


def test_password_is_stored_encrypted(imap_server):
    mailbox = mailbox_for(imap_server)
    stored = Mailbox.objects.values_list("password_encrypted", flat=True).get(pk=mailbox.pk)
    assert imap_server.password not in stored
    assert Mailbox.objects.get(pk=mailbox.pk).get_password() == imap_server.password


def test_dedicated_key_and_key_change(settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = encrypt("hunter2")
    assert decrypt(token) == "hunter2"
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(UndecryptableSecret, match="enter it again"):
        decrypt(token)


def test_without_a_dedicated_key_the_secret_key_derives_it(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    token = encrypt("hunter2")
    assert decrypt(token) == "hunter2"
    settings.SECRET_KEY = "another secret key"
    with pytest.raises(UndecryptableSecret):
        decrypt(token)


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")


# -- keywords and prospects --------------------------------------------------------------------


def test_campaign_keywords_come_from_its_target_pages(campaign):
    # Explicit URLs: pages come in (priority, url) order, and the factory's
    # numbered URLs sort differently once the counter passes a power of ten.
    TargetPageFactory(
        campaign=campaign, url="https://ours.example/a/", keywords="Trail Running, running shoes"
    )
    TargetPageFactory(
        campaign=campaign, url="https://ours.example/b/", keywords="running shoes, marathon"
    )
    assert services.campaign_keywords(campaign) == ["trail running", "running shoes", "marathon"]


def test_matching_queries(campaign):
    TargetPageFactory(campaign=campaign, keywords="trail running")
    hit = JournalistQueryFactory(title="Trail running for beginners")
    JournalistQueryFactory(title="Budgeting apps", query_text="Which apps?")
    keywords = services.campaign_keywords(campaign)
    matching = JournalistQuery.objects.filter(services.matching_filter(keywords))
    assert list(matching) == [hit]
    assert services.matched_keywords(hit, keywords) == ["trail running"]


def test_a_query_becomes_a_haro_prospect_with_its_deadline(campaign, member):
    services.ingest_email(haro_email())
    query = JournalistQuery.objects.get(title="Trail running shoes for beginners")
    prospect = services.make_prospect(query, campaign=campaign, by=member)
    assert prospect.kind == Kind.HARO
    assert prospect.deadline == query.deadline
    assert prospect.outlet == "Runner's Weekly"
    assert prospect.contact_email == "query-a1b2@helpareporter.net"
    assert "Requirements: Running coaches" in prospect.query_text
    assert prospect.url.startswith("https://www.helpareporter.com/?journalist-query=")
    assert StatusChange.objects.filter(prospect=prospect, changed_by=member).exists()
    # Twice is once.
    assert services.make_prospect(query, campaign=campaign, by=member) == prospect
    assert QueryProspect.objects.count() == 1


def test_a_query_with_a_pitch_link_uses_it_as_the_page(campaign, member):
    services.ingest_email(qwoted_email())
    query = JournalistQuery.objects.get(outlet="Outdoor Today")
    prospect = services.make_prospect(query, campaign=campaign, by=member)
    assert prospect.url == "https://app.qwoted.com/opportunities/98765"


def test_two_queries_of_one_outlet_are_two_prospects(campaign, member):
    first = JournalistQueryFactory(contact_email="desk@runnersweekly.example")
    second = JournalistQueryFactory(contact_email="desk@runnersweekly.example")
    one = services.make_prospect(first, campaign=campaign, by=member)
    two = services.make_prospect(second, campaign=campaign, by=member)
    assert one.pk != two.pk
    assert one.domain == two.domain == "runnersweekly.example"


def test_inbox_hides_passed_deadlines_unless_asked():
    upcoming = JournalistQueryFactory()
    passed = JournalistQueryFactory(deadline=timezone.now() - timedelta(hours=1))
    undated = JournalistQueryFactory(deadline=None)
    assert set(services.inbox_queries()) == {upcoming, undated}
    assert set(services.inbox_queries(include_past=True)) == {upcoming, passed, undated}
    services.dismiss(upcoming)
    assert set(services.inbox_queries()) == {undated}


def test_a_query_prospect_is_assigned_and_its_deadline_is_on_my_day(campaign, member):
    from campaigns.models import Campaign
    from outreach.queries import haro_deadlines

    query = JournalistQueryFactory(deadline=timezone.now() + timedelta(hours=20))
    prospect = services.make_prospect(query, campaign=campaign, by=member)
    assert prospect.assignee == member
    assert list(haro_deadlines(Campaign.objects.filter(pk=campaign.pk))) == [prospect]
