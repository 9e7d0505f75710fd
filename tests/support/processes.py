"""Run this project's Python in a fresh interpreter, as a process started from
the command line would be (its own settings, imports and start-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def environment(changes: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with Django's settings module set; ``changes``
    add variables, or remove those they map to None."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(
    *args: str, env: Mapping[str, str] | None = None, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python *args`` in the project's root, with ``env`` (by default
    ``environment()``) as its whole environment. ``check``: fail the test when
    the process fails."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env) if env is not None else environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
