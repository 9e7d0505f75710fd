"""A real HTTP server on 127.0.0.1 for the verifier's tests, and a tripwire on sockets.

Every test here gets a fresh server that serves whatever routes the test
registers and records every request that reaches it, so a test can prove that a
refused fetch never arrived. A process-wide audit hook records every socket
connect and every name lookup; an autouse fixture fails any test that tried to
reach a non-loopback address or to look up a real name.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from links.verification.fetch import FetchConfig, Fetcher

# -- socket tripwire -------------------------------------------------------------------

_events: list[tuple[str, Any]] = []
_events_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        with _events_lock:
            _events.append(("connect", args[1]))
    elif event == "socket.getaddrinfo":
        with _events_lock:
            _events.append(("lookup", args[0]))


sys.addaudithook(_audit)


def _is_loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class SocketLog:
    start: int

    def _mine(self) -> list[tuple[str, Any]]:
        with _events_lock:
            return list(_events[self.start :])

    @property
    def connects(self) -> list[Any]:
        return [args for kind, args in self._mine() if kind == "connect"]

    @property
    def lookups(self) -> list[Any]:
        return [args for kind, args in self._mine() if kind == "lookup"]

    def connected_to(self, host: str, port: int | None = None) -> bool:
        for address in self.connects:
            if (
                isinstance(address, tuple)
                and str(address[0]) == host
                and (port is None or address[1] == port)
            ):
                return True
        return False


@pytest.fixture
def sockets() -> SocketLog:
    with _events_lock:
        return SocketLog(start=len(_events))


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback(sockets: SocketLog) -> Iterator[None]:
    yield
    for address in sockets.connects:
        if isinstance(address, tuple):
            assert _is_loopback(address[0]), f"a test connected to {address}"
    for host in sockets.lookups:
        text = host.decode() if isinstance(host, bytes) else str(host)
        # Literal addresses are parsed, not looked up; any name would go to DNS.
        try:
            ipaddress.ip_address(text.strip("[]").split("%")[0])
        except ValueError:
            pytest.fail(f"a test looked up the name {text!r}")


# -- the test server -------------------------------------------------------------------

Handler = Callable[["RequestHandler"], None]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    handler: Handler | None = None


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for
    # a delayed ACK and every request takes 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        with site.lock:
            site.hits.append((self.path, dict(self.headers.items())))
        route = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
        if route is None:
            route = Route(status=404, body=b"<html><body>not found</body></html>")
        if route.handler is not None:
            route.handler(self)
            return
        self.send_response(route.status)
        names = {name.lower() for name, _ in route.headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in route.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: TestSite


class TestSite:
    """Routes and recorded hits of one server on 127.0.0.1."""

    __test__ = False

    def __init__(self, tls: ssl.SSLContext | None = None, host_name: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), RequestHandler)
        self._server.site = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host_name = host_name
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host_name}:{self.port}{path}"

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        handler: Handler | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(status, data, headers or [], handler)
        return self.url(path)

    def page(self, path: str, html: str, **kwargs: Any) -> str:
        return self.route(path, html, **kwargs)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.route(path, b"", status=status, headers=[("Location", location)])

    def hits_for(self, path: str) -> int:
        with self.lock:
            return sum(1 for hit, _ in self.hits if hit == path)

    @property
    def hit_count(self) -> int:
        with self.lock:
            return len(self.hits)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


@pytest.fixture
def other_site() -> Iterator[TestSite]:
    """A second server: another port on loopback, for redirects that must be refused."""
    server = TestSite()
    yield server
    server.close()


def only(site: TestSite) -> Callable[[Any, int], bool]:
    """An address policy that allows exactly this one server."""

    def allowed(ip: Any, port: int) -> bool:
        return str(ip) == "127.0.0.1" and port == site.port

    return allowed


@pytest.fixture
def config() -> FetchConfig:
    return FetchConfig(
        timeout=5.0, allow_private_networks=True, user_agent="AnchorageBot/test (+http://x.test/)"
    )


@pytest.fixture
def fetcher(config: FetchConfig) -> Iterator[Fetcher]:
    instance = Fetcher(config)
    yield instance
    instance.close()


# -- TLS ---------------------------------------------------------------------------------


@dataclass
class Certificates:
    ca_file: str
    cert_file: str
    key_file: str
    wrong_cert_file: str
    wrong_key_file: str


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    folder = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Anchorage test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    for name in ("site", "wrong"):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}.test", cwd=folder)  # fmt: skip
        (folder / f"{name}.ext").write_text(
            f"subjectAltName=DNS:{name}.test\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n"
        )
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.ext",
            cwd=folder,
        )  # fmt: skip
    return Certificates(
        ca_file=str(folder / "ca.pem"),
        cert_file=str(folder / "site.pem"),
        key_file=str(folder / "site.key"),
        wrong_cert_file=str(folder / "wrong.pem"),
        wrong_key_file=str(folder / "wrong.key"),
    )


def tls_site(cert_file: str, key_file: str) -> TestSite:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return TestSite(tls=context, host_name="site.test")


def wait_until(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
