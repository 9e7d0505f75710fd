"""Cost of placement_of and kind_of against the verifier's parse, on the M pages.

Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_placement.py [--rounds 5] [--corpus PATH]

For each M page of the perf corpus (PERF-NOTES: ~172 KB blog posts with ~250
links), prints the fastest of --rounds parse times (on a shared machine the
minimum is the closest to the code's own cost), the time to place every anchor of the page
(with one ancestor cache for the page, and without), and per anchor. The verifier
places only the anchors that link to the target (one to three on a page), so the
figure that matters is "matched": one uncached placement_of + kind_of per page,
as a share of the parse.

Then the figure issue 14 asks for, the verifier's CPU per check before and after
placement: for each M page, a check of the page against a target it links to
from its content (its first "content" anchor in
tests/links/verification/placement_labels.json, or its first labelled anchor on
the six pages without one), run in-process from the fetched
bytes on: parse, match, judge (verdict, flags, differences, snippet, hash), with
placement and kind (``judge(place=True)``, what checks do now) and without
(``place=False``, the code before). Fetching is left out: it is the same either
way. Printed per page (best of --rounds, ms) and as total process CPU over every
page and round, interleaved so that both see the same machine. No assertions.
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

from urllib.parse import urljoin  # noqa: E402

from links.verification.fetch import FetchResult  # noqa: E402
from links.verification.parse import parse_html  # noqa: E402
from links.verification.placement import kind_of, placement_of  # noqa: E402
from links.verification.urls import InvalidURL, Target  # noqa: E402
from links.verification.verdict import VerificationResult, judge, read  # noqa: E402

LABELS = ROOT / "tests" / "links" / "verification" / "placement_labels.json"

DEFAULT_CORPUS = Path("/work/shared/corpus/perf-pages")


def load(corpus: Path) -> list[tuple[str, bytes]]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [
        (entry["file"], gzip.decompress((corpus / entry["file"]).read_bytes()))
        for entry in manifest
        if entry["cls"] == "M"
    ]


def check_cases(corpus: Path) -> list[tuple[str, FetchResult, Target]]:
    """Each M page as fetched, with a target it links to (from its content if it can)."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    labels = json.loads(LABELS.read_text())
    cases = []
    for entry in manifest:
        if entry["cls"] != "M":
            continue
        body = gzip.decompress((corpus / entry["file"]).read_bytes())
        fetched = FetchResult(
            url=entry["url"],
            final_url=entry["url"],
            status=200,
            body=body,
            encoding="utf-8",
            content_type="text/html",
            bytes_read=len(body),
        )
        page_labels = labels.get(entry["file"], [])
        # A link in the content when the page has one, else its first labelled link.
        ranked = sorted(page_labels, key=lambda label: label["placement"] != "content")
        for label in ranked:
            try:
                target = Target.page(urljoin(entry["url"], label["href"]))
            except InvalidURL:
                continue
            cases.append((entry["file"], fetched, target))
            break
    return cases


def one_check(fetched: FetchResult, target: Target, *, place: bool) -> VerificationResult:
    return judge(
        fetched.url,
        target,
        fetched,
        read(fetched, target),
        robots=None,
        redirects=[],
        notes=[],
        started=time.monotonic(),
        place=place,
    )


def bench_checks(corpus: Path, rounds: int) -> None:
    cases = check_cases(corpus)
    print()
    print(f"CPU per check (parse + match + judge), {len(cases)} M pages, best of {rounds}:")
    print(f"  {'page':<26}{'matched':>8}  {'placement':<27}{'before':>10}{'after':>10}{'more':>8}")
    before_cpu = after_cpu = 0.0
    befores, afters = [], []
    for name, fetched, target in cases:
        result = one_check(fetched, target, place=True)  # warm up the parser
        best = {False: float("inf"), True: float("inf")}
        for _ in range(rounds):
            for place in (False, True):
                cpu, wall = time.process_time(), time.perf_counter()
                one_check(fetched, target, place=place)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                best[place] = min(best[place], wall)
                if place:
                    after_cpu += cpu
                else:
                    before_cpu += cpu
        befores.append(best[False])
        afters.append(best[True])
        placed = ",".join(sorted({a.placement or "?" for a in result.anchors})) or "-"
        print(
            f"  {Path(name).name:<26}{len(result.anchors):>8}  {placed:<27}"
            f"{best[False] * 1000:>8.2f}ms{best[True] * 1000:>8.2f}ms"
            f"{best[True] / best[False] - 1:>8.1%}"
        )
    ratios = [a / b - 1 for b, a in zip(befores, afters, strict=True)]
    print(
        f"  median per check: before {statistics.median(befores) * 1000:.3f} ms, after "
        f"{statistics.median(afters) * 1000:.3f} ms; median change per page "
        f"{statistics.median(ratios):+.1%}"
    )
    print(
        f"  sum of best times: before {sum(befores) * 1000:.2f} ms, after "
        f"{sum(afters) * 1000:.2f} ms, {sum(afters) / sum(befores) - 1:+.1%}"
    )
    checks = len(cases) * rounds
    print(
        f"  process CPU over {checks} checks each: before {before_cpu / checks * 1000:.3f} ms, "
        f"after {after_cpu / checks * 1000:.3f} ms per check, {after_cpu / before_cpu - 1:+.1%}"
    )


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
    bench_checks(args.corpus, args.rounds)


if __name__ == "__main__":
    main()
