"""A real IMAP server for tests: Debian's Dovecot on 127.0.0.1, configured from scratch.

Usage, from any test (the fixture is registered in tests/conftest.py)::

    def test_reads_mail(imap_server):
        imap_server.deliver(b"From: a@b.example\\r\\nSubject: hi\\r\\n\\r\\nbody")
        box = imaplib.IMAP4(imap_server.host, imap_server.port)
        box.login(imap_server.user, imap_server.password)

``imap_server`` is session-scoped: one Dovecot for the whole run, started on a
free port with its own config, passwd file, maildir and sockets in a temporary
directory; nothing under /etc/dovecot is read. Each test gets an empty mailbox
through the function-scoped ``imap_mailbox`` fixture (which empties INBOX first
and returns the same object), so tests do not see each other's mail.

Dovecot's master process may run as root (CI does) but it refuses to hand mail
to uid 0, and its helper processes drop to unprivileged users. As root, mail is
owned by ``nobody`` and the internal and login processes run as ``dovenull``
(created by the Debian package) or ``nobody``. As any other user, everything
runs as that user.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, message: bytes | str, mailbox: str = "INBOX") -> None:
        """Put one RFC 5322 message into ``mailbox`` (created if missing), unread."""
        data = message.encode("utf-8") if isinstance(message, str) else message
        # IMAP wants CRLF line ends in a literal; tests write messages with \n.
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        client = self.connect()
        try:
            if mailbox != "INBOX":
                client.create(mailbox)  # fails harmlessly when it exists
            status, detail = client.append(mailbox, "", None, data)
            if status != "OK":
                raise RuntimeError(f"APPEND to {mailbox} failed: {detail!r}")
        finally:
            client.logout()

    def clear(self, mailbox: str = "INBOX") -> None:
        """Delete every message in ``mailbox``."""
        client = self.connect()
        try:
            status, count = client.select(mailbox)
            if status == "OK" and count[0] not in (b"0", None):
                client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()
        finally:
            client.logout()

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(f"none of the users {names} exists")


def _config(directory: Path, port: int, internal: str, login: str, first_uid: int) -> str:
    # Every path Dovecot would otherwise take from its build defaults is set here,
    # so the system's /etc/dovecot and /run/dovecot are never touched.
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {_group(internal)}
default_login_user = {login}
first_valid_uid = {first_uid}
last_valid_uid = 0
mail_location = maildir:{directory}/mail/%u
mail_privileged_group =
login_trusted_networks = 127.0.0.0/8
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {directory}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _group(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


USER = "digests"
PASSWORD = "s3cret-imap"


def start_imap_server(directory: Path, *, user: str = USER, password: str = PASSWORD) -> ImapServer:
    """Start Dovecot with its state in ``directory``; returns a running ImapServer."""
    if not os.path.exists(DOVECOT):
        pytest.fail(f"Dovecot not found at {DOVECOT}: `make test` installs dovecot-imapd")
    port = _free_port()
    if os.geteuid() == 0:
        mail_owner = _first_user("nobody")
        internal = _first_user("dovecot", "nobody").pw_name
        login = _first_user("dovenull", "nobody").pw_name
    else:
        mail_owner = pwd.getpwuid(os.geteuid())
        internal = login = mail_owner.pw_name
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    (directory / "passwd").write_text(
        f"{user}:{{PLAIN}}{password}:{mail_owner.pw_uid}:{mail_owner.pw_gid}::"
        f"{directory}/mail/{user}::\n"
    )
    config = directory / "dovecot.conf"
    config.write_text(_config(directory, port, internal, login, min(mail_owner.pw_uid, 500)))
    if os.geteuid() == 0:
        # The mail processes run as the mail owner and must reach its maildir.
        os.chmod(directory, 0o755)  # noqa: S103
        os.chown(directory / "mail", mail_owner.pw_uid, mail_owner.pw_gid)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.log").open("wb"),
        start_new_session=True,
    )
    server = ImapServer("127.0.0.1", port, user, password, directory, process)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                "Dovecot exited at start:\n"
                + (directory / "stderr.log").read_text(errors="replace")
                + server.log()
            )
        try:
            server.connect().logout()
            return server
        except (OSError, imaplib.IMAP4.error) as exc:
            if time.monotonic() > deadline:
                stop_imap_server(server)
                message = f"Dovecot refused a login for 20 s ({exc}):\n{server.log()}"
                raise RuntimeError(message) from exc
            time.sleep(0.1)


def stop_imap_server(server: ImapServer) -> None:
    process = server.process
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """One Dovecot for the session: host, port, user, password, deliver(), clear()."""
    directory = Path(tempfile.mkdtemp(prefix="anchorage-imap-"))
    server = start_imap_server(directory)
    try:
        yield server
    finally:
        stop_imap_server(server)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_mailbox(imap_server: ImapServer) -> ImapServer:
    """The session's server with an empty INBOX for this test."""
    imap_server.clear()
    return imap_server
