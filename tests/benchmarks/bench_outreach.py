"""What outreach email costs: starting sequences in bulk, the dispatcher's claim on
a long queue, sending through SMTP and reading replies over IMAP.

Run with `make bench` (or `scripts/with-services.sh .venv/bin/python
tests/benchmarks/bench_outreach.py`). Uses the PostgreSQL that script starts, an
aiosmtpd server and a Dovecot on 127.0.0.1 (as the test suite does). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
# The benchmark's SMTP sink listens on 127.0.0.1.
os.environ.setdefault("MAIL_ALLOW_PRIVATE_NETWORKS", "1")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import Campaign, TargetPage, User  # noqa: E402
from outreach.email import replies, sending, sequences  # noqa: E402
from outreach.email.mailboxes import set_passwords  # noqa: E402
from outreach.email.models import (  # noqa: E402
    EmailTemplate,
    Mailbox,
    ScheduledEmail,
    Sequence,
    TemplateFollowUp,
)
from outreach.models import Prospect  # noqa: E402
from tests.support.imap import start_imap_server, stop_imap_server  # noqa: E402
from tests.support.smtp import start_smtp_sink  # noqa: E402

PROSPECTS = int(os.environ.get("BENCH_OUTREACH_PROSPECTS", "3000"))
SENDS = int(os.environ.get("BENCH_OUTREACH_SENDS", "300"))
SLUG = "bench-outreach"


def seed(smtp_port: int, imap) -> tuple[Campaign, EmailTemplate, Mailbox, User]:
    if connection.vendor != "postgresql":
        sys.exit("This benchmark is about PostgreSQL: run it under scripts/with-services.sh.")
    call_command("migrate", verbosity=0)
    Campaign.objects.filter(slug=SLUG).delete()
    Sequence.objects.all().delete()
    Mailbox.objects.filter(name="bench").delete()
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"role": "manager"})
    campaign = Campaign.objects.create(name="Bench", slug=SLUG, site="ours.example", owner=owner)
    TargetPage.objects.create(campaign=campaign, url="https://ours.example/guide/")
    template = EmailTemplate.objects.create(
        campaign=campaign,
        name="Bench pitch",
        subject="A resource for {{ site }}",
        body="Hi {{ first_name }},\n\nWould {{ target_url }} help {{ url }}?\n\n{{ sender_name }}",
    )
    for position, days in enumerate([3, 7], start=1):
        TemplateFollowUp.objects.create(
            template=template, position=position, delay_days=days, body="Bump {{ first_name }}"
        )
    mailbox = Mailbox(
        name="bench",
        from_name="Bench",
        email="bench@agency.example",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_username="outreach@agency.example",
        imap_host=imap.host,
        imap_port=imap.port,
        imap_security="none",
        imap_username=imap.user,
        daily_limit=1_000_000,
        window_start="00:00",
        window_end="23:59:59",
        created_at=timezone.now() - timedelta(days=1),
    )
    set_passwords(mailbox, smtp="smtp-pass-123", imap=imap.password)
    mailbox.save()
    Prospect.objects.bulk_create(
        Prospect(
            campaign=campaign,
            kind="blogger",
            url=f"https://site{n}.example/post/",
            url_key=f"site{n}.example/post",
            domain=f"site{n}.example",
            contact_name=f"Person {n}",
            contact_email=f"editor@site{n}.example",
        )
        for n in range(PROSPECTS)
    )
    return campaign, template, mailbox, owner


def main() -> None:
    sink, controller = start_smtp_sink()
    imap = start_imap_server(Path(tempfile.mkdtemp(prefix="bench-imap-")))
    try:
        run(sink, imap)
    finally:
        controller.stop()
        stop_imap_server(imap)


def run(sink, imap) -> None:
    campaign, template, mailbox, owner = seed(sink.port, imap)
    ids = list(Prospect.objects.filter(campaign=campaign).values_list("pk", flat=True))
    print(f"{PROSPECTS} prospects, template with 2 follow-ups")

    # 1. Starting sequences in bulk (the list's bulk action), 500 at a time.
    timings = []
    with CaptureQueriesContext(connection) as queries:
        for start in range(0, len(ids), 500):
            began = time.perf_counter()
            result = sequences.start_sequences(
                campaign,
                prospect_ids=ids[start : start + 500],
                template=template,
                mailbox=mailbox,
                by=owner,
            )
            timings.append(time.perf_counter() - began)
            assert len(result.started) == len(ids[start : start + 500])
    batches = len(timings)
    print(
        f"start_sequences, 500 prospects: {1000 * sum(timings) / batches:.0f} ms a batch, "
        f"{len(queries) / batches:.0f} queries a batch "
        f"({ScheduledEmail.objects.count()} emails scheduled)"
    )

    # 2. The dispatcher's claim on a long queue (every pitch due, follow-ups later).
    settings.OUTREACH_SENDS_PER_MINUTE = 50
    reset_queries()
    claim_times = []
    for _ in range(5):
        began = time.perf_counter()
        claims = sending.claim_due()
        claim_times.append(time.perf_counter() - began)
        ScheduledEmail.objects.filter(pk__in=[c.email_id for c in claims]).update(
            state="queued", claim_token=None, claimed_at=None
        )
    print(
        f"claim_due, {len(claims)} of {PROSPECTS} due pitches: "
        f"median {1000 * sorted(claim_times)[2]:.1f} ms"
    )

    # 3. Sending, one after another, through SMTP on loopback.
    settings.OUTREACH_SENDS_PER_MINUTE = SENDS
    began = time.perf_counter()
    outcomes = [sending.send(claim) for claim in sending.claim_due()]
    elapsed = time.perf_counter() - began
    assert outcomes.count("sent") == SENDS, outcomes[:5]
    print(
        f"send: {SENDS} pitches in {elapsed:.2f} s = {SENDS / elapsed:.0f} emails/s per worker "
        f"slot ({1000 * elapsed / SENDS:.1f} ms each, SMTP and the database writes)"
    )

    # 4. Reading replies: one per sent pitch, delivered to Dovecot, read by one poll.
    imap.clear()
    sent = list(ScheduledEmail.objects.filter(state="sent").select_related("sequence"))
    for email in sent:
        imap.deliver(
            f"From: {email.to_email}\nSubject: Re: {email.subject}\n"
            f"In-Reply-To: {email.message_id}\nMessage-ID: <r{email.pk}@bench.example>\n\n"
            "Sounds good.\n"
        )
    settings.OUTREACH_POLL_BATCH = len(sent)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=None, imap_uidvalidity=None)
    began = time.perf_counter()
    result = replies.poll(mailbox.pk)
    elapsed = time.perf_counter() - began
    print(
        f"poll: {result.read} replies read and matched ({result.matched}) in {elapsed:.2f} s "
        f"= {result.read / elapsed:.0f} messages/s"
    )


if __name__ == "__main__":
    main()
