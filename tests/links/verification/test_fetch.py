from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib

import brotli
import pytest

from links.verification.fetch import (
    ErrorKind,
    FetchConfig,
    Fetcher,
    codec_for_label,
    shared_ssl_context,
    sniff_encoding,
)
from tests.support.site import RequestHandler, SocketLog, TestSite
from tests.support.waiting import wait_until

from .conftest import Certificates, tls_site

HTML = "<html><body><a href='https://ours.example/'>ours</a></body></html>"


def test_fetches_a_page(site: TestSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(site.page("/p", HTML), html_only=True)
    assert result.ok
    assert result.status == 200
    assert result.body == HTML.encode()
    assert result.encoding == "utf-8"
    assert result.final_url == site.url("/p")
    assert result.bytes_read == len(HTML)
    assert not result.truncated


def test_sends_the_configured_user_agent(site: TestSite, fetcher: Fetcher) -> None:
    fetcher.fetch(site.page("/p", HTML))
    headers = site.hits[0][1]
    assert headers["User-Agent"] == "AnchorageBot/test (+http://x.test/)"
    assert "gzip" in headers["Accept-Encoding"]
    assert "br" in headers["Accept-Encoding"]


def test_default_user_agent_names_anchorage() -> None:
    assert "AnchorageBot" in FetchConfig().user_agent


def test_keeps_every_x_robots_tag_line(site: TestSite, fetcher: Fetcher) -> None:
    url = site.page(
        "/p", HTML, headers=[("X-Robots-Tag", "otherbot: nofollow"), ("X-Robots-Tag", "noindex")]
    )
    assert fetcher.fetch(url).x_robots_tag == ["otherbot: nofollow", "noindex"]


# -- redirects -----------------------------------------------------------------------------


def test_follows_a_chain_of_every_redirect_status(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/r1", "/r2", 301)
    site.redirect("/r2", site.url("/r3"), 302)
    site.redirect("/r3", "r4", 303)
    site.redirect("/r4", "/r5?x=1#frag", 307)
    site.redirect("/r5", "/final", 308)
    site.page("/final", HTML)
    result = fetcher.fetch(site.url("/r1"))
    assert result.ok
    assert result.final_url == site.url("/final")
    assert [(hop.url, hop.status) for hop in result.redirects] == [
        (site.url("/r1"), 301),
        (site.url("/r2"), 302),
        (site.url("/r3"), 303),
        (site.url("/r4"), 307),
        (site.url("/r5?x=1"), 308),
    ]


def test_five_redirects_are_allowed(site: TestSite, fetcher: Fetcher) -> None:
    for hop in range(5):
        site.redirect(f"/h{hop}", f"/h{hop + 1}")
    site.page("/h5", HTML)
    assert fetcher.fetch(site.url("/h0")).ok


def test_six_redirects_are_too_many(site: TestSite, fetcher: Fetcher) -> None:
    for hop in range(6):
        site.redirect(f"/h{hop}", f"/h{hop + 1}")
    site.page("/h6", HTML)
    result = fetcher.fetch(site.url("/h0"))
    assert result.error_kind == ErrorKind.TOO_MANY_REDIRECTS
    assert site.hits_for("/h6") == 0


def test_redirect_loop(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    result = fetcher.fetch(site.url("/a"))
    assert result.error_kind == ErrorKind.TOO_MANY_REDIRECTS
    assert "loop" in (result.error or "")
    assert site.hit_count == 6


def test_max_redirects_is_configurable(site: TestSite) -> None:
    site.redirect("/a", "/b")
    site.page("/b", HTML)
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, max_redirects=0))
    assert fetcher.fetch(site.url("/a")).error_kind == ErrorKind.TOO_MANY_REDIRECTS


def test_redirect_to_another_scheme_is_refused(site: TestSite, fetcher: Fetcher) -> None:
    site.redirect("/a", "file:///etc/passwd")
    result = fetcher.fetch(site.url("/a"))
    assert result.error_kind == ErrorKind.BAD_SCHEME


def test_redirect_without_location_is_the_answer(site: TestSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(site.route("/a", HTML, status=302))
    assert result.status == 302
    assert result.redirects == []


def test_cookies_set_on_a_redirect_are_sent_back(site: TestSite, fetcher: Fetcher) -> None:
    def gate(handler: RequestHandler) -> None:
        if "seen=1" in (handler.headers.get("Cookie") or ""):
            body = HTML.encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        handler.send_response(302)
        handler.send_header("Set-Cookie", "seen=1; Path=/")
        handler.send_header("Location", "/gate")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    site.route("/gate", handler=gate)
    assert fetcher.fetch(site.url("/gate")).status == 200


def test_cookies_do_not_leak_between_fetches(site: TestSite, fetcher: Fetcher) -> None:
    site.route("/set", HTML, headers=[("Set-Cookie", "session=abc; Path=/")])
    site.page("/next", HTML)
    fetcher.fetch(site.url("/set"))
    fetcher.fetch(site.url("/next"))
    assert "Cookie" not in site.hits[1][1]


# -- statuses and types ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 429, 500, 502, 503])
def test_error_statuses(site: TestSite, fetcher: Fetcher, status: int) -> None:
    result = fetcher.fetch(site.route("/e", "<html>nope</html>", status=status))
    assert result.error_kind == ErrorKind.HTTP_STATUS
    assert result.status == status
    assert result.body == b"<html>nope</html>"


def test_non_html_is_not_read(site: TestSite, fetcher: Fetcher) -> None:
    pdf = b"%PDF-1.7" + b"x" * 100_000
    url = site.route("/f.pdf", pdf, headers=[("Content-Type", "application/pdf")])
    result = fetcher.fetch(url, html_only=True)
    assert result.error_kind == ErrorKind.NOT_HTML
    assert result.bytes_read == 0


def test_untyped_html_is_sniffed(site: TestSite, fetcher: Fetcher) -> None:
    url = site.route("/u", "<!DOCTYPE html>" + HTML, headers=[("Content-Type", "text/plain")])
    assert fetcher.fetch(url, html_only=True).ok


def test_plain_text_is_not_html(site: TestSite, fetcher: Fetcher) -> None:
    url = site.route("/t", "just words", headers=[("Content-Type", "text/plain")])
    assert fetcher.fetch(url, html_only=True).error_kind == ErrorKind.NOT_HTML


def test_anything_goes_without_html_only(site: TestSite, fetcher: Fetcher) -> None:
    url = site.route("/j", '{"a": 1}', headers=[("Content-Type", "application/json")])
    assert fetcher.fetch(url).ok


# -- content encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
    ],
)
def test_compressed_bodies(site: TestSite, fetcher: Fetcher, coding: str, compress: object) -> None:
    body = (HTML * 200).encode()
    packed = compress(body)  # type: ignore[operator]
    url = site.route("/z", packed, headers=[("Content-Encoding", coding)])
    result = fetcher.fetch(url)
    assert result.ok
    assert result.body == body
    assert result.bytes_read == len(packed)


