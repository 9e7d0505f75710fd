"""Seed a demo campaign with 90 days of believable history. Idempotent: a second
run finds the demo campaign and changes nothing."""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Membership, Role, TargetPage, User
from links import quality
from links.models import Alert, Backlink, BacklinkState, LinkCheck, Verdict
from outreach.email.models import EmailTemplate, Mailbox, TemplateFollowUp
from outreach.models import PIPELINE, Kind, OutreachActivity, Prospect, Status, StatusChange, Tag

DEMO_SLUG = "demo"
USERS = [
    ("admin", Role.ADMIN),
    ("manager", Role.MANAGER),
    ("member", Role.MEMBER),
    ("alice", Role.MEMBER),
    ("bob", Role.MEMBER),
]
# Reserved top-level domain (RFC 2606): the worker can never reach a real site
# from demo data.
WORDS = [
    "trail",
    "runner",
    "marathon",
    "stride",
    "pace",
    "sprint",
    "fitness",
    "outdoor",
    "endurance",
    "track",
    "coach",
    "gear",
    "review",
    "daily",
    "health",
    "sport",
]
ANCHORS = [
    "Acme trail shoes",
    "best trail running shoes",
    "acme-shoes.example",
    "this guide",
    "Acme",
    "running shoe fit guide",
    "here",
    "marathon training plan",
]
TARGETS = [
    (
        "https://acme-shoes.example/trail-running-shoes/",
        "Trail running shoes",
        "trail, shoes, running",
    ),
    (
        "https://acme-shoes.example/guides/shoe-fit/",
        "How a running shoe should fit",
        "fit, size, guide",
    ),
    (
        "https://acme-shoes.example/blog/marathon-training-plan/",
        "Marathon training plan",
        "marathon, plan, training",
    ),
    ("https://acme-shoes.example/road-running-shoes/", "Road running shoes", "road, shoes"),
    ("https://acme-shoes.example/guides/pronation/", "Pronation explained", "pronation, gait"),
]
PROSPECT_COUNT = 300
BACKLINK_COUNT = 120
DAYS = 90


class Command(BaseCommand):
    help = "Create the demo campaign (slug 'demo') with users, prospects and backlinks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--credentials-file",
            help="Also write the new users' passwords to this file (mode 600).",
        )
        parser.add_argument(
            "--mail-sink-port",
            type=int,
            help="Add a demo mailbox that sends to an SMTP sink on 127.0.0.1 at this port "
            "(make run starts one, filing each email in var/sent-mail/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        passwords = self.ensure_users()
        if passwords:
            lines = [f"{name}: {password}" for name, password in passwords.items()]
            self.stdout.write("Demo logins (shown once):\n  " + "\n  ".join(lines))
            if options.get("credentials_file"):
                path = Path(options["credentials_file"])
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                path.chmod(0o600)
        campaign = Campaign.objects.filter(slug=DEMO_SLUG).first()
        if campaign is not None:
            self.stdout.write("Demo campaign already seeded.")
        else:
            with transaction.atomic():
                campaign = seed_campaign(random.Random(2026))  # noqa: S311 (demo data)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded '{campaign.name}': {campaign.prospects.count()} prospects, "
                    f"{campaign.backlinks.count()} backlinks."
                )
            )
        if ensure_demo_templates(campaign):
            self.stdout.write("Added the demo email templates.")
        if options.get("mail_sink_port") and ensure_demo_mailbox(
            campaign, options["mail_sink_port"]
        ):
            self.stdout.write(
                f"Added the demo mailbox (sends to the SMTP sink on 127.0.0.1:"
                f"{options['mail_sink_port']})."
            )

    def ensure_users(self) -> dict[str, str]:
        passwords = {}
        for username, role in USERS:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(9)
            user = User(username=username, role=role, email=f"{username}@acme-shoes.example")
            user.set_password(password)
            user.save()
            passwords[username] = password
        return passwords


