"""Real Celery workers for integration tests: separate processes on the test
database and the suite's Redis, exactly as production runs them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from kombu import Connection

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def worker_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """What a worker process is started with: this test process's database and
    Redis database (under xdist, its worker's own: tests/conftest.py)."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "integration-test",
        # As in the suite (tests/conftest.py): a test that wants relevance
        # passes RELEVANCE_ENABLED=1 with targets on 127.0.0.1.
        "RELEVANCE_ENABLED": "0",
        **(env or {}),
    }


def purge_queue() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()


def broker_idle() -> bool:
    """Nothing waits on any queue and nothing delivered is unacknowledged: with
    acks_late tasks, every task sent so far has finished."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter():
        # kombu's queues (one list per queue and priority) are the lists here.
        if client.type(key) == b"list" and client.llen(key):
            return False
    return not client.hlen("unacked")


def redeliver_expired(visibility_timeout: float) -> int:
    """What every worker's periodic sweep does, now rather than whenever kombu's
    throttled timer comes round (up to minutes later): put the delivered messages
    left unacknowledged longer than ``visibility_timeout`` (a dead worker's) back
    on their queues. Returns how many delivered messages are still unacknowledged."""
    with Connection(
        settings.CELERY_BROKER_URL, transport_options={"visibility_timeout": visibility_timeout}
    ) as connection:
        connection.default_channel.qos.restore_visible()
    return redis.Redis.from_url(settings.REDIS_URL).hlen("unacked")


# Celery's worker logs "Task name[id] received", then "succeeded in ...",
# "raised unexpected: ...", "retry: ..." and so on for the same id.
_TASK_LINE = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]{36})\] (?P<status>\S+)")


class Worker:
    def __init__(
        self,
        name: str,
        *,
        env: dict[str, str] | None = None,
        concurrency: int = 8,
        pool: str = "gevent",
        queues: str = "celery,bulk",
        log_dir: Path,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        full_env = worker_environment(env)
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--queues",
                queues,
                "--hostname",
                f"{name}@%h",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def _tasks(self) -> dict[str, tuple[str, str]]:
        """Each task id this worker received: its name and its last status word."""
        seen: dict[str, tuple[str, str]] = {}
        for match in _TASK_LINE.finditer(self.output()):
            seen[match["id"]] = (match["name"], match["status"])
        return seen

    def finished(self, name: str) -> int:
        """How many tasks called ``name`` this worker has run to the end."""
        return sum(
            1 for task, status in self._tasks().values() if task == name and status != "received"
        )

    def busy(self) -> int:
        """How many tasks this worker received and has not finished."""
        return sum(1 for _, status in self._tasks().values() if status == "received")

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(
            lambda: "ready." in self.output(),
            timeout,
            f"worker {self.name} ready",
            explain=lambda: self.output()[-3000:],
            meanwhile=self._alive,
        )

    def _alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited\n{self.output()[-3000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_all([self])


def stop_all(workers: Iterable[Worker]) -> None:
    """Stops every worker and whatever it started (a prefork pool's children).
    SIGKILL, not a warm shutdown: a test's workers are thrown away once it has
    asserted what it needed, and a warm shutdown of a gevent worker costs 5-15 s
    on a busy machine, for nothing any test looks at. What a killed worker leaves
    (unacknowledged messages) is purged with the queue; its database sessions end
    with its sockets."""
    workers = list(workers)
    for worker in workers:
        # The group too when the worker itself is gone: its pool's children may not be.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.process.pid, signal.SIGKILL)
    for worker in workers:
        worker.process.wait(timeout=20)
        worker.log.close()
