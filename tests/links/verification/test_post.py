"""POST, the webhooks' request: the guard of GET (checked and pinned address,
one deadline), the answer read up to a cap, and no redirect followed."""

from __future__ import annotations

from links.verification.fetch import ErrorKind, FetchConfig, Fetcher
from tests.support.receiver import Receiver


def test_post_sends_the_body_and_headers(receiver: Receiver, fetcher: Fetcher) -> None:
    result = fetcher.post(
        receiver.url("/in"), b'{"a":1}', headers={"Content-Type": "application/json", "X-Sig": "s"}
    )
    assert result.ok, result.error
    assert result.status == 200
    assert result.body == b"ok"
    (request,) = receiver.requests
    assert request.path == "/in"
    assert request.body == b'{"a":1}'
    assert request.header("X-Sig") == "s"
    assert request.header("Content-Type") == "application/json"


def test_post_refuses_loopback_without_the_setting(receiver: Receiver) -> None:
    fetcher = Fetcher(FetchConfig(timeout=5.0))
    result = fetcher.post(receiver.url(), b"{}")
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert "loopback" in (result.error or "")
    assert receiver.hit_count == 0


def test_post_does_not_follow_a_redirect(receiver: Receiver, fetcher: Fetcher) -> None:
    receiver.answer(307)
    receiver.headers = [("Location", "http://127.0.0.1:1/elsewhere")]
    result = fetcher.post(receiver.url(), b"{}")
    assert result.error_kind == ErrorKind.HTTP_STATUS
    assert result.status == 307
    assert "does not follow" in (result.error or "")
    assert receiver.hit_count == 1


def test_post_reads_the_answer_up_to_the_cap(receiver: Receiver, fetcher: Fetcher) -> None:
    receiver.reply = b"x" * 100_000
    result = fetcher.post(receiver.url(), b"{}", max_bytes=1024)
    assert result.ok
    assert len(result.body) == 1024
    assert result.truncated


def test_an_error_answer_keeps_its_status_and_text(receiver: Receiver, fetcher: Fetcher) -> None:
    receiver.answer(500)
    result = fetcher.post(receiver.url(), b"{}")
    assert result.error_kind == ErrorKind.HTTP_STATUS
    assert result.status == 500
    assert result.body == b"receiver says no"
