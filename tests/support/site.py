"""A real HTTP server on 127.0.0.1 for tests, and a tripwire on sockets.

A test server serves whatever routes a test registers and records every request
that reaches it, so a test can prove that a refused fetch never arrived. A
process-wide audit hook records every socket connect and every name lookup;
the suite's autouse fixture (tests/conftest.py) fails any test that tried to
reach a non-loopback address or to look up a real name.
"""

from __future__ import annotations

import ipaddress
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


# -- the test server -------------------------------------------------------------------

Handler = Callable[["RequestHandler"], None]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    handler: Handler | None = None
    # Some servers refuse HEAD; a route can act like one (405 without a body).
    head: bool = True


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
            site.methods.append((self.command, self.path))
        route = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
        if route is None:
            route = Route(status=404, body=b"<html><body>not found</body></html>")
        if route.handler is not None:
            # A handler serving HEAD checks self.command and sends no body.
            route.handler(self)
            return
        if self.command == "HEAD" and not route.head:
            self.send_response(405)
            self.send_header("Allow", "GET")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(route.status)
        names = {name.lower() for name, _ in route.headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in route.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(route.body)

    do_HEAD = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: TestSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (timeouts, byte caps, killed workers) are
        # what many tests are about; their resets are not server errors.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class TestSite:
    """Routes and recorded hits of one server on 127.0.0.1."""

    __test__ = False

    def __init__(
        self,
        tls: ssl.SSLContext | None = None,
        host_name: str | None = None,
        address: str = "127.0.0.1",
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.methods: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        # Any address in 127/8 is this machine on Linux: another one is another
        # host to code that tells sites apart by host.
        self._server = _Server((address, 0), RequestHandler)
        self._server.site = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host_name = host_name or address
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
        head: bool = True,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(status, data, headers or [], handler, head)
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
