"""Smoke test of `make run`: the one-box stack (SQLite, folder broker, web, worker
and beat) starts from the Makefile, serves the login page on 127.0.0.1, and
Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, deadline: float) -> int:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in time")


@pytest.mark.integration
def test_make_run_serves_the_login_page_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "STATIC_ROOT"}
    }
    env.update(VAR_DIR=str(tmp_path), PORT=str(port), HOST="127.0.0.1")
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status = wait_for(f"http://127.0.0.1:{port}/accounts/login/", time.monotonic() + 120)
        assert status == 200
        deadline = time.monotonic() + 60
        output = ""
        while time.monotonic() < deadline:
            output = (tmp_path / "run.log").read_text()
            if "ready." in output and "beat: Starting" in output:
                break
            time.sleep(0.5)
        assert "ready." in output, output[-3000:]  # the Celery worker is consuming
        assert "beat: Starting" in output, output[-3000:]
        assert (tmp_path / "anchorage.sqlite3").exists()
        assert "Logins (admin, manager, member)" in output
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        log.close()
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of the group is left running
