"""Parse-only throughput of links.verification.parse against raw lxml and BeautifulSoup.

Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_parse.py [--rounds 5] [--corpus PATH]

Prints median ms/page and pages/s over the M pages of the perf corpus (PERF-NOTES:
~172 KB blog posts with ~250 links), one core, and the ratio of each parser to
raw lxml. Also prints the cost of matching hrefs to a target (host pre-filter vs
resolving every href) and of charset detection. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402
from bs4.dammit import EncodingDetector  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from links.verification.fetch import detect_encoding, sniff_encoding  # noqa: E402
from links.verification.parse import parse_html  # noqa: E402
from links.verification.urls import Target, find_links, resolve_href  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/perf-pages")


def load(corpus: Path, cls: str) -> list[tuple[str, bytes]]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [
        (entry["url"], gzip.decompress((corpus / entry["file"]).read_bytes()))
        for entry in manifest
        if entry["cls"] == cls
    ]


def raw_lxml(body: bytes) -> list[tuple[str, str, str | None]]:
    """The reference: what PERF-NOTES timed as "lxml.html from bytes + declared charset"."""
    parser = lxml_html.HTMLParser(encoding="utf-8")
    root = lxml_html.document_fromstring(body, parser=parser)
    anchors = []
    for a in root.iter("a"):
        href = a.get("href")
        if href is None:
            continue
        text = " ".join(a.text_content().split())
        if not text:
            text = " ".join(img.get("alt") or "" for img in a.iter("img")).strip()
        anchors.append((href, text, a.get("rel")))
    for meta in root.iter("meta"):
        meta.get("name")
        meta.get("content")
    for link in root.iter("link"):
        link.get("rel")
    for base in root.iter("base"):
        base.get("href")
    return anchors


def ours(body: bytes) -> object:
    return parse_html(body, "utf-8")


def soup_html_parser(body: bytes) -> list[tuple[str, str, Any]]:
    soup = BeautifulSoup(body, "html.parser", from_encoding="utf-8")
    anchors = []
    for a in soup.find_all("a", href=True):
        for script in a.find_all("script"):
            script.decompose()
        text = " ".join(a.get_text().split())
        if not text:
            text = " ".join(img.get("alt") or "" for img in a.find_all("img")).strip()
        anchors.append((a["href"], text, a.get("rel")))
    soup.find_all("meta", attrs={"name": True})
    soup.find("link", rel="canonical")
    soup.find("base")
    return anchors


def time_per_page(
    function: Callable[[bytes], object], pages: list[bytes], rounds: int
) -> list[float]:
    samples: list[float] = []
    for _ in range(rounds):
        for body in pages:
            started = time.perf_counter()
            function(body)
            samples.append(time.perf_counter() - started)
    return samples


def report(name: str, samples: list[float], reference: float | None) -> float:
    median = statistics.median(samples)
    ratio = f"{median / reference:5.2f}x raw lxml" if reference else "    1.00x (reference)"
    print(f"  {name:<34} {median * 1000:7.2f} ms/page {1 / median:8.0f} pages/s   {ratio}")
    return median


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--soup-rounds", type=int, default=1)
    args = options.parse_args()

    entries = load(args.corpus, "M")
    pages = [body for _url, body in entries]
    print(
        f"M pages: {len(pages)}, mean {statistics.mean(len(p) for p in pages) / 1024:.0f} KB, "
        f"Python {sys.version.split()[0]}"
    )

    for body in pages:  # warm up: imports, thread-local parser, caches
        raw_lxml(body)
        ours(body)

    print("parse (anchors with text/alt and rel, meta robots, canonical, base):")
    reference = report(
        "raw lxml.html (reference)", time_per_page(raw_lxml, pages, args.rounds), None
    )
    report("links.verification.parse", time_per_page(ours, pages, args.rounds), reference)
    report(
        "BeautifulSoup(html.parser), naive",
        time_per_page(soup_html_parser, pages, args.soup_rounds),
        reference,
    )

    print("matching the hrefs of one page to a target:")
    parsed = [(url, parse_html(body, "utf-8")) for url, body in entries]
    other = Target.page("https://ours.example/guide")
    samples_filter: list[float] = []
    samples_own_host: list[float] = []
    samples_naive: list[float] = []
    for _ in range(args.rounds):
        for url, page in parsed:
            hrefs = page.hrefs
            started = time.perf_counter()
            find_links(other, hrefs, page_url=url, base_href=page.base_href)
            samples_filter.append(time.perf_counter() - started)
            # Worst case for the filter: the target is on the page's own host, so
            # every relative href must be resolved.
            own = Target.domain(url)
            started = time.perf_counter()
            find_links(own, hrefs, page_url=url, base_href=page.base_href)
            samples_own_host.append(time.perf_counter() - started)
            started = time.perf_counter()
            for href in hrefs:
                resolved = resolve_href(href, url)
                if resolved is not None:
                    other.matches(resolved)
            samples_naive.append(time.perf_counter() - started)
    anchors = statistics.mean(len(page.anchors) for _url, page in parsed)
    print(f"  (mean {anchors:.0f} anchors per page)")
    for name, samples in (
        ("host pre-filter, target elsewhere", samples_filter),
        ("host pre-filter, target = page host", samples_own_host),
        ("resolve + normalize every href", samples_naive),
    ):
        print(f"  {name:<36} {statistics.median(samples) * 1000:7.3f} ms/page")

    print("charset:")
    declared = [sniff_encoding(body, "text/html")[1] for body in pages]
    print(f"  declared in <meta> on {declared.count('meta')} of {len(pages)} pages")
    bare = [body.replace(b"charset", b"charzet") for body in pages]
    cyrillic = (
        "<html><body>" + "<p>Это обычная страница на русском языке без объявления.</p>" * 400
    ).encode("windows-1251")
    for name, function, inputs in (
        ("header/meta lookup (sniff_encoding)", lambda b: sniff_encoding(b, None), pages),
        ("no declaration, UTF-8 (detect_encoding)", detect_encoding, bare),
        ("no declaration, cp1251 (detect_encoding)", detect_encoding, [cyrillic]),
        (
            "no declaration, cp1251 (bs4 EncodingDetector)",
            lambda b: next(iter(EncodingDetector(b[: 64 * 1024]).encodings)),
            [cyrillic],
        ),
    ):
        samples = time_per_page(function, inputs, args.rounds)
        print(f"  {name:<46} {statistics.median(samples) * 1000:7.3f} ms/page")


if __name__ == "__main__":
    main()
