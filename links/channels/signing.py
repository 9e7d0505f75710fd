"""How a generic webhook is signed, and how a receiver checks it.

Headers sent with every webhook request:

- ``X-Anchorage-Timestamp``: Unix time (seconds) when this attempt was sent;
- ``X-Anchorage-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the
  endpoint's secret, of ``timestamp + "." + body`` (the raw bytes received);
- ``X-Anchorage-Event`` (``alerts.digest`` or ``test``) and
  ``X-Anchorage-Delivery`` (the delivery's id, the same on every retry).

A receiver recomputes the HMAC over the exact bytes it received, compares in
constant time, and refuses a timestamp more than a few minutes from its clock,
so a captured request cannot be replayed later (``verify`` below is the
recipe, and what the tests' receiver runs). Signing the timestamp with the body
is what makes the timestamp trustworthy.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Anchorage-Signature"
TIMESTAMP_HEADER = "X-Anchorage-Timestamp"
EVENT_HEADER = "X-Anchorage-Event"
DELIVERY_HEADER = "X-Anchorage-Delivery"
# What receivers are told to accept: five minutes either way.
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    *,
    body: bytes,
    timestamp_header: str,
    signature_header: str,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check: a fresh timestamp and a matching signature."""
    if not timestamp_header.isascii() or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
