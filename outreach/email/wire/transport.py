"""The private-address guard for mail servers, and the SMTP conversation, with
timeouts and nothing else (IMAP is ``imap.py``, behind the same guard).

SMTP is driven step by step instead of through ``sendmail`` because the caller
must write one thing to the database between RCPT and DATA: the moment the
message may have left. Before DATA nothing was transmitted, so a crash there is
safe to retry; after it, only the Sent folder (or a person) can tell.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# The fetcher's private-address guard, reused: links/verification is pure Python
# with no Django, shared by every app like its URL normalizer.
from links.verification.addresses import is_public_address, parse_ip_host
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


# smtplib connects to the host name it is given, and uses it for TLS (SNI and
# the certificate check). These connect the socket to the address that was
# checked instead and keep the name for TLS (imap.py does the same for IMAP).
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
