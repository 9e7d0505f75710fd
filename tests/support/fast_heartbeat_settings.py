"""The project's settings with workers beating every second, for a worker
process started by a test that watches it beat more than once (15 s apart in
production)."""

from config.settings import *  # noqa: F403

HEALTH_WORKER_HEARTBEAT_SECONDS = 1.0
