"""tests/support/waiting.py: the helper every process and server test waits with."""

from __future__ import annotations

import time

import pytest

from tests.support.waiting import wait_until


def test_returns_the_first_truthy_value_without_waiting_out_the_deadline():
    answers = iter([None, 0, "", "ready"])
    started = time.monotonic()
    assert wait_until(lambda: next(answers), timeout=30, interval=0.01) == "ready"
    assert time.monotonic() - started < 5


def test_fails_after_the_deadline_naming_what_it_waited_for_and_the_explanation():
    calls = []
    with pytest.raises(AssertionError) as failure:
        wait_until(
            lambda: calls.append(1),
            timeout=0.1,
            what="the worker",
            interval=0.01,
            explain=lambda: "log tail",
        )
    assert str(failure.value) == "timed out after 0.1 s waiting for the worker\nlog tail"
    assert len(calls) >= 2  # it kept trying until the deadline


def test_meanwhile_runs_between_attempts_and_can_fail_early():
    calls = []

    def died() -> None:
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError, match="exited"):
        wait_until(lambda: calls.append(1), timeout=30, meanwhile=died)
    assert len(calls) == 1


def test_the_last_attempt_is_made_at_the_deadline_and_meanwhile_not_after_it():
    attempts = []
    between = []
    with pytest.raises(AssertionError):
        wait_until(
            lambda: attempts.append(1),
            timeout=0,
            interval=0.01,
            meanwhile=lambda: between.append(1),
        )
    assert (len(attempts), len(between)) == (1, 0)
