"""links/verification is a Django-free library (an import-linter contract in
pyproject.toml). import-linter sees the project's own imports only, not what a
third-party package imports in turn, so scripts/verification_is_pure.py (also run by
`make lint`) imports the package in a fresh interpreter and looks at what got loaded."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.processes import environment, run_python

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts/verification_is_pure.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python(*args, env=environment({"DJANGO_SETTINGS_MODULE": None}), check=False)


def test_importing_every_verification_module_loads_no_django_and_no_other_project_code():
    done = run(str(SCRIPT))
    assert done.returncode == 0, done.stdout + done.stderr
    # It walked the package, not just its empty __init__.
    assert "links.verification: " in done.stdout
    count = int(done.stdout.split(": ")[1].split()[0])
    assert count >= 7


def test_the_check_names_django_and_project_modules_that_get_loaded():
    """The same check, with the package made to pull in Django and another app."""
    probe = (
        "import runpy, sys, django.utils, outreach.apps;"
        f"sys.argv = [{str(SCRIPT)!r}];"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    done = run("-c", probe)
    assert done.returncode == 1
    assert "django.utils" in done.stdout
    assert "outreach.apps" in done.stdout
