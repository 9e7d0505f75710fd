"""The Django-free mail pieces: the restricted merge renderer, building outgoing
messages, reading incoming ones, and the field encryption."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns import crypto
from outreach.email.wire import merge, message

VALUES = {"first_name": "Jo", "site": "runner-blog.example", "fee": ""}


# --- merge --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {{ first_name }},", "Hi Jo,"),
        ("Hi {{first_name}} at {{  site  }}", "Hi Jo at runner-blog.example"),
        ('Fee: {{ fee|default:"to agree" }}', "Fee: to agree"),
        ('Hi {{ first_name | default : "there" }}', "Hi Jo"),
        ("No fields at all.", "No fields at all."),
    ],
)
def test_render_substitutes_fields(text, expected):
    assert merge.render(text, VALUES) == expected


def test_render_names_every_missing_field():
    with pytest.raises(merge.MissingValues) as caught:
        merge.render("{{ fee }} {{ contact_name }} {{ fee }}", VALUES)
    assert caught.value.names == ("fee", "contact_name")
    assert str(caught.value).startswith("No value for {{ fee }}, {{ contact_name }}:")


def test_a_blank_value_is_missing():
    with pytest.raises(merge.MissingValues):
        merge.render("Hi {{ first_name }},", {"first_name": "   "})


@pytest.mark.parametrize(
    "text",
    [
        "{{ prospect.campaign.owner.password }}",
        "{{ settings.SECRET_KEY }}",
        "{% load static %}{% debug %}",
        "{{ first_name.__class__ }}",
        "{{ first_name|upper }}",
        "Hi {{first name}}",
    ],
)
def test_nothing_beyond_plain_fields_is_accepted_or_evaluated(text):
    assert merge.problems(text)
    # Rendering leaves such text as it is: it reaches no Python object.
    assert merge.render(text, VALUES) == text


def test_unknown_fields_are_named():
    (problem,) = merge.problems("Dear {{ firstname }}")
    assert problem.startswith("Unknown merge field {{ firstname }}. Known fields: first_name,")


def test_fields_used():
    assert merge.fields_used("{{ site }} {{ first_name }} {{ site }}") == ["site", "first_name"]


# --- outgoing -----------------------------------------------------------------------


def test_build_sets_threading_and_unsubscribe_headers():
    built = message.build(
        message.Outgoing(
            from_name="Mia Chen",
            from_address="mia@agency.example",
            to_name="Jo Nováková",
            to_address="jo@runner-blog.example",
            subject="Re: Ein Gruß",
            body="Hallo Jo,\n\nnoch einmal.",
            message_id="<b@agency.example>",
            date=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
            in_reply_to="<a@agency.example>",
            references=("<a@agency.example>",),
            unsubscribe_address="mia@agency.example",
        )
    )
    raw = message.to_bytes(built)
    assert b"\r\n" in raw
    assert raw.isascii()  # non-ASCII names and subject are encoded words
    parsed = message.read(raw)
    assert parsed.subject == "Re: Ein Gruß"
    assert parsed.message_id == "<b@agency.example>"
    assert parsed.referenced_ids == ["<a@agency.example>"]
    assert built["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert built["List-Unsubscribe"] == (
        "<mailto:mia@agency.example?subject=unsubscribe%20%3Cb%40agency.example%3E>"
    )


# --- incoming -----------------------------------------------------------------------


def test_a_reply_keeps_only_what_the_person_wrote():
    raw = (
        b"From: Jo <Jo@Runner-Blog.example>\r\nSubject: Re: hi\r\n"
        b"In-Reply-To: <a@agency.example>\r\nReferences: <x@y.example> <a@agency.example>\r\n\r\n"
        b"Happy to!\r\n\r\nOn Mon, 2 Mar 2026 at 09:30, Mia Chen <mia@agency.example>\r\nwrote:\r\n"
        b"> Hi Jo, would you unsubscribe...\r\n"
    )
    parsed = message.read(raw)
    assert parsed.kind == "reply"
    assert parsed.from_address == "jo@runner-blog.example"
    assert parsed.text == "Happy to!"
    assert parsed.referenced_ids == ["<a@agency.example>", "<x@y.example>"]


@pytest.mark.parametrize(
    "body",
    [
        "Please remove me from your list.",
        "UNSUBSCRIBE",
        "Stop emailing me.",
        "Do not contact me again",
        "don't email me",
    ],
)
def test_unsubscribe_requests(body):
    raw = f"From: jo@runner-blog.example\nSubject: Re: hi\n\n{body}\n".encode()
    assert message.read(raw).kind == "unsubscribe"


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-replied\nSubject: Re: hi", "auto_reply"),
        ("Auto-Submitted: no\nSubject: Re: hi", "reply"),
        ("X-Autoreply: yes\nSubject: Re: hi", "auto_reply"),
        ("Subject: Out of Office: back Monday", "auto_reply"),
        ("Subject: Automatic reply: hi", "auto_reply"),
        ("X-Failed-Recipients: jo@runner-blog.example\nSubject: whatever", "bounce"),
        ("Subject: unsubscribe <b@agency.example>", "unsubscribe"),
    ],
)
def test_robots_are_told_apart(headers, kind):
    raw = f"From: jo@runner-blog.example\n{headers}\n\nThanks\n".encode()
    assert message.read(raw).kind == kind


def test_a_free_form_notice_nothing_recognizes_is_not_a_bounce():
    # Only a permanent failure marks an address bad: a notice from a mailer-daemon
    # that neither RFC 3464 nor the detectors can read stays a notice.
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        b"Subject: Delivery Status Notification (Failure)\n\n"
        b"Address not found\n\nYour message wasn't delivered to jo@runner-blog.example because "
        b"the address couldn't be found.\n\n----- Original message -----\n"
        b"Message-ID: <a@agency.example>\n"
    )
    parsed = message.read(raw)
    assert parsed.kind == "notice"
    assert parsed.failed_recipients == []
    assert parsed.referenced_ids == ["<a@agency.example>"]


def test_an_unparseable_date_is_none():
    assert message.read(b"From: a@b.example\nDate: yesterday-ish\n\nx").date is None


def test_a_lying_charset_does_not_stop_the_reader():
    raw = b"From: a@b.example\nContent-Type: text/plain; charset=klingon\n\nQapla\xff\n"
    assert message.read(raw).text.startswith("Qapla")


# --- encryption -----------------------------------------------------------------------


def test_secrets_round_trip_and_are_not_stored_plain(settings):
    token = crypto.encrypt("hunter2")
    assert "hunter2" not in token
    assert crypto.decrypt(token) == "hunter2"


def test_another_key_cannot_read_them(settings):
    token = crypto.encrypt("hunter2")
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(crypto.UndecryptableSecret, match="enter it again"):
        crypto.decrypt(token)


def test_a_configured_key_is_used_and_checked(settings):
    from cryptography.fernet import Fernet
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = crypto.encrypt("hunter2")
    assert Fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()) == b"hunter2"
    settings.FIELD_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.encrypt("x")


# --- one IMAP client ----------------------------------------------------------------


def test_only_the_wire_package_opens_imap_connections():
    """Replies, crash recovery and journalist queries all read mail through
    outreach/email/wire/imap.py: no other module makes an IMAP connection."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    opens = re.compile(r"\bIMAP4(?:_SSL)?\(|\.uid\(\s*[\"'](?:SEARCH|FETCH)")
    found = {
        str(path.relative_to(root))
        for app in ("outreach", "links", "campaigns", "config")
        for path in (root / app).rglob("*.py")
        if opens.search(path.read_text(encoding="utf-8"))
    }
    assert found == {"outreach/email/wire/imap.py"}


def test_both_mailbox_models_are_read_through_one_base():
    from outreach.email.models import ImapMailbox, Mailbox
    from outreach.email.wire.transport import Server
    from outreach.journalist_queries.models import Mailbox as QueryMailbox

    assert issubclass(Mailbox, ImapMailbox)
    assert issubclass(QueryMailbox, ImapMailbox)
    sending = Mailbox(imap_host="imap.example", smtp_username="mia", email="mia@agency.example")
    query = QueryMailbox(host="imap.example", username="desk")
    assert isinstance(sending.imap_server(), Server)
    assert isinstance(query.imap_server(), Server)
    assert (sending.imap_server().username, query.imap_server().username) == ("mia", "desk")
