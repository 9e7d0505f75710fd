"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

    def test_sends(smtp_sink):
        ...  # send to smtp_sink.host, smtp_sink.port, login smtp_sink.user / .password
        (received,) = smtp_sink.messages
        assert received.message["Subject"] == "Hello"

A test can make it refuse a recipient (``refuse``), hold a conversation at RCPT
or at DATA until released (``hold_at``, ``held``, ``release``) so that a worker
can be killed mid-send, and file every accepted message in an IMAP Sent folder
the way Gmail does (``file_sent_in``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "outreach@agency.example"
PASSWORD = "smtp-pass-123"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        # As a mail client shows it: line ends as Python writes them.
        data = self.data.replace(b"\r\n", b"\n")
        return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    user: str = USER
    password: str = PASSWORD
    messages: list[Received] = field(default_factory=list)
    # address -> the refusal sent at RCPT, e.g. "550 5.1.1 No such user"
    refuse: dict[str, str] = field(default_factory=dict)
    # "rcpt" or "data": hold the conversation there until release is set
    hold_at: str = ""
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    # Called with the raw message on acceptance, before the 250 (e.g. deliver to Sent).
    file_sent_in: Callable[[bytes], None] | None = None
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received_by(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.rcpt_tos]


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def _hold(self, where: str) -> None:
        if self.sink.hold_at == where:
            self.sink.held.set()
            while not self.sink.release.is_set():
                await asyncio.sleep(0.05)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return self.sink.refuse[address]
        await self._hold("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        with self.sink.lock:
            self.sink.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        if self.sink.file_sent_in is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.sink.file_sent_in, data)
        await self._hold("data")
        return "250 2.0.0 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_smtp_sink() -> tuple[SmtpSink, Controller]:
    sink = SmtpSink(port=_free_port())

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == sink.user and auth_data.password.decode() == sink.password
        )
        if ok:
            sink.logins.append(auth_data.login.decode())
        # handled=False: the server itself answers 235 or 535.
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        _Handler(sink),
        hostname=sink.host,
        port=sink.port,
        # A fixed name: left empty, aiosmtpd looks up this machine's name in DNS.
        server_hostname="smtp.test",
        authenticator=authenticate,
        auth_require_tls=False,
        decode_data=False,
    )
    controller.start()
    return sink, controller


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink, controller = start_smtp_sink()
    try:
        yield sink
    finally:
        sink.release.set()
        controller.stop()