def test_broken_gzip_is_a_protocol_error(site: TestSite, fetcher: Fetcher) -> None:
    url = site.route("/z", b"not gzip at all", headers=[("Content-Encoding", "gzip")])
    assert fetcher.fetch(url).error_kind == ErrorKind.PROTOCOL


def test_gzip_bomb_stops_at_the_cap(site: TestSite) -> None:
    packed = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=1)
    url = site.route("/bomb", packed, headers=[("Content-Encoding", "gzip")])
    fetcher = Fetcher(FetchConfig(allow_private_networks=True, max_bytes=1024 * 1024))
    result = fetcher.fetch(url)
    assert result.truncated
    assert len(result.body) == 1024 * 1024
    assert result.bytes_read < len(packed)


# -- charsets ----------------------------------------------------------------------------------


def test_charset_from_the_header(site: TestSite, fetcher: Fetcher) -> None:
    body = "<a href='/x'>Купить слона</a>".encode("windows-1251")
    url = site.route("/c", body, headers=[("Content-Type", "text/html; charset=windows-1251")])
    result = fetcher.fetch(url)
    assert (result.encoding, result.encoding_source) == ("cp1251", "header")
    assert "Купить слона" in result.text


def test_charset_from_meta(site: TestSite, fetcher: Fetcher) -> None:
    body = '<meta charset="Shift_JIS"><a href="/x">日本語</a>'.encode("shift_jis")
    url = site.route("/c", body, headers=[("Content-Type", "text/html")])
    result = fetcher.fetch(url)
    assert (result.encoding, result.encoding_source) == ("cp932", "meta")
    assert "日本語" in result.text


def test_charset_from_http_equiv_meta(site: TestSite, fetcher: Fetcher) -> None:
    html = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>Привет</p>'
    url = site.route("/c", html.encode("koi8-r"), headers=[("Content-Type", "text/html")])
    assert fetcher.fetch(url).encoding == "koi8-r"


