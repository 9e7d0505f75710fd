"""Every variable the settings read is documented once in the README's
configuration table and in .env.example, and neither documents a variable that
nothing reads (the compose file's own variables aside)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILES = [ROOT / "config/settings.py"]


def read_by_settings() -> set[str]:
    names: set[str] = set()
    for path in SETTINGS_FILES:
        names |= set(
            re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z][A-Z0-9_]*)"', path.read_text())
        )
    return names


def compose_variables() -> set[str]:
    """Variables docker-compose.yml interpolates itself (${NAME...})."""
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def in_readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_settings_read_variables_at_all():
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read_by_settings()


def test_every_setting_is_in_the_readme_table_and_nothing_else():
    read = read_by_settings()
    documented = in_readme_table()
    assert read - documented == set(), "read by settings but missing from the README table"
    assert documented - read - compose_variables() == set(), "in the README table, never read"


def test_every_setting_is_in_env_example_and_nothing_else():
    read = read_by_settings()
    listed = in_env_example()
    assert read - listed == set(), "read by settings but missing from .env.example"
    assert listed - read - compose_variables() == set(), "in .env.example, never read"
