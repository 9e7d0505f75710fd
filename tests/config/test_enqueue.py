"""Services queue tasks through TaskRefs that the tasks modules bind."""

from __future__ import annotations

import pytest

from config import enqueue
from config.enqueue import TaskRef
from links import dispatch, tasks


def test_every_task_ref_is_bound_once_django_is_set_up() -> None:
    assert enqueue.unbound() == []


def test_a_ref_queues_the_task_it_names() -> None:
    assert dispatch.check_batch.name == tasks.check_backlinks.name


def test_a_ref_refuses_a_task_of_another_name() -> None:
    ref: TaskRef[[int]] = TaskRef("links.tasks.no_such_task")
    try:
        with pytest.raises(ValueError, match="no_such_task"):
            ref.bind(tasks.check_backlinks)
        with pytest.raises(RuntimeError, match="never bound"):
            ref.delay(1)
    finally:
        enqueue._refs.remove(ref)
