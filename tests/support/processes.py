"""Run Python code in a fresh interpreter of this project, as a process started
from the command line would (its own settings, imports and start-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, env: Mapping[str, str | None] = {}) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in the project's root with Django's settings module
    set; ``env`` adds variables, or removes those it maps to None. Fails the
    test when the code fails."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
