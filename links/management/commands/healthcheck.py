"""python manage.py healthcheck [CHECK ...] [--worker HOSTNAME]

The checks of /healthz from inside a container that serves no HTTP (workers,
beat): prints the JSON report, exit status 0 when every check passes, 1
otherwise. With no CHECK and no --worker, all of /healthz's checks.
``--worker celery@$HOSTNAME`` checks that this one worker sent a heartbeat
within HEALTH_WORKER_MAX_AGE_SECONDS.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Any

from django.core.management.base import BaseCommand

from config import health


class Command(BaseCommand):
    help = "Run /healthz's checks (database, redis, dispatch, workers); exit 1 if one fails."
    # A probe runs every few seconds while a container starts: Django's system
    # checks would add most of a second of CPU to each, and a warning there is
    # not the process being unhealthy.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("checks", nargs="*", metavar="CHECK", help=", ".join(health.CHECKS))
        parser.add_argument("--worker", default="", help="a worker's hostname, celery@host")

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = set(options["checks"]) - set(health.CHECKS)
        if unknown:
            self.stderr.write(f"unknown check(s): {', '.join(sorted(unknown))}")
            sys.exit(2)
        checks = {name: health.CHECKS[name] for name in options["checks"]}
        if options["worker"]:
            checks["worker"] = partial(health.check_worker, options["worker"])
        healthy, report = health.run_checks(checks or health.CHECKS)
        self.stdout.write(json.dumps(report))
        if not healthy:
            sys.exit(1)
