"""End-to-end verifier benchmark (prints figures; asserts nothing).

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_verifier.py [--pages M]

Serves generated ~150 KB blog posts with 300 links (or, with ``--pages M``, the
21 real ~172 KB pages of shared/corpus/perf-pages/M, each with one link to our
target added in its middle paragraph) from an asyncio server on
127.0.1.1-127.0.1.100 (one source host per address) that holds every response
100 ms, then measures, on this machine:

1. parse-only pages/s: the verifier's parse vs raw lxml on the same pages;
2. end to end, 2,000 backlinks: dispatcher → Redis → two Celery worker processes
   (gevent pool) → fetch → parse → record in PostgreSQL; checks/s, CPU ms per
   check and peak worker memory;
3. the naive baseline: a loop of requests.get + BeautifulSoup(html.parser).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import multiprocessing
import os
import re
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark")
os.environ["VERIFIER_ALLOW_PRIVATE_NETWORKS"] = "1"

from tests.benchmarks.pages import blog_post, serve_forever  # noqa: E402
from tests.support.workers import Worker  # noqa: E402

HOSTS = [f"127.0.1.{i}" for i in range(1, 101)]
PORT = 18931
LATENCY = 0.100
LINKS = int(os.environ.get("BENCH_LINKS", "2000"))
# How many distinct pages are served (40 generated posts, or the corpus's 21).
PAGES = 40
CORPUS = Path(os.environ.get("BENCH_CORPUS", "/work/shared/corpus/perf-pages"))
TARGET = "https://ours.example/guide/"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
POOL = os.environ.get("BENCH_POOL", "gevent")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def tree_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += tree_pids(int(child))
    return found


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait, since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def total_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a backend that exited
            total += cpu_seconds(pid)
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def corpus_pages(cls: str, target: str) -> list[bytes]:
    """The corpus pages of one size class, each with a link to ``target`` put in
    after the paragraph closest to its middle (so the verdict is live, as on the
    generated posts, and the link sits in the content)."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    pages = []
    for entry in manifest:
        if entry["cls"] != cls:
            continue
        body = gzip.decompress((CORPUS / entry["file"]).read_bytes())
        ends = [m.start() for m in re.finditer(b"</p>", body)] or [len(body) // 2]
        spot = min(ends, key=lambda i: abs(i - len(body) // 2)) + 4
        link = f'<p>As <a href="{target}">this guide</a> explains.</p>'.encode()
        pages.append(body[:spot] + link + body[spot:])
    return pages


def bench_parse(pages: list[bytes], label: str) -> None:
    import lxml.html

    from links.verification.parse import parse_html

    def raw_lxml(body: bytes) -> int:
        root = lxml.html.document_fromstring(body)
        count = 0
        for a in root.iter("a"):
            a.get("href"), a.get("rel"), a.text_content()
            count += 1
        for meta in root.iter("meta"):
            meta.get("name"), meta.get("content")
        for link in root.iter("link"):
            link.get("rel"), link.get("href")
        return count

    def timed(fn, rounds: int = 5) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for body in pages:
                fn(body)
            times.append((time.perf_counter() - start) / len(pages))
        return statistics.median(times)

    ours = timed(lambda body: parse_html(body, encoding="utf-8"))
    raw = timed(raw_lxml)
    print(f"1. Parse only ({label}, one core)")
    print(f"   verifier parse : {1 / ours:7.0f} pages/s  {ours * 1000:6.2f} ms/page")
    print(f"   raw lxml       : {1 / raw:7.0f} pages/s  {raw * 1000:6.2f} ms/page")
    print(f"   ratio          : {ours / raw:.2f}x raw lxml (target: within 2x)")


def start_server(pages: dict[str, bytes]) -> multiprocessing.Process:
    process = multiprocessing.Process(
        target=serve_forever, args=(HOSTS, PORT, pages, LATENCY), daemon=True
    )
    process.start()
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOSTS[-1], PORT), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the page server did not start")


def bench_naive(count: int = 60) -> float:
    import requests
    from bs4 import BeautifulSoup

    start = time.perf_counter()
    for n in range(count):
        html = requests.get(f"http://{HOSTS[n % 100]}:{PORT}/post/{n % PAGES}", timeout=15).text
        soup = BeautifulSoup(html, "html.parser")
        [a for a in soup.find_all("a", href=True) if a["href"] == TARGET]
    return count / (time.perf_counter() - start)


def bench_end_to_end(server_pid: int) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from campaigns.models import Campaign, User
    from links.models import Backlink, LinkCheck

    call_command("migrate", verbosity=0)
    LinkCheck.objects.all().delete()
    Backlink.objects.all().delete()
    owner, _ = User.objects.get_or_create(username="bench")
    campaign, _ = Campaign.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "site": "ours.example", "owner": owner}
    )
    now = timezone.now()
    due = now + timezone.timedelta(days=365)  # not due until we say so
    Backlink.objects.bulk_create(
        [
            Backlink(
                campaign=campaign,
                source_url=f"http://{HOSTS[n % 100]}:{PORT}/post/{n % PAGES}?b={n}",
                source_url_key=f"{HOSTS[n % 100]}:{PORT}/post/{n % PAGES}?b={n}",
                source_domain=HOSTS[n % 100],
                target_url=TARGET,
                target_url_key="ours.example/guide",
                next_check_at=due,
            )
            for n in range(LINKS)
        ],
        batch_size=1000,
    )
    import redis as redis_lib

    redis_lib.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    per_worker = int(os.environ.get("BENCH_TASKS_PER_WORKER", "12"))
    # BENCH_PROFILE=FILE: cProfile the first worker during the measured run
    # (tests/benchmarks/profile_hook), stats written to FILE.
    profile = os.environ.get("BENCH_PROFILE")
    hook = {
        "PYTHONPATH": str(Path(__file__).parent / "profile_hook"),
        "BENCH_PROFILE_OUT": str(Path(profile).resolve()) if profile else "",
    }
    workers = [
        Worker(
            f"bench{i}",
            log_dir=logs,
            concurrency=per_worker,
            pool=POOL,
            env=hook if profile and i == 0 else None,
        )
        for i in range(WORKERS)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        return measure(workers, now, server_pid)
    finally:
        for worker in workers:
            worker.stop()


def measure(workers: list[Worker], now, server_pid: int) -> dict[str, object]:
    import django
    from django.utils import timezone

    from links import tasks
    from links.models import Backlink, LinkCheck

    pids = [p for w in workers for p in tree_pids(w.process.pid)]
    cpu_before = sum(cpu_seconds(p) for p in pids)
    server_before = cpu_seconds(server_pid)
    postgres_before = total_cpu(postgres_pids())
    machine_before = machine_busy_seconds()
    profiled = workers[0].process.pid if os.environ.get("BENCH_PROFILE") else None
    if profiled:
        os.kill(profiled, signal.SIGRTMIN + 1)
    Backlink.objects.update(next_check_at=now - timezone.timedelta(minutes=1))
    started = time.perf_counter()
    dispatched = tasks.dispatch_due_checks()
    last_report = started
    while LinkCheck.objects.count() < dispatched:
        if time.perf_counter() - started > float(os.environ.get("BENCH_TIMEOUT", "600")):
            break
        if os.environ.get("BENCH_PROGRESS") and time.perf_counter() - last_report > 1:
            last_report = time.perf_counter()
            print(f"   ... {LinkCheck.objects.count()} checks after {last_report - started:.0f} s")
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    done = LinkCheck.objects.count()
    cpu_after = sum(cpu_seconds(p) for p in pids)
    if profiled:
        out = Path(os.environ["BENCH_PROFILE"])
        with contextlib.suppress(FileNotFoundError):
            out.unlink()
        os.kill(profiled, signal.SIGRTMIN + 2)
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # the dump may still be being written
    server_cpu = cpu_seconds(server_pid) - server_before
    # Backends that exited during the run are missed: a lower bound.
    postgres_cpu = total_cpu(postgres_pids()) - postgres_before
    machine_cpu = machine_busy_seconds() - machine_before
    peak = max(peak_rss_mb(p) for p in pids)
    # Open sockets and files of the workers at the end: idle keep-alive
    # connections a worker holds on to.
    fds = max(len(list(Path(f"/proc/{p}/fd").iterdir())) for p in pids)
    verdicts = dict(
        LinkCheck.objects.values_list("verdict").annotate(n=django.db.models.Count("pk"))
    )
    errors = (
        LinkCheck.objects.exclude(error="")
        .values_list("error")
        .annotate(n=django.db.models.Count("pk"))
        .order_by("-n")[:5]
    )
    for error, n in errors:
        print(f"   error x{n}: {error[:150]}")
    return {
        "checks": done,
        "elapsed": elapsed,
        "rate": done / elapsed,
        "cpu_ms": 1000 * (cpu_after - cpu_before) / max(done, 1),
        "peak_mb": peak,
        "fds": fds,
        "server_cores": server_cpu / elapsed,
        "postgres_cores": postgres_cpu / elapsed,
        "machine_cores": machine_cpu / elapsed,
        "verdicts": verdicts,
    }


def main() -> None:
    global PAGES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pages",
        choices=["generated", "S", "M", "Lr"],
        default="generated",
        help="serve generated posts (default) or the real pages of one corpus class",
    )
    args = parser.parse_args()
    if args.pages == "generated":
        bodies = [blog_post(n, target=TARGET) for n in range(PAGES)]
        label = "generated pages, 300 links"
    else:
        bodies = corpus_pages(args.pages, TARGET)
        label = f"real pages of perf-pages/{args.pages}"
    PAGES = len(bodies)
    pages = {f"/post/{n}": body for n, body in enumerate(bodies)}
    sizes = [len(p) for p in pages.values()]
    print(f"Pages: {len(pages)} {label}, {statistics.mean(sizes) / 1000:.0f} KB")
    print(f"Load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bench_parse(list(pages.values()), label)
    server = start_server(pages)
    try:
        naive = bench_naive()
        result = bench_end_to_end(server.pid)
    finally:
        server.terminate()
    print(
        f"2. End to end, {LINKS} backlinks on 100 hosts, {LATENCY * 1000:.0f} ms latency, "
        f"{WORKERS} gevent workers"
    )
    print(
        f"   checks         : {result['checks']} in {result['elapsed']:.1f} s "
        f"= {result['rate']:.0f} checks/s (target >= 350)  verdicts {result['verdicts']}"
    )
    print(f"   worker CPU     : {result['cpu_ms']:.1f} ms per check (target <= 5)")
    print(f"   peak worker RSS: {result['peak_mb']:.0f} MB; open files at the end {result['fds']}")
    print(
        f"   cores busy     : {result['machine_cores']:.2f} of {os.cpu_count()} in all; "
        f"page server {result['server_cores']:.2f}, PostgreSQL {result['postgres_cores']:.2f}"
    )
    print(f"   load average   : {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print("3. Naive baseline: requests.get + BeautifulSoup(html.parser), one at a time")
    print(f"   naive          : {naive:.1f} checks/s")
    print(f"   speed-up       : {result['rate'] / naive:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
