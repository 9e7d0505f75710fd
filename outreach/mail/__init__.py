"""Outreach email without Django: merge fields, building and reading messages,
and the SMTP and IMAP conversations.

- ``merge.py``: the restricted ``{{ field }}`` renderer for member-written templates.
- ``message.py``: the outgoing message (threading headers) and reading an incoming
  one (reply, bounce, auto-reply, unsubscribe).
- ``transport.py``: SMTP sending in explicit steps (so the caller can record the
  moment before DATA) and the IMAP calls (new mail since a UID, a Message-ID in the
  Sent folder), each with a timeout.

The Django side lives in ``outreach.sending`` (sequences, safety rules, claims)
and ``outreach.replies`` (polling).
"""
