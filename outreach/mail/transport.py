"""The SMTP and IMAP conversations, with timeouts and nothing else.

SMTP is driven step by step instead of through ``sendmail`` because the caller
must write one thing to the database between RCPT and DATA: the moment the
message may have left. Before DATA nothing was transmitted, so a crash there is
safe to retry; after it, only the Sent folder (or a person) can tell.
"""

from __future__ import annotations

import imaplib
import ipaddress
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import Any

# The fetcher's private-address guard, reused: links/verification is pure Python
# with no Django, shared by every app like its URL normalizer.
from links.verification.fetch import is_public_address, parse_ip_host
from links.verification.urls import InvalidURL

NONE, STARTTLS, SSL = "none", "starttls", "ssl"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str
    timeout: float = 30
    # Our name in EHLO: the sender's domain. Left to smtplib, it would look up
    # this machine's own name in DNS on every connection.
    local_hostname: str = "localhost"
    # Off: the host must resolve to public addresses only (the fetcher's guard),
    # so a mailbox cannot point the workers at the database, Redis or metadata.
    allow_private_networks: bool = False


class PermanentFailure(Exception):
    """The server refused for good (5xx): sending again will not help."""

    def __init__(self, code: int, text: str, *, recipient_refused: bool = False) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text
        self.recipient_refused = recipient_refused


class TemporaryFailure(Exception):
    """Nothing was transmitted and a later try may work (4xx, connection errors)."""


class LoginRefused(TemporaryFailure):
    """The server refused the mailbox's login: its settings need fixing, not the email."""


class Ambiguous(Exception):
    """The connection broke after DATA began: the server may have the message."""


class HostRefused(TemporaryFailure):
    """The host is, or resolves to, an address mail may not go to: the mailbox's
    settings need fixing."""


def checked_address(host: str, port: int, *, allow_private_networks: bool) -> str:
    """The address to connect to for ``host``, after the fetcher's guard: every
    address the name resolves to must be public (one public and one private is a
    rebinding attempt), unless private networks are allowed. The caller connects
    to this address, not to the name, so DNS cannot answer differently in between."""
    try:
        literal = parse_ip_host(host)
    except InvalidURL as exc:
        raise HostRefused(f"{host}: {exc}") from exc
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise TemporaryFailure(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise TemporaryFailure(f"{host} has no address")
    for ip in addresses:
        # 0.0.0.0 and multicast are never a server (on Linux 0.0.0.0 is this machine).
        never = ip.is_unspecified or ip.is_multicast
        if never or not (allow_private_networks or is_public_address(ip)):
            raise HostRefused(
                f"{host} is {ip}, not an address on the public internet: mail servers "
                "on private networks or this machine are refused "
                "(MAIL_ALLOW_PRIVATE_NETWORKS allows them)."
            )
    return str(addresses[0])


# smtplib and imaplib connect to the host name they are given, and use it for
# TLS (SNI and the certificate check). These connect the socket to the address
# that was checked instead and keep the name for TLS.
class _PinnedSMTP(smtplib.SMTP):
    def __init__(self, *args: Any, pinned: str, **kwargs: Any) -> None:
        self._pinned = pinned
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self._pinned, port, timeout)


class _PinnedSMTP_SSL(smtplib.SMTP_SSL):
    def __init__(self, *args: Any, pinned: str, **kwargs: Any) -> None:
        self._pinned = pinned
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(self._pinned, port, timeout)


class _PinnedIMAP4(imaplib.IMAP4):
    def __init__(self, host: str, port: int, *, pinned: str, timeout: float) -> None:
        self._pinned = pinned
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._pinned, self.port), timeout)


class _PinnedIMAP4_SSL(imaplib.IMAP4_SSL):
    def __init__(
        self, host: str, port: int, *, pinned: str, timeout: float, ssl_context: ssl.SSLContext
    ) -> None:
        self._pinned = pinned
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._pinned, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", errors="replace") if isinstance(text, bytes) else str(text)


