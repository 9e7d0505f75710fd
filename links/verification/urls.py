"""URL normalization and target matching, shared by the whole project.

Two forms are kept apart on purpose:

* ``normalize_url`` gives the canonical *fetchable* URL that we store and fetch:
  lower-case scheme and host, IDNA (ASCII) host, no default port, no fragment, no
  user-info, upper-case percent-escapes, dot segments resolved, ``/`` for an empty
  path. It never changes what a browser would ask the server for.
* ``url_key`` gives the *comparison* key used for deduplication and matching. It
  also ignores the scheme, a leading ``www.``, a trailing slash and escapes of
  unreserved characters (``%7E`` is ``~``), because publishers flip between those
  freely and a link to ``http://www.x.com/a/`` is still a link to ``https://x.com/a``.

``Target`` and ``find_links`` answer "which of these hrefs point at our page?" for a
whole page at once, cheaply: most hrefs of a page are dismissed by a substring test
before any URL parsing, because parsing every href costs more than parsing the page.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters a browser would percent-encode before sending; we encode them so
# that "a b" and "a%20b" are stored the same way. The range reaches past the BMP
# so that an emoji in a path is encoded like any other non-ASCII character.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\U0010ffff\"<>\\^`{|}]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# What may be left of a host once it is in IDNA form: anything else (spaces, '%',
# '@', control characters) is a parser-confusion attempt, not a name.
_HOST_CHARS = re.compile(r"[a-z0-9_.-]+")
# Analytics parameters change nothing about the page a link leads to, and
# publishers add them on their own; a link with ?utm_source=... is still ours.
_TRACKING_PARAM = re.compile(r"utm_[a-z_]*", re.IGNORECASE)


class InvalidURL(ValueError):
    """The text is not an http(s) URL with a real host."""


def _encode_unsafe(part: str) -> str:
    def encode(match: re.Match[str]) -> str:
        return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8", "surrogatepass"))

    part = _UNSAFE.sub(encode, part)
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), part)


# Python's IDNA codec costs microseconds per call and a page links to the same
# few hosts hundreds of times.
@lru_cache(maxsize=4096)
def to_ascii_host(host: str) -> str:
    """Lower-case the host and turn an internationalized name into its IDNA form."""
    if "%" in host:
        # Browsers percent-decode a host before anything else (WHATWG host parser).
        host = unquote(host)
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("the URL has no host")
    if host.startswith("[") or ":" in host:  # IPv6 literal, with or without brackets
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURL(f"the host {host!r} is not a valid domain name") from exc
    if not _HOST_CHARS.fullmatch(ascii_host):
        raise InvalidURL(f"the host {host!r} is not a valid domain name")
    return ascii_host


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


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 5.2.4: browsers (and urllib3) resolve "." and ".." before sending,
    # so "/a/../b" is the same request as "/b".
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else f"/{result}"


def normalize_url(url: str) -> str:
    """Return the canonical fetchable form of an http(s) URL; raise InvalidURL otherwise."""
    parts = _split(url)
    host = to_ascii_host(parts.hostname or "")
    path = _remove_dot_segments(_encode_unsafe(parts.path)) or "/"
    query = _encode_unsafe(parts.query)
    return urlunsplit((parts.scheme.lower(), _netloc(parts, host), path, query, ""))


def strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def host_of(url: str) -> str:
    """The host of a URL (lower-case, IDNA) without a leading ``www.``: what
    target matching and the do-not-contact list compare, where ``blog.x.com``
    and ``x.com`` are different places."""
    return strip_www(to_ascii_host(_split(url).hostname or ""))


def domain_of(url: str) -> str:
    """The site a URL belongs to: its registrable domain (see
    ``registrable_domain``), ``https://blog.x.co.uk/a`` -> ``x.co.uk``. What
    referring domains, the link gap, dedupe and the outreach safety rules count."""
    return registrable_domain(host_of(url))


def _decode_unreserved(part: str) -> str:
    def decode(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0)

    return _PERCENT_ESCAPE.sub(decode, part) if "%" in part else part


def _key_parts(normalized: str) -> tuple[str, str, str]:
    """(host without www, host-and-port without www + path, query) of a normalized URL."""
    parts = urlsplit(normalized)
    netloc = strip_www(parts.netloc)
    path = _decode_unreserved(parts.path).rstrip("/")
    return strip_www(parts.hostname or ""), f"{netloc}{path}", _decode_unreserved(parts.query)


def url_key(url: str) -> str:
    """The comparison key: host (no www) + non-default port + path (no trailing slash) + query."""
    return normalize_with_key(url)[2]


# A URL already in its normal form but for dot segments: lower-case http(s), a
# host of lower-case ASCII labels (1-63 characters: what the IDNA codec passes
# unchanged), no user-info, port, fragment or percent-escape, and no character
# _UNSAFE would encode in its path and query.
_PLAIN = re.compile(
    r"(https?)://((?:[a-z0-9-]{1,63}+\.)*+[a-z0-9-]{1,63}+)"
    r"(/[!$&-;=@-\[\]_a-z~]*)?(?:\?([!$&-;=?-\[\]_a-z~]*))?"
)


def normalize_with_key(url: str) -> tuple[str, str, str]:
    """``(normalize_url(url), host_of(url), url_key(url))`` from one parse and
    one split of the normal form: an import of 100,000 rows spent a quarter of
    its time parsing each URL four times through the three of them.

    Most URLs in a file are already plain (``_PLAIN``): for those, the parse is
    one regular expression, since splitting, IDNA, escaping and the key's
    decoding would each give back what they were given (tests/links check the
    two ways agree)."""
    plain = _PLAIN.fullmatch(url)
    if plain is None:
        return _normalize_with_key_parsed(url)
    scheme, host, path, query = plain.groups()
    path = _remove_dot_segments(path) if path else "/"
    normalized = f"{scheme}://{host}{path}?{query}" if query else f"{scheme}://{host}{path}"
    host = strip_www(host)
    head = host + path.rstrip("/")
    return normalized, host, f"{head}?{query}" if query else head


def _normalize_with_key_parsed(url: str) -> tuple[str, str, str]:
    normalized = normalize_url(url)
    host, head, query = _key_parts(normalized)
    return normalized, host, f"{head}?{query}" if query else head


def _without_tracking(query: str) -> str:
    if "utm_" not in query.lower():
        return query
    kept = [p for p in query.split("&") if not _TRACKING_PARAM.fullmatch(p.split("=", 1)[0])]
    return "&".join(kept)


def _match_key(normalized: str) -> tuple[str, str]:
    """(host without www, key without tracking parameters) of a normalized URL."""
    host, head, query = _key_parts(normalized)
    query = _without_tracking(query)
    return host, f"{head}?{query}" if query else head


_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def clean_href(href: str) -> str:
    """What a browser does to an href before resolving it (WHATWG URL parsing).

    Leading and trailing spaces and control characters go, tabs and newlines
    anywhere go, and before the query a backslash is a slash: ``https:\\\\x.com``
    is a link to x.com in every browser.
    """
    href = href.strip(_C0_AND_SPACE)
    if "\t" in href or "\n" in href or "\r" in href:
        href = href.replace("\t", "").replace("\n", "").replace("\r", "")
    if "\\" in href:
        cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
        href = href[:cut].replace("\\", "/") + href[cut:]
    return href


def resolve_href(href: str, base: str) -> str | None:
    """The normalized absolute http(s) URL an href leads to from ``base``, or None."""
    try:
        return normalize_url(urljoin(base, clean_href(href)))
    except (InvalidURL, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """A page of ours, or a whole domain of ours, that links should point at.

    A domain target matches every page on its host and on ``www.`` + host, on any
    port; sub-domains other than ``www.`` are other sites and do not count.
    """

    url: str
    is_domain: bool = False
    host: str = field(init=False)
    key: str = field(init=False)
    unicode_host: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        url = self.url
        if self.is_domain and "://" not in url:
            url = f"https://{url}"
        normalized = normalize_url(url)
        host = host_of(normalized)
        object.__setattr__(self, "url", normalized)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "key", host if self.is_domain else _match_key(normalized)[1])
        try:
            unicode_host = host.encode("ascii").decode("idna")
        except UnicodeError:
            unicode_host = host
        object.__setattr__(self, "unicode_host", unicode_host.lower())

    @classmethod
    def page(cls, url: str) -> Target:
        return cls(url)

    @classmethod
    def domain(cls, url_or_host: str) -> Target:
        return cls(url_or_host, is_domain=True)

    def matches(self, absolute_url: str) -> bool:
        """Does this absolute URL lead to the target?"""
        try:
            host, key = _match_key(normalize_url(absolute_url))
        except InvalidURL:
            return False
        return host == self.host if self.is_domain else key == self.key


@dataclass(frozen=True, slots=True)
class LinkMatches:
    """Indexes into the href list given to ``find_links``, with each resolved URL."""

    exact: list[tuple[int, str]]
    # Links to other pages of the target's site: evidence of a "wrong target page"
    # when the agreed page is not linked. Always empty for a domain target.
    same_site: list[tuple[int, str]]


# Possessive: a long run of letters without ":" is read once, not once per letter.
_ABSOLUTE = re.compile(r"[\x00-\x20]*+(?:[a-zA-Z][a-zA-Z0-9+.\-]*+:|[/\\]{2})")
# An href with any of these may hide the target host from a plain substring
# test: escapes, non-ASCII (IDNA, full-width letters) or whitespace inside.
_OBSCURE = re.compile(r"[%\t\n\r\x80-\U0010ffff]")


def effective_base(page_url: str, base_href: str | None) -> str:
    """The URL relative hrefs resolve against: ``<base href>`` if usable, else the page."""
    if base_href and base_href.strip():
        resolved = resolve_href(base_href, page_url)
        if resolved is not None:
            return resolved
    return page_url


def find_links(
    target: Target, hrefs: list[str], *, page_url: str, base_href: str | None = None
) -> LinkMatches:
    """Find the hrefs that point at ``target`` on a page fetched from ``page_url``."""
    base = effective_base(page_url, base_href)
    try:
        base_on_target = host_of(base) == target.host
    except InvalidURL:
        base_on_target = False
    needle = target.host
    # The IDNA and Unicode spellings of a host share no substring worth testing.
    unicode_needle = target.unicode_host if target.unicode_host != needle else None

    exact: list[tuple[int, str]] = []
    same_site: list[tuple[int, str]] = []
    for index, href in enumerate(hrefs):
        lowered = href.lower()
        if not (
            needle in lowered
            or (unicode_needle is not None and unicode_needle in lowered)
            or _OBSCURE.search(href)
            or (base_on_target and not _ABSOLUTE.match(href))
        ):
            continue
        resolved = resolve_href(href, base)
        if resolved is None:
            continue
        host, key = _match_key(resolved)
        if host != target.host:
            continue
        if target.is_domain or key == target.key:
            exact.append((index, resolved))
        else:
            same_site.append((index, resolved))
    return LinkMatches(exact=exact, same_site=same_site)


# --- Sites --------------------------------------------------------------------------


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the package, read once: no download at run time.
    # Private suffixes stay in (only_icann off), so x.blogspot.com and
    # y.github.io are sites of their own, as DESIGN.md's "Domain" says.
    return PublicSuffixList()


@lru_cache(maxsize=8192)
def registrable_domain(host: str) -> str:
    """The site a host belongs to: its registrable domain (eTLD+1) by the Public
    Suffix List, ``a.example.co.uk`` -> ``example.co.uk``. An IP address, a
    single-label name such as ``localhost``, or a bare public suffix is its own site.

    For counting and budgets only; a connection still goes to the host itself.
    """
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    # Only an IPv4 address starts with a digit and ends with one, and only an
    # IPv6 one has a colon: other names skip the (slow, raising) parse.
    if (host[:1].isdigit() and host[-1:].isdigit()) or ":" in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return host
    # A host taken from a normalized URL is already in IDNA form; the codec would
    # cost more than the lookup on a file of distinct hosts.
    if not (host.isascii() and _HOST_CHARS.fullmatch(host)):
        try:
            host = to_ascii_host(host)
        except InvalidURL:
            return host
    if "." not in host:
        return host
    return _public_suffixes().privatesuffix(host) or host