def _domain(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{rng.randint(1, 999)}.example"
        if name not in used:
            used.add(name)
            return name


def _path_to(status: str) -> list[str]:
    """The statuses a prospect passed through to reach ``status``."""
    if status in PIPELINE:
        return [str(s) for s in PIPELINE[: PIPELINE.index(status) + 1]]
    # lost / unresponsive: somewhere after contact it went nowhere.
    return [Status.NEW, Status.QUALIFIED, Status.CONTACTED, Status.FOLLOWED_UP, status]


def seed_campaign(rng: random.Random) -> Campaign:
    now = timezone.now()
    users = {u.username: u for u in User.objects.filter(username__in=[n for n, _ in USERS])}
    workers = [users["member"], users["alice"], users["bob"]]
    campaign = Campaign.objects.create(
        name="Acme running shoes",
        slug=DEMO_SLUG,
        site="acme-shoes.example",
        owner=users["manager"],
        goal_links=150,
        goal_date=(now + timedelta(days=60)).date(),
    )
    Campaign.objects.get_or_create(
        slug="internal-blog",
        defaults={
            "name": "Internal blog relaunch",
            "site": "acme-blog.example",
            "owner": users["manager"],
        },
    )
    for worker in workers:
        Membership.objects.create(campaign=campaign, user=worker)
    targets = [
        TargetPage.objects.create(
            campaign=campaign, url=url, title=title, keywords=keywords, priority=i % 5 + 1
        )
        for i, (url, title, keywords) in enumerate(TARGETS)
    ]
    TargetPage.objects.create(
        campaign=campaign,
        url="https://acme-shoes.example/",
        is_domain=True,
        title="Anywhere on acme-shoes.example",
        priority=5,
    )
    tags = [Tag.objects.create(campaign=campaign, name=n) for n in ("running", "fitness", "tier-1")]

    used: set[str] = set()
    status_weights = {
        Status.NEW: 60,
        Status.QUALIFIED: 45,
        Status.CONTACTED: 50,
        Status.FOLLOWED_UP: 35,
        Status.REPLIED: 20,
        Status.NEGOTIATING: 15,
        Status.WON: 40,
        Status.LOST: 20,
        Status.UNRESPONSIVE: 15,
    }
    statuses = rng.choices(
        list(status_weights), weights=list(status_weights.values()), k=PROSPECT_COUNT
    )
    kinds = [Kind.BLOGGER, Kind.GUEST_POST, Kind.HARO, Kind.BROKEN_LINK]
    prospects: list[Prospect] = []
    for i, status in enumerate(statuses):
        kind = kinds[i % 4]
        domain = _domain(rng, used)
        created = now - timedelta(days=rng.uniform(1, DAYS))
        prospect = Prospect(
            campaign=campaign,
            kind=kind,
            status=status,
            url=f"https://{domain}/{rng.choice(WORDS)}-{rng.choice(WORDS)}/",
            contact_name=f"{rng.choice(['Sam', 'Alex', 'Jo', 'Kim', 'Lee', 'Max'])} "
            f"{rng.choice(['Park', 'Smith', 'Novak', 'Rossi', 'Berg'])}",
            contact_email=f"editor@{domain}",
            domain_rating=rng.randint(5, 90),
            niche=rng.choice(["running", "fitness", "outdoor", "health"]),
            assignee=rng.choice(workers),
            notes=rng.choice(["", "", "Prefers short pitches.", "Wrote about shoes in 2024."]),
            created_at=created,
            next_follow_up=(
                (now + timedelta(days=rng.randint(-5, 7))).date()
                if status in {Status.CONTACTED, Status.FOLLOWED_UP, Status.NEGOTIATING}
                else None
            ),
        )
        if kind == Kind.HARO:
            prospect.outlet = rng.choice(["Runner's Weekly", "Health Desk", "Outdoor Today"])
            prospect.query_text = "Looking for experts on choosing trail running shoes."
            prospect.deadline = now + timedelta(hours=rng.randint(-48, 24 * 6))
        elif kind == Kind.BROKEN_LINK:
            prospect.dead_url = f"https://gone-{rng.choice(WORDS)}.example/old-guide"
            prospect.offered_target = rng.choice(targets)
        elif kind == Kind.GUEST_POST:
            prospect.fee = Decimal(rng.choice([0, 50, 100, 150, 250]))
        prospect.set_url(prospect.url)
        prospects.append(prospect)
    Prospect.objects.bulk_create(prospects)
    for prospect in prospects:
        if prospect.pk % 3 == 0:
            prospect.tags.add(rng.choice(tags))

    changes: list[StatusChange] = []
    activities: list[OutreachActivity] = []
    for prospect in prospects:
        path = _path_to(prospect.status)
        span = (now - prospect.created_at).total_seconds()
        previous = ""
        for step, status in enumerate(path):
            at = prospect.created_at + timedelta(seconds=span * step / len(path))
            changes.append(
                StatusChange(
                    prospect=prospect,
                    from_status=previous,
                    to_status=status,
                    changed_by=prospect.assignee,
                    changed_at=at,
                )
            )
            previous = status
            kind = {
                Status.CONTACTED: OutreachActivity.Kind.EMAIL_SENT,
                Status.FOLLOWED_UP: OutreachActivity.Kind.FOLLOW_UP,
                Status.REPLIED: OutreachActivity.Kind.REPLY,
                Status.NEGOTIATING: OutreachActivity.Kind.CALL,
            }.get(status)
            if kind:
                activities.append(
                    OutreachActivity(
                        prospect=prospect,
                        kind=kind,
                        user=prospect.assignee,
                        occurred_at=at,
                        summary=f"{kind.label} ({prospect.domain})",
                    )
                )
    StatusChange.objects.bulk_create(changes)
    OutreachActivity.objects.bulk_create(activities)

    won = [p for p in prospects if p.status == Status.WON]
    backlinks: list[Backlink] = []
    for i in range(BACKLINK_COUNT):
        prospect = won[i] if i < len(won) else None
        target = rng.choice(targets)
        won_on = (now - timedelta(days=rng.uniform(0, DAYS))).date()
        source = prospect.url if prospect else f"https://{_domain(rng, used)}/{rng.choice(WORDS)}/"
        backlink = Backlink(
            campaign=campaign,
            target_page=target,
            prospect=prospect,
            source_url=source,
            target_url=target.url,
            expected_anchor_text=rng.choice(ANCHORS),
            won_by=prospect.assignee if prospect else rng.choice(workers),
            won_on=won_on,
            cost=Decimal(rng.choice([0, 0, 50, 120, 200])),
            next_check_at=now + timedelta(hours=rng.uniform(1, 24 * 7)),
        )
        backlink.set_urls(backlink.source_url, backlink.target_url)
        backlinks.append(backlink)
    Backlink.objects.bulk_create(backlinks)

    checks: list[LinkCheck] = []
    alerts: list[Alert] = []
    outcome = rng.choices(
        [
            BacklinkState.LIVE,
            BacklinkState.NOFOLLOW,
            BacklinkState.LOST,
            BacklinkState.ERROR,
            BacklinkState.UNCONFIRMED,
        ],
        weights=[75, 10, 8, 4, 3],
        k=len(backlinks),
    )
    for index, (backlink, final) in enumerate(zip(backlinks, outcome, strict=True)):
        # Where the link is and what it is, from its index rather than the
        # random generator, so the rest of the demo stays as it was.
        placement = "sidebar" if index % 7 == 3 else "footer" if index % 11 == 5 else "content"
        link_kind = "image" if index % 9 == 4 else "text"
        if final == BacklinkState.NOFOLLOW:
            backlink.link_rel = ("sponsored", "ugc nofollow", "nofollow")[index % 3]
        first = timezone.make_aware(datetime.combine(backlink.won_on, time.min)) + timedelta(
            hours=6
        )
        times = []
        at = first
        while at < now:
            times.append(at)
            age = (at - first).days
            at += timedelta(days=1 if age < 7 else 7)
        if not times:
            times = [now - timedelta(hours=1)]
        turn = len(times) - (2 if final in {BacklinkState.LOST} else 1)
        for n, at in enumerate(times):
            verdict = Verdict.LIVE
            if n >= turn:
                verdict = {
                    BacklinkState.LIVE: Verdict.LIVE,
                    BacklinkState.NOFOLLOW: Verdict.NOFOLLOW,
                    BacklinkState.LOST: Verdict.MISSING,
                    BacklinkState.ERROR: Verdict.ERROR,
                    BacklinkState.UNCONFIRMED: Verdict.MISSING,
                }[final]
            rel = (backlink.link_rel or "nofollow") if verdict == Verdict.NOFOLLOW else ""
            found = verdict in {Verdict.LIVE, Verdict.NOFOLLOW}
            checks.append(
                LinkCheck(
                    backlink=backlink,
                    checked_at=at,
                    verdict=verdict,
                    http_status=None if verdict == Verdict.ERROR else 200,
                    final_url=backlink.source_url,
                    anchors=[
                        {
                            "href": backlink.target_url,
                            "text": backlink.expected_anchor_text,
                            "rel": rel,
                            "dofollow": not rel,
                            "kind": link_kind,
                            "placement": placement,
                        }
                    ]
                    if found
                    else [],
                    flags={"noindex": False, "canonical": None, "robots_txt_blocked": False},
                    page_hash=hashlib.sha256(f"{backlink.pk}-{verdict}".encode()).hexdigest(),
                    error="DNS lookup failed" if verdict == Verdict.ERROR else "",
                    duration_ms=rng.randint(120, 1800),
                    bytes_read=rng.randint(20_000, 300_000),
                )
            )
        backlink.state = final
        backlink.last_verdict = checks[-1].verdict
        backlink.first_seen_at = times[0]
        backlink.last_checked_at = times[-1]
        backlink.placement, backlink.link_kind = placement, link_kind
        if final == BacklinkState.LOST:
            backlink.lost_at = times[-1]
        if final == BacklinkState.ERROR:
            backlink.failing_since = times[-1]
        if final in {BacklinkState.LOST, BacklinkState.NOFOLLOW}:
            kind = Alert.Kind.LOST if final == BacklinkState.LOST else Alert.Kind.NOFOLLOW
            alerts.append(
                Alert(
                    campaign=campaign,
                    backlink=backlink,
                    kind=kind,
                    created_at=times[-1],
                    message=f"{kind.label}: {backlink.source_url}",
                )
            )
    LinkCheck.objects.bulk_create(checks, batch_size=1000)
    Backlink.objects.bulk_update(
        backlinks,
        [
            "state",
            "last_verdict",
            "first_seen_at",
            "last_checked_at",
            "lost_at",
            "failing_since",
            "placement",
            "link_kind",
            "link_rel",
        ],
        batch_size=500,
    )
    Alert.objects.bulk_create(alerts)
    quality.refresh({campaign.pk: None})
    return campaign


DEMO_TEMPLATES = [
    (
        "Resource page pitch",
        "A running resource for {{ site }}",
        'Hi {{ first_name|default:"there" }},\n\n'
        "I enjoyed your page {{ url }}. We wrote a guide your readers might like:\n"
        "{{ target_url }}\n\nWould it fit on your page?\n\n{{ sender_name }}",
        "Just checking this reached you: {{ target_url }}\n\n{{ sender_name }}",
    ),
    (
        "Broken link replacement",
        "A dead link on {{ site }}",
        'Hi {{ first_name|default:"there" }},\n\n'
        "{{ url }} links to {{ dead_url }}, which no longer answers. Our page covers the "
        "same ground: {{ target_url }}\n\n{{ sender_name }}",
        "In case it helps, the dead link is still on {{ url }}.\n\n{{ sender_name }}",
    ),
]


def ensure_demo_templates(campaign: Campaign) -> bool:
    """Two templates with a follow-up each, so outreach email can be tried in the demo."""
    if campaign.email_templates.exists():
        return False
    for name, subject, body, follow_up in DEMO_TEMPLATES:
        template = EmailTemplate.objects.create(
            campaign=campaign, name=name, subject=subject, body=body
        )
        TemplateFollowUp.objects.create(template=template, position=1, delay_days=4, body=follow_up)
    return True


def ensure_demo_mailbox(campaign: Campaign, port: int) -> bool:
    """A mailbox that delivers to make run's local SMTP sink, open all day, so a
    sequence started in the demo sends at once and the email lands in var/sent-mail/."""
    mailbox, created = Mailbox.objects.update_or_create(
        email="outreach@acme-shoes.example",
        defaults={
            "name": "Demo mailbox (local sink)",
            "from_name": "Mia Chen",
            "daily_limit": 200,
            "window_start": time(0),
            "window_end": time(23, 59),
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": Mailbox.Security.NONE,
            "imap_host": "",
        },
    )
    mailbox.campaigns.add(campaign)
    return created
