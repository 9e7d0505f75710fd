"""Debug one link from a terminal: fetch, parse and judge, without the database."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from links.checking import fetch_config, renderer
from links.verification.relevance import Reference, read_target
from links.verification.render.verify import WHEN, verify_rendered
from links.verification.urls import InvalidURL, Target, normalize_url
from links.verification.verdict import shared_fetcher


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
        parser.add_argument(
            "--render",
            choices=[when for when in WHEN if when != "missing"],
            default="auto",
            help="Render the page in headless Chromium: auto (when no link was found "
            "and the page looks script-built), always, or never (raw HTML only).",
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

        chromium = renderer()
        when = options["render"]
        if not chromium.available and when != "never":
            if when == "always":
                raise CommandError(
                    f"--render always: Chromium is not installed ({settings.RENDER_CHROMIUM_PATH})",
                    returncode=2,
                )
            when = "never"
        try:
            result = verify_rendered(
                options["source_url"],
                Target.page(options["target_url"]),
                renderer=chromium,
                when=when,
                expected_anchor_text=options["anchor"],
                fetcher=fetcher,
                reference=reference if settings.RELEVANCE_ENABLED else None,
            )
        finally:
            # The browser is this command's alone: stop it before exiting.
            chromium.close()
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
        if result.rendered:
            self.stdout.write(f"rendered:    in Chromium, {result.render_ms} ms")
        elif result.script_built:
            self.stdout.write(
                f"not rendered, though the page looks script-built ({result.script_built})"
            )
        if result.error:
            self.stdout.write(f"error:       {result.error}")
        self.stdout.write(f"elapsed:     {result.elapsed_ms} ms")
