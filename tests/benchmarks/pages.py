"""Generated blog-post pages for benchmarks: about 150 KB with 300 links each,
like the M pages of shared/corpus/perf-pages, and a latency-adding HTTP server."""

from __future__ import annotations

import asyncio
import random

WORDS = [
    "link",
    "building",
    "outreach",
    "campaign",
    "anchor",
    "guide",
    "review",
    "running",
    "shoes",
    "trail",
    "marathon",
    "training",
    "plan",
    "pace",
    "stride",
    "coach",
    "gear",
    "budget",
    "beginner",
    "expert",
    "season",
    "weather",
]


def blog_post(n: int, *, target: str | None, links: int = 300, size: int = 150_000) -> bytes:
    rng = random.Random(n)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Post {n}</title><link rel='canonical' href='/post/{n}'>",
        "<meta name='viewport' content='width=device-width'></head><body>",
        "<header><nav>",
    ]
    parts += [f"<a href='/category/{i}'>Category {i}</a>" for i in range(20)]
    parts.append("</nav></header><main><article>")
    body_links = links - 40
    spot = rng.randrange(body_links)
    for i in range(body_links):
        text = " ".join(rng.choice(WORDS) for _ in range(40))
        href = f"https://site{rng.randrange(500)}.example/{rng.choice(WORDS)}/{i}"
        if target is not None and i == spot:
            href = target
        parts.append(f"<p>{text} <a href='{href}'>{rng.choice(WORDS)} {i}</a> {text}.</p>")
    parts.append("</article></main><footer>")
    parts += [f"<a href='/page/{i}' rel='nofollow'>Footer {i}</a>" for i in range(20)]
    parts.append("</footer></body></html>")
    html = "".join(parts)
    while len(html) < size:
        html = html.replace("</footer>", "<p>" + " ".join(WORDS) * 10 + "</p></footer>", 1)
    return html.encode()


async def _serve(
    hosts: list[str], port: int, pages: dict[str, bytes], latency: float, ready: asyncio.Event
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency)
                body = pages.get(path.split("?", 1)[0])
                status = b"200 OK" if body is not None else b"404 Not Found"
                body = body or b"not found"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host=hosts, port=port, backlog=1024)
    ready.set()
    async with server:
        await server.serve_forever()


def serve_forever(hosts: list[str], port: int, pages: dict[str, bytes], latency: float) -> None:
    """Run in a child process: one asyncio loop, each response held ``latency`` s."""
    ready = asyncio.Event()
    asyncio.run(_serve(hosts, port, pages, latency, ready))
