"""Rendering script-built pages in Chromium (issue 16): what it costs, and how
many ordinary pages the escalation rule would wrongly send to it.

Run from the repository root (Chromium from Debian's package, /usr/bin/chromium):

    .venv/bin/python tests/benchmarks/bench_render.py [--renders 20] [--corpus PATH]

1. The rule (links.verification.scripted) on the 32 real pages of the perf
   corpus, all of which carry their links in the HTML: how many it selects
   (target 0 of 32), and its cost per page.
2. Renders of a small framework-built page (an empty ``#root`` filled by a
   script from same-site JSON) served on 127.0.0.1, through the renderer that
   checks use (one browser, a fresh context per page, every request through
   the guarded fetcher): renders per second, CPU ms per render (this process
   plus Chromium's), and Chromium's memory (PSS of its processes) after the
   run. No assertions; figures only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from links.verification.fetch import FetchConfig, sniff_encoding  # noqa: E402
from links.verification.parse import parse_html  # noqa: E402
from links.verification.scripted import script_signs  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/perf-pages")
TARGET = "https://ours.example/guide"

SHELL = b"""<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
<body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript>
<script src="/app.js"></script></body></html>"""
APP = b"""
fetch('/api/post.json').then(r => r.json()).then(post => {
  const root = document.getElementById('root');
  const h = document.createElement('h1'); h.textContent = post.title; root.appendChild(h);
  for (const item of post.links) {
    const p = document.createElement('p'); const a = document.createElement('a');
    a.href = item.href; a.textContent = item.text; p.appendChild(a); root.appendChild(p);
  }
});
"""
POST = json.dumps(
    {
        "title": "Ten trail shoes",
        "links": [{"href": f"/post/{i}", "text": f"post {i}"} for i in range(30)]
        + [{"href": TARGET, "text": "our guide"}],
    }
).encode()


def rule_on_corpus(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    selected: list[str] = []
    spent = 0.0
    for entry in manifest:
        body = gzip.decompress((corpus / entry["file"]).read_bytes())
        encoding, _source = sniff_encoding(body, "text/html")
        page = parse_html(body, encoding)
        started = time.perf_counter()
        signs = script_signs(body, page.root, len(page.anchors))
        spent += time.perf_counter() - started
        if signs.script_built:
            selected.append(f"{entry['file']}: {signs.reason}")
    print(f"rule: selects {len(selected)} of {len(manifest)} real pages (target 0)")
    for line in selected:
        print(f"  {line}")
    print(f"rule: {spent / len(manifest) * 1000:.2f} ms per page (after the parse)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    routes = {
        "/": (SHELL, "text/html; charset=utf-8"),
        "/app.js": (APP, "application/javascript"),
        "/api/post.json": (POST, "application/json"),
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body, kind = self.routes.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def renders(count: int) -> None:
    from links.verification.render.engine import Renderer, RenderLimits, chromium_path
    from links.verification.render.verify import verify_rendered

    if chromium_path() is None:
        print("render: Chromium is not installed (apt-get install chromium); skipped")
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    renderer = Renderer(RenderLimits(timeout=20.0))
    config = FetchConfig(timeout=10.0, allow_private_networks=True)
    try:
        first = verify_rendered(url, TARGET, config=config, renderer=renderer, when="always")
        print(f"render: first render (browser start included) {first.elapsed_ms} ms, "
              f"verdict {first.verdict}, rendered {first.rendered}")  # fmt: skip
        if first.error:
            print(f"render: first render failed: {first.error}")
        cpu_self = time.process_time()
        cpu_children = renderer.chromium_cpu_seconds()
        started = time.perf_counter()
        verdicts = set()
        for _ in range(count):
            result = verify_rendered(url, TARGET, config=config, renderer=renderer, when="always")
            verdicts.add(str(result.verdict))
        wall = time.perf_counter() - started
        cpu_self = time.process_time() - cpu_self
        cpu_children = renderer.chromium_cpu_seconds() - cpu_children
        pss = renderer.chromium_memory_mb(pss=True)
        print(
            f"render: {count} renders in {wall:.2f} s = {count / wall:.1f} renders/s (one browser)"
        )
        print(f"render: CPU per render {cpu_self / count * 1000:.0f} ms in Python + "
              f"{cpu_children / count * 1000:.0f} ms in Chromium")  # fmt: skip
        print(f"render: Chromium PSS after the run {pss:.0f} MB; verdicts {sorted(verdicts)}")
    finally:
        renderer.close()
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if (args.corpus / "manifest.json").exists():
        rule_on_corpus(args.corpus)
    else:
        print(f"rule: no corpus at {args.corpus}; skipped")
    renders(args.renders)


if __name__ == "__main__":
    main()
