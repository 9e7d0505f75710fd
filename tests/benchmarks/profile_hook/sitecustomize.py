"""Profiles a benchmark's worker process (bench_verifier.py with BENCH_PROFILE).

Put on a worker's PYTHONPATH, this module is imported by Python at start-up. It
does nothing until the process gets SIGRTMIN+1 (start) and then SIGRTMIN+2
(stop, write the report to $BENCH_PROFILE_OUT). Real-time signals, because
Celery's worker owns SIGUSR1.

A sampling profiler on CPU time (ITIMER_PROF), not cProfile: under the gevent
pool greenlets switch in and out of functions, which cProfile reads as calls
that last while other greenlets run, and its per-call cost would double the
work measured. Each sample records the Python stack that was running; time in C
(lxml, sockets) is charged to the Python function that called it.
"""

from __future__ import annotations

import collections
import gc
import os
import signal
import time

_INTERVAL = 0.002
_stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
# CPU seconds and runs of the garbage collector, per generation, while profiling.
_gc_seconds = [0.0, 0.0, 0.0]
_gc_runs = [0, 0, 0]
_gc_started = [0.0]
_profiling = [False]
_started = [0.0]


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    if not _profiling[0]:
        return
    if phase == "start":
        _gc_started[0] = time.process_time()
    else:
        _gc_seconds[info["generation"]] += time.process_time() - _gc_started[0]
        _gc_runs[info["generation"]] += 1


def _where(frame) -> str:  # type: ignore[no-untyped-def]
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "python3.11/", "verifier-speed/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_name}"


def _sample(_signum: int, frame) -> None:  # type: ignore[no-untyped-def]
    stack = []
    while frame is not None:
        stack.append(_where(frame))
        frame = frame.f_back
    _stacks[tuple(stack)] += 1


def _start(_signum: int, _frame: object) -> None:
    _stacks.clear()
    _profiling[0] = True
    _started[0] = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, _INTERVAL, _INTERVAL)


def _stop(_signum: int, _frame: object) -> None:
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    _profiling[0] = False
    cpu = time.process_time() - _started[0]
    total = sum(_stacks.values()) or 1
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for stack, n in _stacks.items():
        own[stack[0]] += n
        for name in set(stack):
            inclusive[name] += n
    lines = [f"{total} samples of {_INTERVAL * 1000:.0f} ms CPU; {cpu:.1f} s CPU in all"]
    lines += [
        f"gc generation {g}: {_gc_runs[g]} runs, {_gc_seconds[g]:.2f} s CPU"
        f" ({100 * _gc_seconds[g] / max(cpu, 1e-9):.1f}%)"
        for g in range(3)
    ]
    lines.append("== own (the function itself, and C it calls) ==")
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in own.most_common(60)]
    lines.append("== inclusive ==")
    lines += [f"{100 * n / total:6.1f}%  {name}" for name, n in inclusive.most_common(120)]
    lines.append("== stacks ==")
    for stack, n in _stacks.most_common(300):
        lines.append(f"{n} " + ";".join(reversed(stack)))
    path = os.environ["BENCH_PROFILE_OUT"]
    with open(path + ".tmp", "w") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


if os.environ.get("BENCH_PROFILE_OUT"):
    gc.callbacks.append(_gc_watch)
    signal.signal(signal.SIGPROF, _sample)
    signal.signal(signal.SIGRTMIN + 1, _start)
    signal.signal(signal.SIGRTMIN + 2, _stop)
