"""Encrypt the secrets an admin types into the app (IMAP passwords) at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``). The key is
``FIELD_ENCRYPTION_KEY`` from the environment (a Fernet key, made with
``Fernet.generate_key()``), or, when that is not set, derived from SECRET_KEY
with HKDF. Derived means that changing SECRET_KEY makes stored passwords
unreadable: set FIELD_ENCRYPTION_KEY in production to rotate SECRET_KEY freely.
A value that can no longer be decrypted reads as an error, never as garbage.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """The stored secret was encrypted with another key: enter it again."""


def _key() -> bytes:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY", "")
    if configured:
        try:
            Fernet(configured)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)"
            ) from exc
        return configured.encode()
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"anchorage-field-encryption", info=b"v1"
    ).derive(settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived)


def encrypt(value: str) -> str:
    return Fernet(_key()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret(
            "The stored password cannot be decrypted with the current key "
            "(FIELD_ENCRYPTION_KEY or SECRET_KEY changed): enter it again."
        ) from exc
