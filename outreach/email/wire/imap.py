"""The one IMAP client: reading replies and bounces (``outreach.email.replies``),
looking for an email in the Sent folder after a crash (``outreach.email.recovery``)
and reading journalist-query digests (``outreach.journalist_queries``).

Every connection goes to the address the private-address guard checked
(``transport.checked_address``), with a timeout; messages are read with
BODY.PEEK, so they stay unread for the people who share the mailbox.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date

from outreach.email.wire.transport import SSL, STARTTLS, Server, TemporaryFailure, checked_address


# imaplib connects to the host name it is given, and uses it for TLS (SNI and
# the certificate check): these connect to the checked address and keep the name.
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
def session(server: Server) -> Iterator[ImapSession]:
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
        try:
            return int(data[0]) if data and data[0] else 0
        except ValueError:
            # A server that sends none usable: 0, so UIDs are compared as if it never
            # renumbered them (the last UID read still guards against reading twice).
            return 0

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