def test_header_charset_wins_over_meta(site: TestSite, fetcher: Fetcher) -> None:
    body = '<meta charset="utf-8"><p>Привет</p>'.encode("windows-1251")
    url = site.route("/c", body, headers=[("Content-Type", "text/html; charset=windows-1251")])
    assert fetcher.fetch(url).encoding == "cp1251"


def test_charset_detected_without_declaration(site: TestSite, fetcher: Fetcher) -> None:
    text = "<html><body><p>Это обычная страница на русском языке, без объявления кодировки.</p>"
    body = (text * 20).encode("windows-1251")
    url = site.route("/c", body, headers=[("Content-Type", "text/html")])
    result = fetcher.fetch(url)
    assert result.encoding_source == "detected"
    assert "обычная страница" in result.text


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("windows-1251", "cp1251"),
        ("Shift_JIS", "cp932"),
        ("x-sjis", "cp932"),
        ("gb2312", "gb18030"),
        ("euc-kr", "cp949"),
        ("UTF8", "utf-8"),
        ("no-such-charset", None),
    ],
)
def test_charset_labels_mean_what_browsers_mean(label: str, codec: str | None) -> None:
    assert codec_for_label(label) == codec


def test_bom_wins_over_everything() -> None:
    assert sniff_encoding(b"\xef\xbb\xbf<p>x</p>", "text/html; charset=latin1") == ("utf-8", "bom")


def test_meta_claiming_utf16_means_utf8() -> None:
    assert sniff_encoding(b'<meta charset="utf-16"><p>x</p>', None) == ("utf-8", "meta")


# -- deadlines and caps --------------------------------------------------------------------


def quick_config(**overrides: object) -> FetchConfig:
    return FetchConfig(allow_private_networks=True, timeout=1.0, **overrides)  # type: ignore[arg-type]


def test_server_that_never_answers(site: TestSite) -> None:
    def stall(handler: RequestHandler) -> None:
        time.sleep(4)

    url = site.route("/stall", handler=stall)
    started = time.monotonic()
    result = Fetcher(quick_config()).fetch(url)
    assert result.error_kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.5


