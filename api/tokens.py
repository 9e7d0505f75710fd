"""Personal API tokens: issue, revoke, and find the token a request presents.

A token reads ``anc_<prefix>_<secret>``. The prefix (12 hex characters) is
stored in clear to find the row; the whole token is stored as SHA-256 only. A
plain hash is enough because the secret has 256 bits of entropy: there is
nothing to guess, so a slow password hash would only slow every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from api.models import ApiToken

if TYPE_CHECKING:
    from campaigns.models import User

SCHEME = "anc"
# last_used_at is written at most this often per token, so a busy script does
# not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    user: User, *, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token text, which is
    never stored and cannot be shown again."""
    prefix = secrets.token_hex(6)
    text = f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "token",
        prefix=prefix,
        secret_hash=_digest(text),
        expires_at=expires_at,
    )
    return token, text


def revoke_token(user: User, token_id: int, *, now: datetime | None = None) -> bool:
    """Revoke one of ``user``'s own tokens; False when there is no such live token
    (someone else's id is the same as a missing one)."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now()
        )
    )


class TokenRefused(Exception):
    """The presented token is unknown, revoked or expired."""


def authenticate(text: str, *, now: datetime | None = None) -> ApiToken:
    """The usable token ``text`` names, with its user loaded; raises TokenRefused."""
    scheme, _, rest = text.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or len(prefix) != 12 or not secret:
        raise TokenRefused("Malformed token.")
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    # Compared even when no row matched, so timing does not tell a known
    # prefix from an unknown one.
    stored = token.secret_hash if token is not None else "0" * 64
    if not hmac.compare_digest(stored, _digest(text)) or token is None:
        raise TokenRefused("Invalid token.")
    now = now or timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused("This token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("This token has expired.")
    if not token.user.is_active:
        raise TokenRefused("This token's user is inactive.")
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    return token
