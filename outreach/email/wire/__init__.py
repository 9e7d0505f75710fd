"""Outreach email without Django: merge fields, building and reading messages,
and the SMTP and IMAP conversations.

- ``merge.py``: the restricted ``{{ field }}`` renderer for member-written templates.
- ``message.py``: the outgoing message (threading headers) and reading an incoming
  one (reply, bounce, auto-reply, unsubscribe).
- ``transport.py``: the private-address guard for mail servers, and SMTP sending
  in explicit steps (so the caller can record the moment before DATA).
- ``imap.py``: the one IMAP client (new mail since a UID, a Message-ID in the Sent
  folder), used by reply polling, crash recovery and the journalist-query reader.
- ``secrets.py``: which environment variables a mailbox password may come from.

The Django side is the rest of ``outreach.email``.
"""