class SmtpSession:
    """One SMTP connection: ``envelope(sender, recipient)``, then ``data(bytes)``."""

    def __init__(self, server: Server) -> None:
        address = checked_address(
            server.host, server.port, allow_private_networks=server.allow_private_networks
        )
        try:
            if server.security == SSL:
                self.client: smtplib.SMTP = _PinnedSMTP_SSL(
                    server.host,
                    server.port,
                    local_hostname=server.local_hostname,
                    timeout=server.timeout,
                    context=ssl.create_default_context(),
                    pinned=address,
                )
            else:
                self.client = _PinnedSMTP(
                    server.host,
                    server.port,
                    local_hostname=server.local_hostname,
                    timeout=server.timeout,
                    pinned=address,
                )
                if server.security == STARTTLS:
                    self.client.starttls(context=ssl.create_default_context())
            self.client.ehlo_or_helo_if_needed()
            if server.username:
                self.client.login(server.username, server.password)
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise LoginRefused(f"{exc.smtp_code} {_decode(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TemporaryFailure(
                f"SMTP connection to {server.host}:{server.port}: {exc}"
            ) from exc

    def envelope(self, sender: str, recipient: str) -> None:
        try:
            code, text = self.client.mail(sender)
            if code != 250:
                self._refused(code, text)
            code, text = self.client.rcpt(recipient)
            if code not in (250, 251):
                self._refused(code, text, recipient_refused=True)
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP envelope: {exc}") from exc

    def _refused(self, code: int, text: bytes, *, recipient_refused: bool = False) -> None:
        if 500 <= code < 600:
            raise PermanentFailure(code, _decode(text), recipient_refused=recipient_refused)
        raise TemporaryFailure(f"{code} {_decode(text)}")

    def data(self, payload: bytes) -> str:
        """Transmit the message. Returns the server's acceptance text."""
        try:
            code, text = self.client.data(payload)
        except smtplib.SMTPDataError as exc:
            # The server answered DATA itself with a refusal: nothing was taken.
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(exc.smtp_code, _decode(exc.smtp_error)) from exc
            raise TemporaryFailure(f"{exc.smtp_code} {_decode(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise Ambiguous(f"connection lost during DATA: {exc}") from exc
        return f"{code} {_decode(text)}"

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


@contextmanager
def smtp(server: Server) -> Iterator[SmtpSession]:
    session = SmtpSession(server)
    try:
        yield session
    finally:
        session.close()


# --- IMAP -----------------------------------------------------------------------------


class ImapError(Exception):
    """The IMAP server could not be reached or refused a command."""


# Both run on one response line of the IMAP server (imaplib caps a line at 1 MB):
# a literal then one run of digits, and an anchored pattern whose parts cannot
# overlap, so neither can backtrack more than linearly.
_UID = re.compile(rb"\bUID (\d+)")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')


def open_imap(
    host: str, port: int, *, security: str, timeout: float, allow_private_networks: bool
) -> imaplib.IMAP4:
    """An IMAP connection (TLS as asked, not logged in) to the checked address of
    ``host``. HostRefused or TemporaryFailure before any connection is made."""
    address = checked_address(host, port, allow_private_networks=allow_private_networks)
    if security == SSL:
        context = ssl.create_default_context()
        return _PinnedIMAP4_SSL(host, port, pinned=address, timeout=timeout, ssl_context=context)
    client = _PinnedIMAP4(host, port, pinned=address, timeout=timeout)
    if security == STARTTLS:
        client.starttls(ssl_context=ssl.create_default_context())
    return client


@contextmanager
def imap(server: Server) -> Iterator[ImapSession]:
    try:
        client = open_imap(
            server.host,
            server.port,
            security=server.security,
            timeout=server.timeout,
            allow_private_networks=server.allow_private_networks,
        )
        client.login(server.username, server.password)
    except (imaplib.IMAP4.error, OSError, TemporaryFailure) as exc:
        raise ImapError(f"IMAP {server.host}:{server.port}: {exc}") from exc
    session = ImapSession(client)
    try:
        yield session
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ImapError(f"IMAP {server.host}:{server.port}: {exc}") from exc
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    def __init__(self, client: imaplib.IMAP4) -> None:
        self.client = client

    def select(self, folder: str) -> int | None:
        """Open ``folder`` read-only; returns its UIDVALIDITY, or None if it does not exist."""
        status, _ = self.client.select(_quote(folder), readonly=True)
        if status != "OK":
            return None
        _, data = self.client.response("UIDVALIDITY")
        return int(data[0]) if data and data[0] else 0

    def uids(self, *, after_uid: int | None, since: date | None) -> list[int]:
        criteria: list[str] = []
        if after_uid is not None:
            criteria += ["UID", f"{after_uid + 1}:*"]
        if since is not None:
            criteria += ["SINCE", since.strftime("%d-%b-%Y")]
        status, data = self.client.uid("SEARCH", *(criteria or ["ALL"]))
        if status != "OK":
            raise ImapError(f"UID SEARCH failed: {data!r}")
        found = sorted(int(n) for n in (data[0] or b"").split())
        # "n:*" always matches the newest message, even below n.
        return [uid for uid in found if after_uid is None or uid > after_uid]

    def fetch(self, uid: int, *, limit: int | None = None) -> bytes | None:
        """The raw message, or its first ``limit`` bytes (an IMAP partial fetch:
        the rest of a 30 MB message never crosses the wire)."""
        # BODY.PEEK leaves the message unread for the people sharing the mailbox.
        part = "BODY.PEEK[]" if limit is None else f"BODY.PEEK[]<0.{int(limit)}>"
        status, data = self.client.uid("FETCH", str(uid), f"({part})")
        if status != "OK":
            raise ImapError(f"UID FETCH {uid} failed: {data!r}")
        for item in data:
            if isinstance(item, tuple) and _UID.search(item[0]):
                return item[1]
        return None  # expunged in the meantime

    def sent_folders(self, configured: str) -> list[str]:
        """The configured Sent folder first, then any folder flagged \\Sent."""
        folders = [configured] if configured else []
        status, lines = self.client.list()
        if status == "OK":
            for line in lines:
                match = _LIST_LINE.match(line or b"")
                if match and b"\\sent" in match["flags"].lower():
                    name = match["name"].decode("utf-8", errors="replace").strip('"')
                    if name not in folders:
                        folders.append(name)
        return folders

    def has_message_id(self, folder: str, message_id: str) -> bool:
        if self.select(folder) is None:
            return False
        status, data = self.client.uid("SEARCH", "HEADER", "Message-ID", _quote(message_id))
        return status == "OK" and bool((data[0] or b"").split())
