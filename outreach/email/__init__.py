"""Outreach email, all of it: a member starts a sequence (a pitch and its
follow-ups) for a prospect from a template; workers send it from a mailbox
within its hours and limits, read the replies, and stop it when someone answers.

- ``models.py``: templates, mailboxes, the do-not-contact list, sequences,
  scheduled and inbound mail (app label ``outreach``: ``outreach/models.py``
  imports them), and ``ImapMailbox``, the base of every mailbox read over IMAP.
- ``templates.py``: a template made into one prospect's emails (merge values).
- ``safety.py``: the rules checked before a sequence starts and before each send.
- ``sequences.py``: starting (one prospect or a selection) and stopping
  sequences, recording a sent email or a bounced address.
- ``sending.py``: claiming due emails and sending one, exactly once.
- ``recovery.py``: settling sends a dead worker left behind.
- ``replies.py``: reading replies, bounces and unsubscribes.
- ``mailboxes.py``: who may send from a mailbox, its hours and daily limit.
- ``configuration.py``: writes of templates and the do-not-contact list.
- ``stats.py``: the outreach numbers of the managers' dashboard.
- ``views.py``, ``forms.py``, ``admin.py``, ``tasks.py``: thin layers over the above.
- ``wire/``: no Django: merge fields, messages, the SMTP conversation and the
  one IMAP client (also used by ``outreach.journalist_queries``).
"""
