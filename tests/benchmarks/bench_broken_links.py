"""Broken-link finder benchmark (prints figures; asserts nothing, exits 1 past the bars).

    scripts/with-services.sh .venv/bin/python tests/benchmarks/bench_broken_links.py

One resource page on 127.0.2.100 links to 300 pages spread over 60 hosts
(127.0.2.1-127.0.2.60, five links each; every tenth link is dead). An asyncio
server in a child process answers every request after 100 ms and records, per
host address, the most requests it was serving at once. The scan runs through
the real service (robots.txt, HEAD then GET, the Redis host limit, progress
writes and results in PostgreSQL), as the Celery task would run it.

Bars: under 15 s for the scan, never more than 2 requests at once to one host.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import sys
import time
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark")
os.environ["VERIFIER_ALLOW_PRIVATE_NETWORKS"] = "1"
os.environ.setdefault("VERIFIER_PER_HOST_LIMIT", "2")

HOST_COUNT = 60
HOSTS = [f"127.0.2.{i}" for i in range(1, HOST_COUNT + 1)]
PAGE_HOST = "127.0.2.100"
PORT = int(os.environ.get("BENCH_PORT", "18941"))
LATENCY = 0.100
LINKS = 300
TARGET_SECONDS = 15.0
MAX_PER_HOST = 2


def resource_page() -> bytes:
    items = []
    for n in range(LINKS):
        host = HOSTS[n % HOST_COUNT]
        path = f"/gone/{n}" if n % 10 == 0 else f"/article/{n}"
        items.append(
            f"<li>Read <a href='http://{host}:{PORT}{path}'>running guide {n}</a> "
            f"for tip number {n}.</li>"
        )
    return f"<html><body><h1>Resources</h1><ul>{''.join(items)}</ul></body></html>".encode()


async def _serve(
    page: bytes, active: SynchronizedArray, peak: SynchronizedArray, total: Synchronized
) -> None:
    index = {host: i for i, host in enumerate([*HOSTS, PAGE_HOST])}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        slot = index[writer.get_extra_info("sockname")[0]]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, path = head.split(b" ", 2)[:2]
                active[slot] += 1
                peak[slot] = max(peak[slot], active[slot])
                total.value += 1
                try:
                    await asyncio.sleep(LATENCY)
                finally:
                    active[slot] -= 1
                text = path.decode()
                if text == "/resources":
                    status, body = b"200 OK", page
                elif text.startswith("/article/"):
                    status, body = b"200 OK", b"<html><body>an article</body></html>"
                else:  # /gone/..., /robots.txt
                    status, body = b"404 Not Found", b"<html>not found</html>"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                    + (b"" if method == b"HEAD" else body)
                )  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host=[*HOSTS, PAGE_HOST], port=PORT, backlog=1024)
    async with server:
        await server.serve_forever()


def serve(page: bytes, active, peak, total) -> None:
    asyncio.run(_serve(page, active, peak, total))


def wait_for_server() -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((PAGE_HOST, PORT), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the benchmark server did not start")


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    from campaigns.models import Campaign, User

    call_command("migrate", verbosity=0)
    owner, _ = User.objects.get_or_create(username="bench")
    campaign, _ = Campaign.objects.get_or_create(
        slug="bench-broken", defaults={"name": "Bench", "site": "ours.example", "owner": owner}
    )
    return campaign, owner


def run_scan(campaign, owner, concurrency: int) -> tuple[float, object, int]:
    import redis
    from django.conf import settings

    from links.prospecting import services
    from links.prospecting.models import DeadLink
    from links.verification import verdict

    settings.BROKEN_LINKS_CONCURRENCY = concurrency
    redis.Redis.from_url(settings.REDIS_URL).delete(
        *[f"anchorage:site:{host}" for host in [*HOSTS, PAGE_HOST]]
    )
    # A fresh fetcher: no robots.txt cached from the previous run.
    verdict._fetchers.clear()
    scan = services.start_scan(campaign, by=owner, urls=[f"http://{PAGE_HOST}:{PORT}/resources"])
    started = time.perf_counter()
    finished = services.run_scan(scan.pk)
    elapsed = time.perf_counter() - started
    assert finished is not None
    return elapsed, finished, DeadLink.objects.filter(scan=scan).count()


def main() -> None:
    slots = HOST_COUNT + 1
    active = multiprocessing.Array("i", slots)
    peak = multiprocessing.Array("i", slots)
    total = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(
        target=serve, args=(resource_page(), active, peak, total), daemon=True
    )
    server.start()
    failed = False
    try:
        wait_for_server()
        campaign, owner = setup_django()
        from django.conf import settings

        print(
            f"Broken-link finder: 1 page, {LINKS} outbound links on {HOST_COUNT} hosts, "
            f"{LATENCY * 1000:.0f} ms per response"
        )
        # The configured concurrency, then far more threads than hosts, where only
        # the per-host limit stands between a host and a burst.
        for concurrency in (settings.BROKEN_LINKS_CONCURRENCY, 200):
            for i in range(slots):
                peak[i] = 0
            total.value = 0
            elapsed, scan, dead = run_scan(campaign, owner, concurrency)
            worst = max(peak[:HOST_COUNT])
            print(f"   {concurrency:>3} checks at once:")
            print(
                f"      scan           : {elapsed:.2f} s (target < {TARGET_SECONDS:.0f} s); "
                f"links checked {scan.links_checked}/{scan.links_total}, dead {dead} (expected 30)"
            )
            print(f"      requests served: {total.value} (robots.txt, HEAD, GET of the dead ones)")
            print(f"      max at once    : {worst} per host (limit {MAX_PER_HOST})")
            failed |= elapsed >= TARGET_SECONDS or worst > MAX_PER_HOST or dead != LINKS // 10
    finally:
        server.terminate()
    if failed:
        raise SystemExit("broken-link finder benchmark missed its bars")


if __name__ == "__main__":
    main()
