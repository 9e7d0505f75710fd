"""links/verification is a Django-free library (an import-linter contract in
pyproject.toml). import-linter sees the project's own imports only, not what a
third-party package imports in turn, so this imports every module of the package in
a fresh interpreter and looks at what got loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import importlib, json, pkgutil, sys
import links.verification as package
names = [package.__name__] + [
    info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""

PROJECT = ("campaigns", "outreach", "links", "config")


def probe() -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_importing_every_verification_module_loads_no_django_and_no_other_project_code():
    seen = probe()
    # The probe really walked the package (the modules named in its docstring at least).
    assert {"links.verification.urls", "links.verification.fetch"} <= set(seen["imported"])
    loaded = seen["loaded"]
    django = [m for m in loaded if m == "django" or m.startswith("django.")]
    assert django == []
    project = [
        m
        for m in loaded
        if m.split(".")[0] in PROJECT
        and m != "links"
        and m != "links.verification"
        and not m.startswith("links.verification.")
    ]
    assert project == []
