"""`make screenshots`: PNGs of the main pages, from the demo data, into
docs/screenshots/. Runs under scripts/with-services.sh (a throwaway PostgreSQL);
serves the app with runserver on 127.0.0.1 and drives headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshots-only-password"  # noqa: S105 (a throwaway database)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> None:
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "screenshots",
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(ROOT / "var" / "screenshots"),
    }
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("seed_demo", env=env)
    manage(
        "shell",
        "--no-imports",
        "-c",
        (
            "from campaigns.models import User\n"
            "for u in User.objects.filter(username__in=['member', 'manager', 'admin']):\n"
            f"    u.set_password({PASSWORD!r}); u.save()\n"
        ),
        env=env,
    )
    ids = manage(
        "shell",
        "--no-imports",
        "-c",
        (
            "from outreach.models import Prospect; from links.models import Backlink\n"
            "p = Prospect.objects.filter(campaign__slug='demo', status='negotiating').first()\n"
            "b = Backlink.objects.filter(campaign__slug='demo').order_by('-won_on').first()\n"
            "print(p.pk, b.pk)"
        ),
        env=env,
    ).split()
    scan_id = manage("shell", "--no-imports", "-c", PROSPECTING_DEMO, env=env).split()[-1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        shoot(base, prospect_id=ids[0], backlink_id=ids[1], scan_id=scan_id)
    finally:
        server.terminate()
        server.wait(10)


# Data for the prospecting pages: a pasted digest with deadlines in the coming
# days, two competitors' referring domains, and a finished broken-link scan.
PROSPECTING_DEMO = """
from datetime import timedelta
from django.utils import timezone
from campaigns.models import Campaign
from links.prospecting.models import (
    BacklinkExport, BrokenLinkScan, DeadLink, ReferringDomain, ScanPage)
from outreach.journalist_queries.services import ingest_pasted
campaign = Campaign.objects.get(slug='demo')
soon = timezone.now() + timedelta(days=1)
topics = [('Trail running shoes for beginners', 'Runner Weekly', 'Lifestyle and Fitness'),
          ('Marathon taper mistakes', 'Outdoor Today', 'Sports'),
          ('Budgeting apps for small firms', 'Money Matters', 'Business and Finance')]
text = ''.join(
    f'Summary: {title}\\nName: Sam Lee\\nCategory: {category}\\nMedia Outlet: {outlet}\\n'
    f'Deadline: {(soon + timedelta(hours=9 * n)):%d %B %Y %H:%M} UTC\\n'
    f'Query: Looking for experts on {title.lower()}.\\n\\n'
    for n, (title, outlet, category) in enumerate(topics))
ingest_pasted(text, subject='HARO digest', by=None)
for competitor in ('rival-a.example', 'rival-b.example', 'rival-c.example'):
    export = BacklinkExport.objects.create(campaign=campaign, competitor=competitor,
        original_name=f'{competitor}-backlinks.csv', tool='Ahrefs', state='done',
        rows_read=120, domain_count=6)
    for n in range(6 if competitor != 'rival-c.example' else 3):
        ReferringDomain.objects.create(export=export, campaign=campaign, competitor=competitor,
            domain=f'runblog{n}.example', domain_rating=70 - 7 * n,
            sample_url=f'https://runblog{n}.example/best-trail-shoes')
scan = BrokenLinkScan.objects.create(campaign=campaign, state='done', pages_total=1,
    pages_done=1, links_total=48, links_checked=48, dead_count=2, maybe_count=1,
    started_at=timezone.now(), finished_at=timezone.now())
page = ScanPage.objects.create(scan=scan, url='https://trailclub.example/resources',
    final_url='https://trailclub.example/resources', links_found=48, done=True)
for url, text, verdict, reason in [
        ('https://old-gear.example/trail-shoe-guide', 'trail shoe guide', 'dead', 'answered 404'),
        ('https://gone-coach.example/plans', 'marathon training plans', 'dead',
         'no such host: old domain'),
        ('https://slow-shop.example/socks', 'running socks', 'maybe_dead',
         'answered 503 (server error)')]:
    DeadLink.objects.create(scan=scan, page=page, url=url, anchor_text=text,
        context=f'Our members swear by this {text} before a race.', verdict=verdict,
        reason=reason)
print(scan.pk)
"""

PAGES = [
    # (file, user, path, viewport width)
    ("my-day.png", "member", "/my-day/", 1280),
    ("campaigns.png", "manager", "/campaigns/", 1280),
    ("campaign-overview.png", "manager", "/campaigns/demo/", 1280),
    ("prospects.png", "member", "/campaigns/demo/prospects/", 1280),
    ("prospect.png", "member", "/campaigns/demo/prospects/{prospect}/", 1280),
    ("backlinks.png", "member", "/campaigns/demo/backlinks/", 1280),
    ("backlink-history.png", "member", "/campaigns/demo/backlinks/{backlink}/", 1280),
    ("alerts.png", "member", "/alerts/", 1280),
    ("dashboard.png", "manager", "/campaigns/demo/dashboard/", 1280),
    ("import.png", "admin", "/imports/new/", 1280),
    ("prospects-phone.png", "member", "/campaigns/demo/prospects/", 390),
    ("broken-links.png", "member", "/prospecting/demo/broken-links/", 1280),
    ("broken-link-results.png", "member", "/prospecting/demo/broken-links/{scan}/", 1280),
    ("link-gap.png", "manager", "/prospecting/demo/link-gap/", 1280),
    ("journalist-queries.png", "member", "/inbox/?campaign=demo", 1280),
]


def shoot(base: str, *, prospect_id: str, backlink_id: str, scan_id: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        contexts: dict[tuple[str, int], object] = {}
        for filename, user, path, width in PAGES:
            key = (user, width)
            if key not in contexts:
                context = browser.new_context(
                    base_url=base, viewport={"width": width, "height": 900}
                )
                login = context.new_page()
                login.goto("/accounts/login/")
                login.get_by_label("Username").fill(user)
                login.get_by_label("Password").fill(PASSWORD)
                login.get_by_role("button", name="Log in").click()
                login.wait_for_load_state()
                contexts[key] = context
            page = contexts[key].new_page()
            response = page.goto(
                path.format(prospect=prospect_id, backlink=backlink_id, scan=scan_id)
            )
            if response is None or response.status != 200:
                print(f"skipped {filename}: {path} answered {response and response.status}")
                continue
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(600)  # chart animations
            page.screenshot(path=OUT / filename)
            print(f"wrote docs/screenshots/{filename}")
        browser.close()


if __name__ == "__main__":
    main()
