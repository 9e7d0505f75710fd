"""Debug one link from a terminal: fetch, parse and judge, without the database."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from links.checking import fetch_config
from links.verification.urls import InvalidURL, normalize_url
from links.verification.verdict import verify


class Command(BaseCommand):
    help = "Verify that SOURCE_URL links to TARGET_URL and print the verdict."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source_url")
        parser.add_argument("target_url")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--anchor", default=None, help="The anchor text agreed.")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("source_url", "target_url"):
            try:
                normalize_url(options[name])
            except InvalidURL as exc:
                raise CommandError(f"{name.upper()}: {exc}", returncode=2) from exc
        result = verify(
            options["source_url"],
            options["target_url"],
            expected_anchor_text=options["anchor"],
            config=fetch_config(),
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
        for difference in result.differences:
            self.stdout.write(f"difference:  {json.dumps(difference.to_json())}")
        if result.error:
            self.stdout.write(f"error:       {result.error}")
        self.stdout.write(f"elapsed:     {result.elapsed_ms} ms")
