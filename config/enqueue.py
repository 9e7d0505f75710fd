"""Queue a Celery task from the code its task module calls, without importing it.

A tasks module imports its services (a task is a thin wrapper over one), so a
service that queues a task cannot import that task back: the two would import
each other. The service queues through a ``TaskRef`` declared where it can see
it, and the tasks module binds the task to it with ``@ref.bind``. Every Django
process imports the tasks modules (each app's ``ready()``; a worker also by
Celery's autodiscovery), so a ref is bound before any service runs; one that
is not is a wiring bug and fails loudly instead of dropping the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, ParamSpec, TypeVar

from django.db import transaction

P = ParamSpec("P")
T = TypeVar("T")

_refs: list[TaskRef[Any]] = []


class TaskRef(Generic[P]):
    """The Celery task named ``name``, taking ``P``, once its module has bound it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: Any = None  # a Celery task; Celery has no type hints
        _refs.append(self)

    def bind(self, task: T) -> T:
        """Decorate the Celery task (above ``@shared_task``) that this ref queues."""
        task_name = getattr(task, "name", None)
        if task_name != self.name:
            raise ValueError(f"TaskRef {self.name!r} cannot be bound to the task {task_name!r}")
        self._task = task
        return task

    def _bound(self) -> Any:
        if self._task is None:
            raise RuntimeError(f"the task {self.name} was never bound: is its module imported?")
        return self._task

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue the task now (its arguments must be JSON)."""
        self._bound().delay(*args, **kwargs)

    def delay_as(self, task_id: str, /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue the task now under this Celery task id (a job row keeps it, to revoke)."""
        self._bound().apply_async(args=args, kwargs=kwargs, task_id=task_id)

    def delay_each(self, calls: Sequence[tuple[Any, ...]]) -> None:
        """Queue the task once per tuple of arguments, now, over one broker
        connection and (Redis) one pipelined round trip."""
        task = self._bound()
        if not calls:
            return
        # kombu's publish batch sends the messages as one Redis pipeline: one
        # round trip instead of one per message, which on a loaded machine (each
        # round trip waits for the Redis server to be scheduled) was most of
        # the wall time. Brokers without batches publish one by one.
        with task.app.producer_or_acquire() as producer, producer.batch():
            for args in calls:
                # Celery would otherwise build a safe repr of the arguments for
                # each message (for logs and monitors): 40 % of the publishing CPU.
                task.apply_async(
                    args=args, producer=producer, argsrepr=f"<{self.name} batch>", kwargsrepr="{}"
                )

    def on_commit_each(self, calls: Sequence[tuple[Any, ...]]) -> None:
        """``delay_each`` once the current transaction commits."""
        calls = list(calls)
        transaction.on_commit(lambda: self.delay_each(calls))

    def on_commit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue the task once the current transaction commits: a worker must never
        see a row the transaction then rolls back."""
        transaction.on_commit(lambda: self.delay(*args, **kwargs))


def unbound() -> list[str]:
    """The names of the refs no task module has bound (none, once Django is set up)."""
    return [ref.name for ref in _refs if ref._task is None]
