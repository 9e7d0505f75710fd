"""The one module that reaches the internet.

Every URL a user types, and every redirect a server answers, is hostile input here:
it may point at the metadata service of our cloud, at the database on localhost,
or at a tar pit. So each hop is resolved once, every address it resolves to is
checked, and the connection goes to exactly the address that was checked: the
socket is opened by our own connection class, never by a second DNS lookup that a
rebinding name could answer differently. TLS still verifies the certificate for
the host name (SNI and Host header stay the name).

Costs measured in PERF-NOTES shape the rest: one ``SSLContext`` for the whole
process (requests would re-read the CA bundle into a new one on every HTTPS
connection, 29 ms of CPU each), and one session per thread, reused.

The whole fetch, redirects included, has one wall-clock deadline. Socket timeouts
alone bound each read, not their sum, so a server dripping one byte a second would
hold a worker for ever; a single watchdog thread shuts down the sockets of any
fetch that outlives its deadline, which wakes the blocked read at once.
"""

from __future__ import annotations

import codecs
import heapq
import ipaddress
import itertools
import os
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import charset_normalizer
import requests
import urllib3.exceptions
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import create_connection

from links.verification.addresses import IPAddress, is_public_address, parse_ip_host
from links.verification.urls import DEFAULT_PORTS, InvalidURL, normalize_url

# (address, port) -> may we connect? Narrows the built-in policy, never widens it.
AddressPolicy = Callable[[IPAddress, int], bool]
# (host, port) -> addresses; tests use it to give names to 127.0.0.1.
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (compatible; AnchorageBot/1.0; +https://example.invalid/anchorage)"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Servers send pages under these too often to refuse them unread; the body decides.
SNIFFED_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_CHUNK = 64 * 1024
# Each response header value is cut to this before anything reads it. A page
# behind nginx's default proxy_buffer_size (4-8 KB for the whole header block)
# cannot send a longer one; http.client already stops at 64 KB per line and
# 100 lines.
MAX_HEADER_VALUE = 8 * 1024
_CONNECT_TIMEOUT = 10.0
# What a POST reads of the answer: webhook receivers answer "ok" or a short
# error, and only the error's first words are kept.
POST_MAX_RESPONSE_BYTES = 16 * 1024
_POOLS_PER_THREAD = 32
# Ports the Fetch standard forbids browsers to use: talking HTTP to a mail or
# IRC server is how a fetcher becomes a spam relay.
BAD_PORTS = frozenset(
    {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
     102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389,
     427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
     989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
     6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080}
)  # fmt: skip


class ErrorKind(StrEnum):
    INVALID_URL = "invalid_url"
    BAD_SCHEME = "bad_scheme"
    DNS = "dns"
    BLOCKED_ADDRESS = "blocked_address"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    PROTOCOL = "protocol"
    HTTP_STATUS = "http_status"
    NOT_HTML = "not_html"


def anchorage_user_agent(info_url: str, version: str = "1.0") -> str:
    """An honest User-Agent: who we are and where a webmaster can read about it."""
    return f"Mozilla/5.0 (compatible; AnchorageBot/{version}; +{info_url})"


@dataclass(frozen=True, slots=True)
class FetchConfig:
    timeout: float = 15.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    # The only way to reach loopback and private networks (tests, an intranet install).
    allow_private_networks: bool = False
    address_allowed: AddressPolicy | None = None
    resolver: Resolver | None = None
    # A CA bundle to trust instead of certifi's (tests with their own CA).
    ca_file: str | None = None
    robots_ttl: float = 3600.0
    # Google reads the first 500 KiB of a robots.txt and ignores the rest.
    robots_max_bytes: int = 500 * 1024


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    status: int
    location: str


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    # Lower-cased names, one pair per header line: X-Robots-Tag may come several
    # times, each line with its own bot scope, so lines are not merged.
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    encoding: str | None = None
    encoding_source: str | None = None
    content_type: str = ""
    redirects: list[Redirect] = field(default_factory=list)
    address: str | None = None
    bytes_read: int = 0
    truncated: bool = False
    elapsed_ms: int = 0
    error_kind: ErrorKind | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return ", ".join(values) if values else None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def x_robots_tag(self) -> list[str]:
        return self.header_values("x-robots-tag")

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", "replace")


class _Failure(Exception):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _describe(ip: IPAddress) -> str:
    for label, test in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if test:
            return label
    return "non-public"


# --- Watchdog ------------------------------------------------------------------------


class _Watch:
    __slots__ = ("active", "deadline", "fired", "sockets")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sockets: list[socket.socket] = []
        self.fired = False
        self.active = True


def _shutdown(sock: socket.socket) -> None:
    # Already closed, or detached into an SSL socket: nothing left to wake.
    with suppress(OSError):
        # The base-class method on purpose: SSLSocket.shutdown would also drop its
        # SSL object under the feet of the thread that is reading from it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One thread for the whole process that enforces every fetch's deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def start(self, deadline: float) -> _Watch:
        watch = _Watch(deadline)
        with self._cond:
            # The thread sleeps until the earliest deadline in the heap (finished
            # watches included: it drops them when it gets to them), so it needs
            # waking only for a deadline earlier than that. Every fetch has the
            # same timeout, so that is almost never: waking it for each fetch
            # cost about 4 % of a verifier worker's CPU under the gevent pool.
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline, next(self._counter), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="anchorage-fetch-watchdog", daemon=True
                )
                self._thread.start()
            if earliest is None or deadline < earliest:
                self._cond.notify()
        return watch

    def stop(self, watch: _Watch) -> None:
        with self._cond:
            watch.active = False
            watch.sockets.clear()

    def add(self, watch: _Watch, sock: socket.socket) -> None:
        with self._cond:
            if not watch.active:
                return
            if watch.fired:
                _shutdown(sock)
            else:
                watch.sockets.append(sock)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _seq, watch = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                watch.fired = True
                for sock in watch.sockets:
                    _shutdown(sock)


