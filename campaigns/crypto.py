"""Secrets typed into the app (sending mailboxes' and the query inbox's IMAP
passwords), encrypted at rest.

Fernet from ``cryptography`` (AES-128-CBC plus HMAC-SHA256, so a tampered value
fails instead of decrypting to garbage). The key is ``FIELD_ENCRYPTION_KEY``
(a key made by ``Fernet.generate_key()``) or, when that is empty, one derived
from SECRET_KEY with HKDF. A derived key changes with SECRET_KEY, and then every
stored password must be typed again: production sets FIELD_ENCRYPTION_KEY.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """A stored secret that the current key cannot open."""


def _fernet() -> Fernet:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY", "")
    if configured:
        try:
            return Fernet(configured)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be a Fernet key: 32 bytes, url-safe base64 "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"anchorage-field-encryption", info=b"v1"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret(
            "The stored password cannot be decrypted with the current key "
            "(FIELD_ENCRYPTION_KEY or SECRET_KEY changed): enter it again."
        ) from exc