def test_server_that_drips_the_body(site: TestSite) -> None:
    def drip(handler: RequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    url = site.route("/drip", handler=drip)
    started = time.monotonic()
    result = Fetcher(quick_config()).fetch(url)
    # Each byte arrives well within any per-read timeout; only a deadline on the
    # whole fetch stops this.
    assert result.error_kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.5


def test_server_that_drips_the_headers(site: TestSite) -> None:
    def drip(handler: RequestHandler) -> None:
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for index in range(1000):
                handler.wfile.write(f"X-Slow-{index}: 1\r\n".encode())
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    url = site.route("/drip-headers", handler=drip)
    started = time.monotonic()
    result = Fetcher(quick_config()).fetch(url)
    assert result.error_kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.5


def test_timeout_covers_the_whole_redirect_chain(site: TestSite) -> None:
    def slow_redirect(handler: RequestHandler) -> None:
        time.sleep(0.4)
        handler.send_response(302)
        handler.send_header("Location", f"/slow{int(handler.path[5:]) + 1}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    for hop in range(5):
        site.route(f"/slow{hop}", handler=slow_redirect)
    started = time.monotonic()
    result = Fetcher(quick_config()).fetch(site.url("/slow0"))
    assert result.error_kind == ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.0


def test_a_huge_page_stops_at_the_byte_cap(site: TestSite) -> None:
    total = 30 * 1024 * 1024
    sent = [0]

    def stream(handler: RequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
        try:
            while sent[0] < total:
                handler.wfile.write(chunk)
                sent[0] += len(chunk)
        except OSError:
            return

    url = site.route("/huge", handler=stream)
    config = FetchConfig(allow_private_networks=True, timeout=10.0)
    started = time.monotonic()
    result = Fetcher(config).fetch(url)
    elapsed = time.monotonic() - started
    assert result.ok
    assert result.truncated
    assert len(result.body) == config.max_bytes
    assert config.max_bytes <= result.bytes_read < config.max_bytes + 256 * 1024
    assert elapsed < 3
    # The server could not push the whole 30 MB: we hung up near the cap.
    wait_until(lambda: sent[0] < total and site.hit_count == 1, 2, "the server to stop")
    time.sleep(0.2)
    assert sent[0] < 12 * 1024 * 1024


def test_byte_cap_per_fetch(site: TestSite, fetcher: Fetcher) -> None:
    result = fetcher.fetch(site.page("/p", "x" * 5000), max_bytes=1000)
    assert result.truncated
    assert len(result.body) == 1000


# -- connections -------------------------------------------------------------------------


def test_connection_refused(fetcher: Fetcher) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert result.error_kind == ErrorKind.CONNECT


def test_garbage_instead_of_http(site: TestSite, fetcher: Fetcher) -> None:
    def garbage(handler: RequestHandler) -> None:
        handler.wfile.write(b"SSH-2.0-OpenSSH_9.0\r\n")
        handler.close_connection = True

    result = fetcher.fetch(site.route("/g", handler=garbage))
    assert result.error_kind in (ErrorKind.PROTOCOL, ErrorKind.CONNECT)
    assert result.status is None


def test_keep_alive_reuses_the_connection(
    site: TestSite, fetcher: Fetcher, sockets: SocketLog
) -> None:
    site.page("/a", HTML)
    site.page("/b", HTML)
    assert fetcher.fetch(site.url("/a")).ok
    assert fetcher.fetch(site.url("/b")).ok
    assert len(sockets.connects) == 1


def test_each_thread_has_its_own_session(site: TestSite, fetcher: Fetcher) -> None:
    site.page("/a", HTML)
    sessions: list[object] = []
    # A thread's session goes back to the idle list when the thread ends, for
    # the next new thread: none ends here before all three hold theirs.
    all_hold_one = threading.Barrier(3, timeout=30)

    def work() -> None:
        fetcher.fetch(site.url("/a"))
        sessions.append(fetcher._session())
        all_hold_one.wait()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(session) for session in sessions}) == 3


def test_one_ssl_context_for_the_process() -> None:
    first = Fetcher(FetchConfig())._ssl_context
    second = Fetcher(FetchConfig(timeout=3))._ssl_context
    assert first is second is shared_ssl_context()


def test_invalid_url(fetcher: Fetcher) -> None:
    assert fetcher.fetch("https://exa mple.com/").error_kind == ErrorKind.INVALID_URL


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(fetcher: Fetcher, url: str) -> None:
    assert fetcher.fetch(url).error_kind == ErrorKind.BAD_SCHEME


# -- TLS ---------------------------------------------------------------------------------------


def tls_config(certificates: Certificates) -> FetchConfig:
    return FetchConfig(
        allow_private_networks=True,
        ca_file=certificates.ca_file,
        resolver=lambda host, port: ["127.0.0.1"] if host.endswith(".test") else [],
        timeout=5.0,
    )


def test_https_verifies_the_name_while_connecting_to_the_checked_address(
    certificates: Certificates, sockets: SocketLog
) -> None:
    server = tls_site(certificates.cert_file, certificates.key_file)
    try:
        server.page("/secure", HTML)
        result = Fetcher(tls_config(certificates)).fetch(server.url("/secure"))
        assert result.ok, result.error
        assert result.address == "127.0.0.1"
        assert server.hits[0][1]["Host"] == f"site.test:{server.port}"
        assert sockets.connected_to("127.0.0.1", server.port)
    finally:
        server.close()


def test_https_with_a_certificate_for_another_name(certificates: Certificates) -> None:
    server = tls_site(certificates.wrong_cert_file, certificates.wrong_key_file)
    try:
        server.page("/secure", HTML)
        result = Fetcher(tls_config(certificates)).fetch(server.url("/secure"))
        assert result.error_kind == ErrorKind.TLS
        assert server.hit_count == 0
    finally:
        server.close()


def test_https_with_an_unknown_authority(certificates: Certificates) -> None:
    server = tls_site(certificates.cert_file, certificates.key_file)
    try:
        server.page("/secure", HTML)
        config = FetchConfig(
            allow_private_networks=True, resolver=lambda host, port: ["127.0.0.1"], timeout=5.0
        )
        assert Fetcher(config).fetch(server.url("/secure")).error_kind == ErrorKind.TLS
    finally:
        server.close()


def test_a_new_thread_takes_the_session_of_a_thread_that_ended(
    site: TestSite, fetcher: Fetcher
) -> None:
    # The verifier's pool starts new threads for every batch: sessions of threads
    # that ended are reused, not kept (with their connections) forever.
    site.page("/a", HTML)
    sessions: list[object] = []

    def work() -> None:
        assert fetcher.fetch(site.url("/a")).ok
        sessions.append(fetcher._session())

    for _ in range(5):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert len({id(session) for session in sessions}) == 1
    assert len(fetcher._sessions) == 1
