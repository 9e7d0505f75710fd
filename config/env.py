"""Tiny typed readers for settings from the environment.

Every secret can also be read from a file named by ``<NAME>_FILE`` (Docker and
systemd secrets), which wins over the plain variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def load_development_env(path: Path) -> bool:
    """Fill in the environment from ``make run``'s ``var/dev.env`` when no
    SECRET_KEY was given, so a management command typed by hand in the same
    checkout finds the development key, DEBUG and the database `make run` uses.

    A process that was given SECRET_KEY (production, the test suite) never reads
    the file, and the container image never holds it (.dockerignore keeps var/
    out), so production still refuses to start without a key. Variables already
    set win over the file."""
    if "SECRET_KEY" in os.environ or "SECRET_KEY_FILE" in os.environ:
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        name = name.strip()
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name, value.strip())
    return True
