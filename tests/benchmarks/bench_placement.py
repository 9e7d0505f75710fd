"""Cost of placement_of and kind_of against the verifier's parse, on the M pages.

Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_placement.py [--rounds 5] [--corpus PATH]

For each M page of the perf corpus (PERF-NOTES: ~172 KB blog posts with ~250
links), prints the fastest of --rounds parse times (on a shared machine the
minimum is the closest to the code's own cost), the time to place every anchor of the page
(with one ancestor cache for the page, and without), and per anchor. The verifier
places only the anchors that link to the target (one to three on a page), so the
figure that matters is "matched": one uncached placement_of + kind_of per page,
as a share of the parse. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from links.verification.parse import parse_html  # noqa: E402
from links.verification.placement import kind_of, placement_of  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/perf-pages")


def load(corpus: Path) -> list[tuple[str, bytes]]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [
        (entry["file"], gzip.decompress((corpus / entry["file"]).read_bytes()))
        for entry in manifest
        if entry["cls"] == "M"
    ]


def best_time(function: object, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        samples.append(time.perf_counter() - started)
    return min(samples)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--rounds", type=int, default=5)
    args = options.parse_args()

    pages = load(args.corpus)
    print(f"M pages: {len(pages)}, Python {sys.version.split()[0]}, best of {args.rounds}")
    print(
        f"  {'page':<26}{'anchors':>8}{'parse':>9}{'all, cache':>12}{'all, none':>11}"
        f"{'per anchor':>12}{'matched':>9}{'share':>8}"
    )
    totals: dict[str, list[float]] = {"parse": [], "cached": [], "uncached": [], "matched": []}
    per_anchor: list[float] = []
    for name, body in pages:
        parse_html(body)  # warm up the thread's parser
        parse = best_time(lambda body=body: parse_html(body), args.rounds)
        page = parse_html(body)
        elements = [anchor.element for anchor in page.anchors]

        def place_all_cached(elements: list = elements) -> None:
            cache: dict = {}
            for element in elements:
                placement_of(element, cache=cache)
                kind_of(element)

        def place_all(elements: list = elements) -> None:
            for element in elements:
                placement_of(element)
                kind_of(element)

        # "Matched": the verifier places the anchors that link to the target,
        # usually one; take the page's middle anchor, usually in the content.
        middle = elements[len(elements) // 2]

        def place_matched(element: object = middle) -> None:
            placement_of(element)
            kind_of(element)

        cached = best_time(place_all_cached, args.rounds)
        uncached = best_time(place_all, args.rounds)
        matched = best_time(place_matched, args.rounds * 20)
        totals["parse"].append(parse)
        totals["cached"].append(cached)
        totals["uncached"].append(uncached)
        totals["matched"].append(matched)
        per_anchor.append(uncached / len(elements))
        print(
            f"  {Path(name).name:<26}{len(elements):>8}{parse * 1000:>7.2f}ms"
            f"{cached * 1000:>10.2f}ms{uncached * 1000:>9.2f}ms"
            f"{uncached / len(elements) * 1e6:>10.1f}us{matched * 1e6:>7.1f}us"
            f"{matched / parse:>8.2%}"
        )
    parse = statistics.median(totals["parse"])
    print("medians over the pages:")
    print(f"  parse_html                          {parse * 1000:7.3f} ms/page")
    for key, label in (
        ("cached", "placement+kind, every anchor, cache"),
        ("uncached", "placement+kind, every anchor"),
        ("matched", "placement+kind, one matched anchor"),
    ):
        value = statistics.median(totals[key])
        print(f"  {label:<36}{value * 1000:7.3f} ms/page  {value / parse:7.2%} of the parse")
    print(f"  per anchor, uncached                {statistics.median(per_anchor) * 1e6:7.1f} us")


if __name__ == "__main__":
    main()
