"""The Dovecot fixture itself: a real IMAP server on loopback that tests fill."""

from __future__ import annotations

import imaplib

import pytest


def test_delivered_mail_is_in_the_mailbox_unread(imap_mailbox):
    imap_mailbox.deliver("From: desk@news.example\nSubject: Query one\n\nHello\n")
    imap_mailbox.deliver(b"From: desk@news.example\r\nSubject: Query two\r\n\r\nHi\r\n")
    client = imaplib.IMAP4(imap_mailbox.host, imap_mailbox.port)
    client.login(imap_mailbox.user, imap_mailbox.password)
    client.select("INBOX")
    _, unseen = client.search(None, "UNSEEN")
    assert len(unseen[0].split()) == 2
    _, data = client.fetch(b"1", "(RFC822)")
    assert b"Subject: Query one" in data[0][1]
    client.logout()
    assert imap_mailbox.host == "127.0.0.1"


def test_each_test_starts_with_an_empty_inbox(imap_mailbox):
    client = imap_mailbox.connect()
    status, count = client.select("INBOX")
    client.logout()
    assert (status, count) == ("OK", [b"0"])


def test_other_mailboxes_are_created_on_delivery(imap_mailbox):
    imap_mailbox.deliver("Subject: filed\n\nx\n", mailbox="Digests")
    client = imap_mailbox.connect()
    assert client.select("Digests") == ("OK", [b"1"])
    client.logout()


def test_a_wrong_password_is_refused(imap_server):
    client = imaplib.IMAP4(imap_server.host, imap_server.port)
    with pytest.raises(imaplib.IMAP4.error):
        client.login(imap_server.user, "wrong")
    client.logout()
