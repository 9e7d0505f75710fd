"""Mailbox passwords read from the environment, and only from variables meant
for them.

A mailbox may name an environment variable instead of storing its password. The
server's environment also holds SECRET_KEY and DATABASE_URL; without a rule,
whoever may edit a mailbox could name one of those and have it sent, as the
SMTP password, to a host of their choosing. So the name must carry a prefix
that nothing else uses, checked when the form is saved and again each time the
value is read (a row written before the rule, or by hand, gets no further).
"""

from __future__ import annotations

import os
import re

PREFIX = "ANCHORAGE_SECRET_"
_NAME = re.compile(r"ANCHORAGE_SECRET_[A-Z0-9_]++")


class SecretNameRefused(ValueError):
    """The variable is not one a mailbox password may come from."""


def check_name(name: str) -> str:
    """``name`` if it is a variable a password may be read from; else SecretNameRefused."""
    if not _NAME.fullmatch(name):
        raise SecretNameRefused(
            f"“{name[:100]}” cannot hold a mailbox password: only environment variables "
            f"named {PREFIX}… (capitals, digits and _) may, e.g. {PREFIX}SMTP_PASSWORD. "
            "Rename the variable on the server and here."
        )
    return name


def from_environment(name: str) -> str | None:
    """The value of the variable ``name`` (None if unset), after checking the name."""
    return os.environ.get(check_name(name))
