"""What a mailbox's settings cannot make the server do: read a variable of the
server's environment other than a mailbox password, or connect to a private,
loopback or link-local address (unless MAIL_ALLOW_PRIVATE_NETWORKS is on).

Against the real test servers on 127.0.0.1: a refused host must leave them
without a single connection, which the process-wide socket tripwire proves.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from outreach.email import replies, sending, sequences
from outreach.email.models import Mailbox, MailboxSecretMissing
from outreach.email.wire import secrets, transport
from outreach.journalist_queries import services as digest_services
from outreach.journalist_queries.admin import MailboxForm as DigestMailboxForm
from outreach.journalist_queries.models import Mailbox as DigestMailbox
from tests.support.site import SocketLog, _events, _events_lock


def socket_log() -> SocketLog:
    """Sockets opened from now on (the fixtures' own connections excluded)."""
    with _events_lock:
        return SocketLog(start=len(_events))


# --- password_env -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "ANCHORAGE_SECRET_", "lower"])
def test_the_prefix_is_required(name):
    with pytest.raises(secrets.SecretNameRefused, match="ANCHORAGE_SECRET_"):
        secrets.check_name(name)


def test_a_name_under_the_prefix_is_read(monkeypatch):
    monkeypatch.setenv("ANCHORAGE_SECRET_SMTP", "s3cret")
    assert secrets.from_environment("ANCHORAGE_SECRET_SMTP") == "s3cret"


def test_the_mailbox_form_refuses_a_variable_outside_the_prefix(as_admin):
    from tests.outreach.email.test_views import MAILBOX_FORM

    form = {**MAILBOX_FORM, "smtp_password_new": "", "smtp_password_env": "SECRET_KEY"}
    response = as_admin.post(reverse("outreach:mailbox_create"), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot hold a mailbox password" in page
    assert "ANCHORAGE_SECRET_" in page
    assert not Mailbox.objects.exists()


def test_the_digest_mailbox_form_refuses_it_too(db):
    form = DigestMailboxForm(
        data={
            "name": "Digests",
            "host": "imap.example.com",
            "port": 993,
            "security": "ssl",
            "username": "d",
            "password_env": "DATABASE_URL",
            "folder": "INBOX",
            "enabled": True,
        }
    )
    assert not form.is_valid()
    assert "ANCHORAGE_SECRET_" in form.errors["password_env"][0]


def test_an_old_row_naming_secret_key_cannot_send_it(outreach, settings):
    # Written before the rule (or by hand): the value is never read.
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(
        smtp_password="", smtp_password_env="SECRET_KEY"
    )
    mailbox = Mailbox.objects.get(pk=outreach.mailbox.pk)
    with pytest.raises(MailboxSecretMissing, match="ANCHORAGE_SECRET_"):
        mailbox.smtp_server()
    sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[outreach.prospect.pk],
        template=outreach.template,
        mailbox=mailbox,
        by=outreach.member,
    )
    log = socket_log()
    (claim,) = sending.claim_due()
    assert sending.send(claim) == "retry"
    assert not log.connected_to("127.0.0.1", outreach.smtp.port)
    assert outreach.smtp.logins == []
    mailbox.refresh_from_db()
    assert "cannot hold a mailbox password" in mailbox.last_send_error
    assert settings.SECRET_KEY not in mailbox.last_send_error


def test_an_old_digest_mailbox_naming_secret_key_cannot_send_it(db, imap_mailbox, settings):
    mailbox = DigestMailbox.objects.create(
        name="Digests",
        host=imap_mailbox.host,
        port=imap_mailbox.port,
        security=DigestMailbox.Security.NONE,
        username=imap_mailbox.user,
        password_env="SECRET_KEY",
    )
    log = socket_log()
    assert digest_services.poll_mailbox(mailbox) == 0
    assert not log.connected_to("127.0.0.1", imap_mailbox.port)
    mailbox.refresh_from_db()
    assert "ANCHORAGE_SECRET_" in mailbox.last_error
    assert settings.SECRET_KEY not in mailbox.last_error


# --- private addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1", "0x7f.1", "::1", "10.0.0.5", "169.254.169.254"]
)
def test_private_and_loopback_hosts_are_refused_by_default(host):
    with pytest.raises(transport.HostRefused, match="MAIL_ALLOW_PRIVATE_NETWORKS"):
        transport.checked_address(host, 25, allow_private_networks=False)


def test_the_unspecified_address_is_refused_even_when_private_is_allowed():
    with pytest.raises(transport.HostRefused):
        transport.checked_address("0.0.0.0", 25, allow_private_networks=True)


def test_a_public_address_is_allowed():
    assert transport.checked_address("192.0.43.8", 25, allow_private_networks=False) == (
        "192.0.43.8"
    )


@pytest.fixture
def due_pitch(outreach):
    sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[outreach.prospect.pk],
        template=outreach.template,
        mailbox=outreach.mailbox,
        by=outreach.member,
    )
    (claim,) = sending.claim_due()
    return claim


def test_an_smtp_host_on_loopback_is_refused_when_the_setting_is_off(outreach, due_pitch, settings):
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = False
    log = socket_log()
    assert sending.send(due_pitch) == "retry"
    assert not log.connected_to("127.0.0.1", outreach.smtp.port)
    assert outreach.smtp.messages == []
    outreach.mailbox.refresh_from_db()
    assert "not an address on the public internet" in outreach.mailbox.last_send_error


def test_an_smtp_host_on_loopback_is_reached_when_the_setting_is_on(outreach, due_pitch):
    # Written as "127.1": the connection goes to the checked 127.0.0.1, with no
    # lookup of the name in between.
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(smtp_host="127.1")
    log = socket_log()
    assert sending.send(due_pitch) == "sent"
    assert log.connected_to("127.0.0.1", outreach.smtp.port)
    assert "127.1" not in log.lookups
    assert len(outreach.smtp.messages) == 1


def test_an_imap_host_on_loopback_is_refused_when_the_setting_is_off(outreach, settings):
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = False
    log = socket_log()
    result = replies.poll(outreach.mailbox.pk)
    assert "not an address on the public internet" in result.error
    assert not log.connected_to("127.0.0.1", outreach.imap.port)


def test_an_imap_host_on_loopback_is_reached_when_the_setting_is_on(outreach):
    log = socket_log()
    result = replies.poll(outreach.mailbox.pk)
    assert result.error == ""
    assert log.connected_to("127.0.0.1", outreach.imap.port)


def test_a_digest_mailbox_on_loopback_is_refused_when_the_setting_is_off(
    db, imap_mailbox, settings
):
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = False
    mailbox = DigestMailbox(
        name="Digests",
        host="127.0.0.1",
        port=imap_mailbox.port,
        security=DigestMailbox.Security.NONE,
        username=imap_mailbox.user,
    )
    mailbox.set_password(imap_mailbox.password)
    mailbox.save()
    log = socket_log()
    digest_services.poll_mailbox(mailbox)
    assert not log.connected_to("127.0.0.1", imap_mailbox.port)
    mailbox.refresh_from_db()
    assert "not an address on the public internet" in mailbox.last_error
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = True
    digest_services.poll_mailbox(mailbox)
    assert log.connected_to("127.0.0.1", imap_mailbox.port)
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