_watchdog = _Watchdog()
_current = threading.local()


def _watch_socket(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if sock is not None and watch is not None:
        _watchdog.add(watch, sock)


@contextmanager
def _deadline(deadline: float) -> Iterator[_Watch]:
    watch = _watchdog.start(deadline)
    _current.watch = watch
    try:
        yield watch
    finally:
        _current.watch = None
        _watchdog.stop(watch)


# --- Pinned connections ------------------------------------------------------------------

_PIN_ATTRIBUTE = "_anchorage_address"


def _connect_pinned(conn: Any) -> socket.socket:
    # urllib3's own _new_conn, except that the address is the one we checked:
    # the host name stays on the connection for the Host header, SNI and the
    # certificate check, and is never looked up again.
    try:
        sock = create_connection(
            (conn.pinned_address, conn.port),
            conn.timeout,
            source_address=conn.source_address,
            socket_options=conn.socket_options,
        )
    except TimeoutError as exc:
        raise urllib3.exceptions.ConnectTimeoutError(
            conn, f"Connection to {conn.host} ({conn.pinned_address}) timed out"
        ) from exc
    except OSError as exc:
        raise urllib3.exceptions.NewConnectionError(
            conn, f"Failed to establish a new connection to {conn.pinned_address}: {exc}"
        ) from exc
    _watch_socket(sock)
    return sock


class _PinnedHTTPConnection(HTTPConnection):
    def __init__(self, *args: Any, pinned_address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = pinned_address

    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A kept-alive socket was opened under an earlier fetch's deadline.
        _watch_socket(self.sock)
        super().request(*args, **kwargs)


class _PinnedHTTPSConnection(HTTPSConnection):
    def __init__(self, *args: Any, pinned_address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = pinned_address

    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch_socket(self.sock)
        super().request(*args, **kwargs)


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


_ssl_contexts: dict[str | None, ssl.SSLContext] = {}
_ssl_lock = threading.Lock()


def shared_ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The process's one TLS client context (per CA bundle), built on first use."""
    with _ssl_lock:
        context = _ssl_contexts.get(ca_file)
        if context is None:
            context = ssl.create_default_context(cafile=ca_file or certifi.where())
            _ssl_contexts[ca_file] = context
        return context


class _PinnedAdapter(HTTPAdapter):
    """A transport that only connects to the address pinned on each request."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context
        self._pools: OrderedDict[tuple[str, str, int, str], HTTPConnectionPool] = OrderedDict()
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        address = getattr(request, _PIN_ATTRIBUTE, None)
        if address is None:
            # Fail closed: a request that did not go through the address check
            # must not get a connection at all.
            raise requests.exceptions.InvalidURL("refusing a request whose address was not checked")
        parts = urlsplit(request.url or "")
        scheme = parts.scheme
        host = parts.hostname or ""
        port = parts.port or DEFAULT_PORTS[scheme]
        key = (scheme, host, port, address)
        pool = self._pools.get(key)
        if pool is None:
            if scheme == "https":
                pool = _PinnedHTTPSPool(
                    host,
                    port,
                    cert_reqs="CERT_REQUIRED",
                    ssl_context=self._ssl_context,
                    pinned_address=address,
                )
            else:
                pool = _PinnedHTTPPool(host, port, pinned_address=address)
            self._pools[key] = pool
            while len(self._pools) > _POOLS_PER_THREAD:
                self._pools.popitem(last=False)[1].close()
        else:
            self._pools.move_to_end(key)
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # The pool already demands a verified certificate through the shared
        # context. requests would point it at the CA file again, and urllib3 would
        # then reload the bundle on every new connection.
        return

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        super().close()


# --- Encodings ---------------------------------------------------------------------------

# What browsers mean by a label (WHATWG Encoding standard), in Python's codec names:
# "iso-8859-1" and "ascii" pages are decoded as windows-1252 by every browser, and
# their authors wrote them expecting exactly that.
_WHATWG_CODECS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
_EXTRA_LABELS = {"x-sjis": "cp932", "windows-31j": "cp932", "x-gbk": "gb18030"}
# HTML sets where a <meta charset> counts (the first 1024 bytes, by the
# encoding sniffing algorithm); 4 KB forgives pages that put it late.
META_CHARSET_BYTES = 4096
# Comments and a doctype before the first tag: real pages have a few hundred bytes.
HTML_SNIFF_BYTES = 2048
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Possessive quantifiers and "<" kept out of the tag's attributes: each byte is
# looked at a bounded number of times, whatever the page sends (a run of spaces
# after "charset=" used to be read once per space).
_META_CHARSET = re.compile(
    rb"""<meta[^<>]*?charset\s*+=\s*+["']?+\s*+([a-zA-Z0-9_.:-]++)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*+=\s*+["']?+\s*+([a-zA-Z0-9_.:-]++)""", re.IGNORECASE)
# A comment ends at its first "-->" (atomic group): letting ".*?" reach for a
# later one made a run of empty comments exponential.
_HTML_START = re.compile(
    rb"\s*+(?:<!--(?>.*?-->)\s*+)*+<(?:!doctype\s++html|html|head|body|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)


def codec_for_label(label: str) -> str | None:
    """The Python codec a browser would use for a charset label, or None if unknown."""
    label = label.strip().strip("\"'").lower()
    label = _EXTRA_LABELS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WHATWG_CODECS.get(name, name)


def sniff_encoding(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(codec, where it came from): BOM, then the header, then ``<meta>``, then the bytes.

    Detection is the last resort: valid UTF-8 is taken as UTF-8 (it almost never
    happens by accident), then charset_normalizer guesses from a sample.
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return bom_codec, "bom"
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        codec = codec_for_label(header.group(1)) if header else None
        if codec:
            return codec, "header"
    meta = _META_CHARSET.search(body[:META_CHARSET_BYTES])
    if meta:
        codec = codec_for_label(meta.group(1).decode("ascii"))
        # A page cannot declare itself UTF-16 in ASCII-compatible bytes: browsers
        # take such a <meta> to mean UTF-8.
        if codec and codec.startswith("utf-16"):
            codec = "utf-8"
        if codec:
            return codec, "meta"
    return detect_encoding(body), "detected"


def detect_encoding(body: bytes) -> str:
    sample = body[: 64 * 1024]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = charset_normalizer.from_bytes(sample).best()
    if best is not None and best.encoding:
        return codec_for_label(best.encoding) or "cp1252"
    return "cp1252"


def looks_like_html(body: bytes) -> bool:
    return bool(_HTML_START.match(body[:HTML_SNIFF_BYTES]))


# --- robots.txt ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RobotsResult:
    robots_url: str
    allowed: bool
    status: int | None = None
    # Why the answer is "allowed" without rules: unreachable, 5xx, HTML...
    note: str | None = None


@dataclass(slots=True)
class _RobotsEntry:
    expires: float
    rules: Protego | None
    status: int | None
    note: str | None


class _RobotsCache:
    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[str, _RobotsEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, origin: str) -> _RobotsEntry | None:
        with self._lock:
            entry = self._entries.get(origin)
            if entry is None or entry.expires < time.monotonic():
                return None
            self._entries.move_to_end(origin)
            return entry

    def put(self, origin: str, entry: _RobotsEntry) -> None:
        with self._lock:
            self._entries[origin] = entry
            self._entries.move_to_end(origin)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


# --- The fetcher ---------------------------------------------------------------------------

_dns_pool: ThreadPoolExecutor | None = None
_dns_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked child (a Celery prefork worker) inherits these objects but not the
    # threads behind them, and perhaps a lock that one of those threads held:
    # an inherited executor would queue lookups that no thread ever runs.
    global _watchdog, _dns_pool, _dns_lock, _ssl_lock
    _watchdog = _Watchdog()
    _dns_pool = None
    _dns_lock = threading.Lock()
    _ssl_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _resolver_pool() -> ThreadPoolExecutor:
    # getaddrinfo has no timeout of its own; running it on a side thread lets the
    # fetch give up at its deadline even when a resolver hangs.
    global _dns_pool
    with _dns_lock:
        if _dns_pool is None:
            _dns_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="anchorage-dns")
        return _dns_pool


class _SessionLease:
    """A thread's hold on its session: when the thread ends, its local storage
    is dropped and the session goes back to the fetcher's idle list."""

    __slots__ = ("idle", "session")

    def __init__(self, idle: list[requests.Session], session: requests.Session) -> None:
        self.idle = idle
        self.session = session

    def __del__(self) -> None:
        self.idle.append(self.session)


class Fetcher:
    """Fetch pages safely. Thread-safe: each thread gets its own session and pools
    (the session of a thread that ended is handed to the next new thread)."""

    def __init__(self, config: FetchConfig | None = None) -> None:
        self.config = config or FetchConfig()
        self._ssl_context = shared_ssl_context(self.config.ca_file)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        # Sessions of threads that ended, for the next new thread: the verifier's
        # pool starts new threads for every batch, and a session per thread ever
        # started kept them all, with their idle keep-alive connections, for the
        # life of the process (a worker held 1,100 open sockets after 2,000 checks).
        self._idle: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._robots = _RobotsCache()

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
            # A new list: a lease of the old threads gives its session back to
            # the old one, never into the new life of the fetcher.
            self._idle = []
        self._local = threading.local()

    def _session(self) -> requests.Session:
        lease: _SessionLease | None = getattr(self._local, "lease", None)
        if lease is not None:
            return lease.session
        try:
            # list.pop and list.append are atomic: no lock, because the lease
            # gives a session back from __del__, which must not take one.
            session = self._idle.pop()
        except IndexError:
            session = self._new_session()
        # The thread's local storage is dropped when the thread ends, and the
        # lease with it, which hands the session back.
        self._local.lease = _SessionLease(self._idle, session)
        return session

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # Proxies and .netrc from the environment would route around the
        # address check, so the environment has no say.
        session.trust_env = False
        adapter = _PinnedAdapter(self._ssl_context)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.clear()
        session.headers.update(
            {
                "User-Agent": self.config.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate, br",
                "Connection": "keep-alive",
            }
        )
        with self._sessions_lock:
            self._sessions.append(session)
        return session

    # -- address checks --

    def address_allowed(self, ip: IPAddress, port: int) -> bool:
        if ip.is_unspecified or ip.is_multicast:
            return False  # never a server, whatever the settings: 0.0.0.0 is localhost on Linux
        if not self.config.allow_private_networks and not is_public_address(ip):
            return False
        policy = self.config.address_allowed
        return policy is None or policy(ip, port)

    def _resolve(self, host: str, port: int, deadline: float) -> list[IPAddress]:
        try:
            literal = parse_ip_host(host)
        except InvalidURL as exc:
            raise _Failure(ErrorKind.INVALID_URL, str(exc)) from exc
        if literal is not None:
            return [literal]
        if self.config.resolver is not None:
            try:
                names: Sequence[str] = self.config.resolver(host, port)
            except OSError as exc:
                raise _Failure(ErrorKind.DNS, f"cannot resolve {host}: {exc}") from exc
        else:
            future = _resolver_pool().submit(
                socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP
            )
            try:
                infos = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout as exc:
                raise _Failure(ErrorKind.TIMEOUT, f"resolving {host} timed out") from exc
            except (OSError, UnicodeError) as exc:
                raise _Failure(ErrorKind.DNS, f"cannot resolve {host}: {exc}") from exc
            names = [str(info[4][0]) for info in infos]
        addresses: list[IPAddress] = []
        for name in names:
            try:
                ip = ipaddress.ip_address(name)
            except ValueError as exc:
                raise _Failure(ErrorKind.DNS, f"{host} resolved to {name!r}") from exc
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise _Failure(ErrorKind.DNS, f"{host} has no address")
        return addresses

    def _checked_addresses(self, url: str, deadline: float) -> list[IPAddress]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        if port in BAD_PORTS:
            raise _Failure(ErrorKind.BLOCKED_ADDRESS, f"port {port} is not for web servers")
        addresses = self._resolve(host, port, deadline)
        # Every address must pass, not just the first: a name that answers one
        # public and one private address is a rebinding attempt.
        for ip in addresses:
            if not self.address_allowed(ip, port):
                raise _Failure(
                    ErrorKind.BLOCKED_ADDRESS,
                    f"{host} is {ip} ({_describe(ip)}), which the fetcher may not reach",
                )
        return addresses

    # -- fetching --

    def head(self, url: str) -> FetchResult:
        """HEAD ``url``: the status after redirects, without reading a body.

        The same guard as ``fetch``: every hop resolved, checked and pinned, one
        deadline. Some servers answer HEAD with 405 or 501, or wrongly with 404
        when GET works; callers that judge a link by it fall back to ``fetch``.
        """
        return self.fetch(url, method="HEAD")

    def fetch(
        self,
        url: str,
        *,
        html_only: bool = False,
        max_bytes: int | None = None,
        method: str = "GET",
    ) -> FetchResult:
        """GET ``url``, following redirects by hand, each hop checked like the first.

        Never raises for anything the network or the server does: the result's
        ``error_kind`` says what went wrong. ``html_only`` stops at the headers of a
        response that is clearly not a page (a PDF, an image), unread. ``method``
        is GET or HEAD; redirects of a HEAD are followed with HEAD.
        """
        if method not in ("GET", "HEAD"):
            raise ValueError(f"the fetcher only sends GET and HEAD, not {method}")
        limit = self.config.max_bytes if max_bytes is None else max_bytes
        result = FetchResult(url=url, final_url=url)
        session = self._session()
        # Cookies live for one fetch: enough for a site that sets one and redirects
        # to itself, never carried from one site's check to another's.
        session.cookies.clear()
        seen: set[str] = set()
        with self._attempt(result) as (deadline, watch):
            current = url
            for _hop in range(self.config.max_redirects + 1):
                current = self._validated(current)
                result.final_url = current
                seen.add(current)
                response = self._send(session, current, deadline, watch, result, method)
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    result.redirects.append(Redirect(current, response.status_code, location))
                    self._discard(response)
                    current = urljoin(current, location.strip())
                    continue
                if method == "HEAD":
                    self._discard(response)
                    if response.status_code >= 400:
                        raise _Failure(
                            ErrorKind.HTTP_STATUS,
                            f"the server answered {response.status_code}",
                        )
                else:
                    self._read(response, result, limit, html_only, watch)
                break
            else:
                loop = " (a loop)" if _validated_or_none(current) in seen else ""
                raise _Failure(
                    ErrorKind.TOO_MANY_REDIRECTS,
                    f"more than {self.config.max_redirects} redirects{loop}",
                )
        return result

    def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = POST_MAX_RESPONSE_BYTES,
    ) -> FetchResult:
        """POST ``body`` to ``url`` (a webhook), behind the same guard as ``fetch``:
        the address resolved, checked and pinned, one deadline, the answer read
        up to ``max_bytes`` (receivers answer "ok"; only an error's text is kept).

        Redirects are not followed: a POST is not replayed at another address,
        and an endpoint that moved is the configuration's to fix. A redirect is
        an HTTP_STATUS error, like any answer of 400 or more. Never raises for
        what the network or the server does.
        """
        result = FetchResult(url=url, final_url=url)
        session = self._session()
        session.cookies.clear()
        with self._attempt(result) as (deadline, watch):
            current = self._validated(url)
            result.final_url = current
            response = self._send(
                session, current, deadline, watch, result, "POST", body=body, headers=headers
            )
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("Location", "")[:200]
                self._discard(response)
                raise _Failure(
                    ErrorKind.HTTP_STATUS,
                    f"the server answered {response.status_code} (a redirect to "
                    f"{location or 'nowhere'}), which a webhook does not follow",
                )
            self._read(response, result, max_bytes, False, watch)
        return result

    @contextmanager
    def _attempt(self, result: FetchResult) -> Iterator[tuple[float, _Watch]]:
        """One request's deadline and bookkeeping, the same for every method: a
        refusal or failure raised inside becomes ``result``'s error, and the time
        taken is recorded."""
        started = time.monotonic()
        deadline = started + self.config.timeout
        with _deadline(deadline) as watch:
            try:
                yield deadline, watch
            except _Failure as failure:
                result.error_kind = failure.kind
                result.error = failure.message
        if watch.fired and result.error_kind != ErrorKind.TIMEOUT:
            # Whatever the socket said when the watchdog shut it (often a clean
            # end of file), the truth is that the deadline passed.
            result.error_kind = ErrorKind.TIMEOUT
            result.error = f"gave up after {self.config.timeout:g} s"
        result.elapsed_ms = round((time.monotonic() - started) * 1000)

    def _validated(self, url: str) -> str:
        try:
            scheme = urlsplit(url.strip()).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme and scheme not in DEFAULT_PORTS:
            raise _Failure(ErrorKind.BAD_SCHEME, f"only http and https are fetched, not {scheme}:")
        try:
            return normalize_url(url)
        except InvalidURL as exc:
            raise _Failure(ErrorKind.INVALID_URL, str(exc)) from exc

    def _send(
        self,
        session: requests.Session,
        url: str,
        deadline: float,
        watch: _Watch,
        result: FetchResult,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        addresses = self._checked_addresses(url, deadline)
        failure: _Failure | None = None
        for ip in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            request = session.prepare_request(
                requests.Request(method, url, data=body, headers=dict(headers or {}))
            )
            setattr(request, _PIN_ATTRIBUTE, str(ip))
            try:
                response = session.send(
                    request,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(remaining, _CONNECT_TIMEOUT), remaining),
                )
            except requests.exceptions.ConnectionError as exc:
                failure = _classify(exc, deadline, watch)
                if failure.kind == ErrorKind.CONNECT:
                    continue  # the next address of the name may answer
                raise failure from exc
            except requests.exceptions.RequestException as exc:
                raise _classify(exc, deadline, watch) from exc
            result.address = str(ip)
            result.status = response.status_code
            result.headers = tuple(
                (name.lower(), value[:MAX_HEADER_VALUE])
                for name, value in response.raw.headers.items()
            )
            result.content_type = response.headers.get("Content-Type", "")[:MAX_HEADER_VALUE]
            return response
        if failure is not None and time.monotonic() < deadline:
            raise failure
        raise _Failure(ErrorKind.TIMEOUT, f"gave up after {self.config.timeout:g} s")

    def _discard(self, response: requests.Response) -> None:
        # A short redirect body is read so the connection can serve the next hop;
        # a long or unknown one is not worth reading: close the connection.
        # An answer to HEAD has no body whatever its Content-Length says, so
        # reading it costs nothing and keeps the connection.
        length = response.headers.get("Content-Length", "")
        is_head = response.request is not None and response.request.method == "HEAD"
        try:
            if is_head or (length.isdigit() and int(length) <= _CHUNK):
                response.raw.read(decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError, ValueError):
            response.raw.close()
        response.close()

    def _read(
        self,
        response: requests.Response,
        result: FetchResult,
        limit: int,
        html_only: bool,
        watch: _Watch,
    ) -> None:
        mime = result.content_type.split(";", 1)[0].strip().lower()
        status = response.status_code
        if html_only and status < 400 and mime not in HTML_TYPES | SNIFFED_TYPES:
            response.close()
            raise _Failure(ErrorKind.NOT_HTML, f"the page is {mime}, not HTML")
        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in raw.stream(_CHUNK, decode_content=True):
                room = limit - size
                if len(chunk) > room:
                    chunks.append(chunk[:room])
                    size = limit
                    result.truncated = True
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise _classify(exc, watch.deadline, watch) from exc
        finally:
            result.bytes_read = raw.tell()
            response.close()
        result.body = b"".join(chunks)
        if (
            html_only
            and status < 400
            and mime not in HTML_TYPES
            and not looks_like_html(result.body)
        ):
            raise _Failure(ErrorKind.NOT_HTML, f"the page is {mime or 'untyped'} and not HTML")
        result.encoding, result.encoding_source = sniff_encoding(result.body, result.content_type)
        if status >= 400:
            raise _Failure(ErrorKind.HTTP_STATUS, f"the server answered {status}")

    # -- robots.txt --

    def robots(self, url: str, *, user_agent: str = "Googlebot") -> RobotsResult:
        """May ``user_agent`` crawl ``url`` under its site's robots.txt (Google's rules)?

        A robots.txt that is missing, unreachable, an HTML page or a 5xx answer
        allows everything here. Google pauses crawling on a 5xx robots.txt; we only
        want to know whether a rule shuts Googlebot out, and a failing file states
        no rule, so the note says what happened and the answer stays "allowed".
        """
        parts = urlsplit(normalize_url(url))
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._robots.get(origin)
        if entry is None:
            entry = self._fetch_robots(origin)
            self._robots.put(origin, entry)
        allowed = True if entry.rules is None else entry.rules.can_fetch(url, user_agent)
        return RobotsResult(f"{origin}/robots.txt", allowed, entry.status, entry.note)

    def _fetch_robots(self, origin: str) -> _RobotsEntry:
        fetched = self.fetch(f"{origin}/robots.txt", max_bytes=self.config.robots_max_bytes)
        expires = time.monotonic() + self.config.robots_ttl
        status = fetched.status
        if fetched.error_kind not in (None, ErrorKind.HTTP_STATUS):
            # Ask again sooner than for a real answer: the failure may be brief.
            expires = time.monotonic() + min(self.config.robots_ttl, 300.0)
            note = f"robots.txt not read ({fetched.error_kind}: {fetched.error}); allows all"
            return _RobotsEntry(expires, None, status, note)
        if status is not None and (status >= 500 or status == 429):
            return _RobotsEntry(expires, None, status, f"robots.txt answered {status}; allows all")
        if status is not None and status >= 400:
            return _RobotsEntry(expires, None, status, None)
        mime = fetched.content_type.split(";", 1)[0].strip().lower()
        if mime in HTML_TYPES or looks_like_html(fetched.body):
            # A site that answers every path with its home page has no robots.txt.
            return _RobotsEntry(expires, None, status, "robots.txt is an HTML page; allows all")
        text = fetched.body.decode("utf-8", "replace")
        return _RobotsEntry(expires, Protego.parse(text), status, None)


def _validated_or_none(url: str) -> str | None:
    try:
        return normalize_url(url)
    except InvalidURL:
        return None


def _classify(exc: BaseException, deadline: float, watch: _Watch) -> _Failure:
    """Name what went wrong, in the words the verdict uses."""
    if watch.fired or time.monotonic() >= deadline:
        return _Failure(ErrorKind.TIMEOUT, "the deadline passed while talking to the server")
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        nested = current.args[0] if current.args else None
        reason = getattr(current, "reason", None)
        current = (
            reason
            if isinstance(reason, BaseException)
            else nested
            if isinstance(nested, BaseException)
            else current.__cause__ or current.__context__
        )
    text = str(exc)
    if any(isinstance(e, ssl.SSLError | urllib3.exceptions.SSLError) for e in chain) or isinstance(
        exc, requests.exceptions.SSLError
    ):
        return _Failure(ErrorKind.TLS, f"TLS failed: {text}")
    if any(
        isinstance(e, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError)
        for e in chain
    ):
        return _Failure(ErrorKind.TIMEOUT, f"the server stopped answering: {text}")
    if any(
        isinstance(e, urllib3.exceptions.DecodeError | requests.exceptions.ContentDecodingError)
        for e in chain
    ):
        return _Failure(ErrorKind.PROTOCOL, f"the body could not be decoded: {text}")
    if any(
        isinstance(
            e,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ConnectTimeoutError
            | requests.exceptions.ConnectTimeout
            | ConnectionRefusedError,
        )
        for e in chain
    ):
        return _Failure(ErrorKind.CONNECT, f"cannot connect: {text}")
    if any(isinstance(e, ConnectionError | urllib3.exceptions.ProtocolError) for e in chain):
        return _Failure(ErrorKind.CONNECT, f"the connection broke: {text}")
    return _Failure(ErrorKind.PROTOCOL, f"the server's answer was not valid HTTP: {text}")
