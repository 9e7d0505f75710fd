from __future__ import annotations

import logging
import os
from typing import Any

import redis
from celery import Celery, bootsteps
from celery.signals import before_task_publish, worker_process_init, worker_ready

from config.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("anchorage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)


class Heartbeat(bootsteps.StartStopStep):
    """Every worker records that it is alive, and on which queues, for /healthz
    (config/heartbeats.py says why a heartbeat rather than a ping). It runs on
    the consumer's timer, so it stops when the consumer stops."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None

    def start(self, c: Any) -> None:
        from django.conf import settings

        self.beat(c)
        # From the consumer's own event loop, so a consumer that stopped consuming
        # also stops beating.
        self.tref = c.timer.call_repeatedly(
            settings.HEALTH_WORKER_HEARTBEAT_SECONDS, self.beat, (c,)
        )

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def beat(self, c: Any) -> None:
        from config import heartbeats

        try:
            queues = [queue.name for queue in c.task_consumer.queues]
            heartbeats.record_worker(hostname=c.hostname, queues=queues)
        except (redis.RedisError, OSError) as exc:
            # The next beat tries again; /healthz reports the gap if it lasts.
            log.warning("worker heartbeat not recorded: %s", exc)


app.steps["consumer"].add(Heartbeat)


@before_task_publish.connect
def beat_sent_the_dispatcher(sender: str | None = None, **kwargs: Any) -> None:
    """Only beat sends the dispatcher, so this tells "beat stopped" apart from "the
    dispatcher was sent but no worker ran it" on /healthz."""
    from config import heartbeats

    if sender != heartbeats.DISPATCH_TASK:
        return
    try:
        heartbeats.record_beat()
    except (redis.RedisError, OSError) as exc:
        log.warning("beat heartbeat not recorded: %s", exc)


@worker_ready.connect
@worker_process_init.connect
def freeze_worker_startup_objects(**kwargs: Any) -> None:
    """Once the worker is ready (the gevent pool's tasks run in this process) and
    in each prefork child."""
    freeze_startup_objects()
