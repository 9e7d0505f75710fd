"""Waiting on real processes and servers: poll a condition until it holds or a
deadline passes, instead of sleeping a fixed time and hoping.

A fixed sleep is either too short (a flaky test on a busy machine) or too long
(every run pays for the worst case). The deadline here is a failure threshold,
not a pace: on an idle machine the wait ends as soon as the condition holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    *,
    interval: float = 0.05,
    explain: Callable[[], str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> T:
    """Call ``condition`` every ``interval`` seconds until it returns something
    truthy, and return that. After ``timeout`` seconds fail with ``what`` and,
    when given, what ``explain()`` says (a log tail, say). ``meanwhile`` runs
    between attempts and may fail early (a process that died will not make the
    condition hold later)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        if meanwhile is not None:
            meanwhile()
        time.sleep(interval)
    message = f"timed out after {timeout:g} s waiting for {what}"
    if explain is not None:
        message += "\n" + explain()
    raise AssertionError(message)
