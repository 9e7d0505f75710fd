"""Secrets typed into the app (sending mailboxes' and the query inbox's IMAP
passwords), encrypted at rest.

Fernet from ``cryptography`` (AES-128-CBC plus HMAC-SHA256, so a tampered value
fails instead of decrypting to garbage). ``FIELD_ENCRYPTION_KEY`` is one key made
by ``Fernet.generate_key()``, or several separated by commas while rotating
(``new,old``): the first encrypts, any of them decrypts (MultiFernet), and
``manage.py rotate_encryption_key`` re-encrypts every stored secret with the
first. When it is empty, the key is derived from SECRET_KEY with HKDF; that
derived key is also tried last when FIELD_ENCRYPTION_KEY is set, so moving from
no key to a dedicated one loses nothing. A derived key changes with SECRET_KEY,
and then every stored password must be typed again: production sets
FIELD_ENCRYPTION_KEY.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """A stored secret that none of the current keys can open."""


def _derived() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"anchorage-field-encryption", info=b"v1"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    configured = [
        key.strip()
        for key in getattr(settings, "FIELD_ENCRYPTION_KEY", "").split(",")
        if key.strip()
    ]
    keys: list[Fernet] = []
    for position, key in enumerate(configured, start=1):
        try:
            keys.append(Fernet(key))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {position} of {len(configured)} is not a Fernet key: "
                "32 bytes, url-safe base64 (python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc
    return MultiFernet([*keys, _derived()])


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


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (a no-op in meaning)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret("no current key decrypts this secret") from exc
