"""URL normalization and target matching, shared by the whole project.

Two forms are kept apart on purpose:

* ``normalize_url`` gives the canonical *fetchable* URL that we store and fetch:
  lower-case scheme and host, IDNA (ASCII) host, no default port, no fragment,
  upper-case percent-escapes, ``/`` for an empty path. It never changes what the
  server would be asked for.
* ``url_key`` gives the *comparison* key used for deduplication and matching. It
  also ignores the scheme, a leading ``www.`` and a trailing slash, because
  publishers flip between those freely and a link to ``http://www.x.com/a/`` is
  still a link to ``https://x.com/a``.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters a browser would percent-encode before sending; we encode them so
# that "a b" and "a%20b" are stored the same way.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\uffff\"<>\\^`{|}]")


class InvalidURL(ValueError):
    """The text is not an http(s) URL with a real host."""


def _encode_unsafe(part: str) -> str:
    def encode(match: re.Match[str]) -> str:
        return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8"))

    part = _UNSAFE.sub(encode, part)
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), part)


def to_ascii_host(host: str) -> str:
    """Lower-case the host and turn an internationalized name into its IDNA form."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("the URL has no host")
    if host.startswith("["):  # IPv6 literal
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURL(f"the host {host!r} is not a valid domain name") from exc


def _split(url: str) -> SplitResult:
    text = url.strip()
    if not text:
        raise InvalidURL("the URL is empty")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidURL(f"cannot parse {text!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"only http and https URLs are accepted, not {scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise InvalidURL("the URL has no host")
    return parts


def _netloc(parts: SplitResult, host: str) -> str:
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"the port of {parts.netloc!r} is not a number in range") from exc
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[parts.scheme.lower()]:
        return host
    return f"{host}:{port}"


def normalize_url(url: str) -> str:
    """Return the canonical fetchable form of an http(s) URL; raise InvalidURL otherwise."""
    parts = _split(url)
    host = to_ascii_host(parts.hostname or "")
    path = _encode_unsafe(parts.path) or "/"
    query = _encode_unsafe(parts.query)
    return urlunsplit((parts.scheme.lower(), _netloc(parts, host), path, query, ""))


def strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def domain_of(url: str) -> str:
    """The registrable-looking host of a URL, without a leading ``www.``."""
    return strip_www(to_ascii_host(_split(url).hostname or ""))


def url_key(url: str) -> str:
    """The comparison key: host (no www) + non-default port + path (no trailing slash) + query."""
    parts = urlsplit(normalize_url(url))
    netloc = strip_www(parts.netloc)
    path = parts.path.rstrip("/")
    key = f"{netloc}{path}"
    if parts.query:
        key = f"{key}?{parts.query}"
    return key
