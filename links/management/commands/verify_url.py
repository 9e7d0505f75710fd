"""Debug one link from a terminal: fetch, parse and judge, without the database."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from links.checking import fetch_config
from links.verification.relevance import Reference, read_target
from links.verification.urls import InvalidURL, normalize_url
from links.verification.verdict import shared_fetcher, verify


class Command(BaseCommand):
    help = "Verify that SOURCE_URL links to TARGET_URL and print the verdict."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source_url")
        parser.add_argument("target_url")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--anchor", default=None, help="The anchor text agreed.")
        parser.add_argument(
            "--keyword",
            action="append",
            default=[],
            help="A campaign keyword the relevance score also weighs (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("source_url", "target_url"):
            try:
                normalize_url(options[name])
            except InvalidURL as exc:
                raise CommandError(f"{name.upper()}: {exc}", returncode=2) from exc
        fetcher = shared_fetcher(fetch_config())
        target_errors: list[str] = []

        def reference() -> Reference | None:
            # The target page, through the same fetcher and guard, read only once
            # the source page was: a target we cannot read leaves relevance null.
            target = read_target(fetcher, options["target_url"])
            if target.terms is None:
                target_errors.append(target.error)
                return None
            return Reference.build([target.terms], options["keyword"])

        result = verify(
            options["source_url"],
            options["target_url"],
            expected_anchor_text=options["anchor"],
            fetcher=fetcher,
            reference=reference if settings.RELEVANCE_ENABLED else None,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.to_json(), ensure_ascii=False))
            return
        self.stdout.write(f"verdict:     {result.verdict}")
        self.stdout.write(f"http status: {result.http_status}")
        self.stdout.write(f"final URL:   {result.final_url}")
        for anchor in result.anchors:
            follow = "dofollow" if anchor.dofollow else "nofollow"
            where = f"{anchor.kind}, {anchor.placement or 'placement not known'}"
            rel = f" rel={' '.join(anchor.rel)!r}" if anchor.rel else ""
            self.stdout.write(
                f"anchor:      {anchor.text!r} → {anchor.href} [{follow}{rel}; {where}]"
            )
        flags = result.flags.to_json()
        self.stdout.write(f"flags:       {json.dumps(flags)}")
        if result.relevance is not None:
            terms = ", ".join(result.relevance_terms) or "no shared terms"
            self.stdout.write(f"relevance:   {result.relevance}/100 ({terms})")
        elif target_errors:
            self.stdout.write(f"relevance:   not scored: the target page: {target_errors[0]}")
        for difference in result.differences:
            self.stdout.write(f"difference:  {json.dumps(difference.to_json())}")
        if result.error:
            self.stdout.write(f"error:       {result.error}")
        self.stdout.write(f"elapsed:     {result.elapsed_ms} ms")
