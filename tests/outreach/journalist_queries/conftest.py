from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _mail_on_loopback(settings):
    # The digest mailboxes here read the test Dovecot on 127.0.0.1, which
    # mailboxes may not reach by default.
    settings.MAIL_ALLOW_PRIVATE_NETWORKS = True
