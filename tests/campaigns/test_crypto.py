from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from campaigns import crypto
from outreach.email.models import Mailbox
from outreach.journalist_queries.models import Mailbox as InboxMailbox
from tests.factories import MailboxFactory

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()


def test_the_first_key_encrypts_and_any_key_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = OLD
    token = crypto.encrypt("hunter2")
    settings.FIELD_ENCRYPTION_KEY = f"{NEW}, {OLD}"
    assert crypto.decrypt(token) == "hunter2"
    fresh = crypto.encrypt("hunter2")
    settings.FIELD_ENCRYPTION_KEY = NEW
    assert crypto.decrypt(fresh) == "hunter2"
    with pytest.raises(crypto.UndecryptableSecret):
        crypto.decrypt(token)


def test_a_secret_stored_before_a_key_was_set_still_opens(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    token = crypto.encrypt("hunter2")  # with the key derived from SECRET_KEY
    settings.FIELD_ENCRYPTION_KEY = NEW
    assert crypto.decrypt(token) == "hunter2"
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(crypto.UndecryptableSecret):
        crypto.decrypt(token)


def test_a_bad_key_in_the_list_is_named(settings):
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},not-a-key"
    with pytest.raises(ImproperlyConfigured, match="key 2 of 2"):
        crypto.encrypt("x")


def test_rotate_encryption_key_re_encrypts_every_stored_secret(db, settings, capsys):
    settings.FIELD_ENCRYPTION_KEY = OLD
    sender = MailboxFactory(passwords={"smtp": "smtp-pass", "imap": "imap-pass"})
    inbox = InboxMailbox(name="HARO", host="127.0.0.1", username="me")
    inbox.set_password("inbox-pass")
    inbox.save()
    settings.FIELD_ENCRYPTION_KEY = OTHER
    lost = MailboxFactory(passwords={"smtp": "forgotten"})  # under a key nobody has now

    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    with pytest.raises(SystemExit) as exit_status:
        call_command("rotate_encryption_key")
    assert exit_status.value.code == 1
    output = capsys.readouterr()
    assert "re-encrypted 3 secret(s)" in output.out
    assert f"outreach.Mailbox {lost.pk} smtp_password" in output.err

    settings.FIELD_ENCRYPTION_KEY = NEW  # the old key is gone
    sender = Mailbox.objects.get(pk=sender.pk)
    assert crypto.decrypt(sender.smtp_password) == "smtp-pass"
    assert crypto.decrypt(sender.imap_password) == "imap-pass"
    assert InboxMailbox.objects.get(pk=inbox.pk).get_password() == "inbox-pass"
    settings.FIELD_ENCRYPTION_KEY = OTHER
    assert (
        crypto.decrypt(Mailbox.objects.get(pk=lost.pk).smtp_password) == "forgotten"
    )  # left unchanged


def test_running_it_again_is_harmless(db, settings, capsys):
    settings.FIELD_ENCRYPTION_KEY = NEW
    sender = MailboxFactory(passwords={"smtp": "smtp-pass"})
    call_command("rotate_encryption_key")
    call_command("rotate_encryption_key")
    assert capsys.readouterr().out.count("re-encrypted 1 secret(s)") == 2
    assert crypto.decrypt(Mailbox.objects.get(pk=sender.pk).smtp_password) == "smtp-pass"
