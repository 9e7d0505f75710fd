"""Cost of topical relevance (links/verification/relevance.py) on the real M pages.

Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_relevance.py [--rounds 5] [--prospects 10000]

(a) The verifier's CPU per check, measured as bench_placement.py measures it:
    each M page as fetched, with a target it links to, run in-process through
    parse, match and judge (fetching left out: it is the same either way), in
    four variants, interleaved so that all see the same machine:

      base       judge(place=False), no relevance: the verifier before issue 14
      placement  judge(), no relevance: what checks did before this change
      skipped    judge() with a reference, page unchanged since it was scored
                 (relevance_unless_hash matches): what most checks do now
      scored     judge() with a reference, scoring the page

    A check scores only when the page was never scored, our target's text
    changed, or the score is older than RELEVANCE_RESCORE_DAYS (30) and the page
    changed (links/relevance.py). So the CPU per check over time is
    placement + share x (scored - placement), printed for a few shares of
    checks that score.

(b) Scoring throughput for --prospects prospect pages (fetch excluded): the
    background scoring runs the same post-fetch path (parse, match, judge with
    a reference); the M pages are cycled. Pages per second of process CPU,
    with the share that is relevance's own (main text + terms + score).

No assertions.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from bench_placement import DEFAULT_CORPUS, check_cases  # noqa: E402

from links.verification.fetch import FetchResult  # noqa: E402
from links.verification.parse import parse_html  # noqa: E402
from links.verification.relevance import (  # noqa: E402
    Reference,
    main_text,
    page_terms,
    score,
    terms_of,
)
from links.verification.urls import Target  # noqa: E402
from links.verification.verdict import judge, read  # noqa: E402

VARIANTS = ("base", "placement", "skipped", "scored")


def reference_for(body: bytes) -> Reference:
    """A reference made from another page of the corpus, with two keywords: the
    cost of scoring hardly depends on what the reference says."""
    terms = page_terms(parse_html(body))
    assert terms is not None
    built = Reference.build([terms], ["index funds", "retirement"])
    assert built is not None
    return built


def one_check(fetched: FetchResult, target: Target, variant: str, reference: Reference) -> None:
    reading = read(fetched, target)
    page_hash = ""
    if variant == "skipped":
        page_hash = hashlib.sha256(fetched.body).hexdigest()
    judge(
        fetched.url,
        target,
        fetched,
        reading,
        robots=None,
        redirects=[],
        notes=[],
        started=time.monotonic(),
        place=variant != "base",
        reference=None if variant in ("base", "placement") else reference,
        relevance_unless_hash=page_hash,
    )


def bench_checks(cases: list[tuple[str, FetchResult, Target]], rounds: int) -> dict[str, float]:
    references = [reference_for(cases[(i + 1) % len(cases)][1].body) for i in range(len(cases))]
    print(f"(a) CPU per check (parse + match + judge), {len(cases)} M pages, best of {rounds}:")
    print(f"  {'page':<26}" + "".join(f"{v:>11}" for v in VARIANTS) + f"{'scored':>9}")
    cpu = dict.fromkeys(VARIANTS, 0.0)
    bests: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for (name, fetched, target), reference in zip(cases, references, strict=True):
        one_check(fetched, target, "scored", reference)  # warm up parser and caches
        best = dict.fromkeys(VARIANTS, float("inf"))
        for _ in range(rounds):
            for variant in VARIANTS:
                started_cpu, started = time.process_time(), time.perf_counter()
                one_check(fetched, target, variant, reference)
                best[variant] = min(best[variant], time.perf_counter() - started)
                cpu[variant] += time.process_time() - started_cpu
        for variant in VARIANTS:
            bests[variant].append(best[variant])
        print(
            f"  {Path(name).name:<26}"
            + "".join(f"{best[v] * 1000:>9.2f}ms" for v in VARIANTS)
            + f"{best['scored'] / best['placement'] - 1:>+9.0%}"
        )
    checks = len(cases) * rounds
    per_check = {v: cpu[v] / checks for v in VARIANTS}
    print("  process CPU per check over every page and round:")
    for variant in VARIANTS:
        print(
            f"    {variant:<10}{per_check[variant] * 1000:8.3f} ms"
            f"  ({per_check[variant] / per_check['base'] - 1:+.1%} on base,"
            f" {per_check[variant] / per_check['placement'] - 1:+.1%} on placement)"
        )
    print(
        "  median per page of best times (ms): "
        + ", ".join(f"{v} {statistics.median(bests[v]) * 1000:.2f}" for v in VARIANTS)
    )
    print("  CPU per check over time, by the share of checks that score:")
    for label, share in (
        ("every check scores", 1.0),
        ("1 in 2", 0.5),
        ("1 in 4 (weekly checks, monthly score)", 1 / 4),
        ("1 in 7", 1 / 7),
        ("1 in 30 (daily checks, monthly score)", 1 / 30),
    ):
        mean = per_check["skipped"] + share * (per_check["scored"] - per_check["skipped"])
        print(
            f"    {label:<38}{mean * 1000:8.3f} ms  {mean / per_check['base'] - 1:+.1%} on base,"
            f" {mean / per_check['placement'] - 1:+.1%} on placement"
        )
    return per_check


def bench_prospects(cases: list[tuple[str, FetchResult, Target]], count: int) -> None:
    reference = reference_for(cases[0][1].body)
    print(f"(b) Scoring {count} prospect pages (fetch excluded), cycling {len(cases)} M pages:")
    started_cpu, started = time.process_time(), time.perf_counter()
    scored = 0
    for index in range(count):
        _name, fetched, target = cases[index % len(cases)]
        reading = read(fetched, target)
        result = judge(
            fetched.url,
            target,
            fetched,
            reading,
            robots=None,
            redirects=[],
            notes=[],
            started=time.monotonic(),
            reference=reference,
        )
        scored += result.relevance is not None
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    print(
        f"  whole post-fetch path: {scored} scored in {cpu:.1f} s CPU ({wall:.1f} s wall): "
        f"{count / cpu:.0f} pages/s of CPU, {cpu / count * 1000:.2f} ms per page"
    )
    # Relevance's own share: main text, terms and score on trees parsed beforehand.
    pages = [parse_html(fetched.body) for _name, fetched, _target in cases]
    rounds = max(1, count // len(pages))
    started_cpu = time.process_time()
    for _ in range(rounds):
        for page in pages:
            score(terms_of(main_text(page.root, page.title)), reference)
    own = (time.process_time() - started_cpu) / (rounds * len(pages))
    print(
        f"  relevance alone (main text + terms + score, {rounds * len(pages)} pages): "
        f"{own * 1000:.2f} ms per page, {1 / own:.0f} pages/s of CPU"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--prospects", type=int, default=10_000)
    args = options.parse_args()
    cases = check_cases(args.corpus)
    print(f"Python {sys.version.split()[0]}")
    bench_checks(cases, args.rounds)
    print()
    bench_prospects(cases, args.prospects)


if __name__ == "__main__":
    main()
