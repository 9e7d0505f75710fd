"""python manage.py rotate_encryption_key

Re-encrypts every stored secret (sending mailboxes' SMTP and IMAP passwords, the
query inbox's IMAP passwords, alert webhooks' signing secrets) with the first
key of FIELD_ENCRYPTION_KEY. Run it with FIELD_ENCRYPTION_KEY=new,old;
afterwards the old key can be dropped.
A secret no key opens is left as it is and listed; the exit status is then 1.
"""

from __future__ import annotations

import sys
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from campaigns import crypto

# Every encrypted field, by model label (outreach may not import links: the
# import contracts in pyproject.toml).
SECRETS: list[tuple[str, str]] = [
    ("outreach.Mailbox", "smtp_password"),
    ("outreach.Mailbox", "imap_password"),
    ("inbox.Mailbox", "password_encrypted"),
    ("alert_channels.AlertChannel", "secret_encrypted"),
]


class Command(BaseCommand):
    help = "Re-encrypt stored passwords with the first key of FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        unreadable: list[str] = []
        for label, field in SECRETS:
            model = apps.get_model(label)
            rows = model.objects.exclude(**{field: ""}).values_list("pk", field)
            for pk, token in rows.iterator():
                try:
                    fresh = crypto.rotate(token)
                except crypto.UndecryptableSecret:
                    unreadable.append(f"{model._meta.label} {pk} {field}")
                    continue
                # Conditional: a password changed meanwhile is already under the new key.
                rotated += model.objects.filter(pk=pk, **{field: token}).update(**{field: fresh})
        self.stdout.write(f"re-encrypted {rotated} secret(s) with the first key")
        if unreadable:
            self.stderr.write(
                f"{len(unreadable)} secret(s) no key decrypts (left unchanged; enter them again):"
            )
            for line in unreadable:
                self.stderr.write(f"  {line}")
            sys.exit(1)
