# Domains become sites (issue 14): Prospect.domain and Sequence.domain held the
# host without "www."; they now hold its registrable domain (eTLD+1, private
# suffixes included), the unit the outreach safety rules count.
#
# Duplicates: the database allows one active sequence per domain, and two that
# ran to blog.x.com and x.com now share "x.com". The one started first keeps
# running (it is the one the rule would have let through); each later one is
# stopped as "same_site", its unsent emails cancelled as stop_sequence does, and
# a note on its prospect says why. Nothing else is deleted or merged: prospects
# are unique per URL, not per domain.

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

from links.verification.urls import InvalidURL, domain_of, registrable_domain

BATCH = 500


def prospect_site(row):
    try:
        return domain_of(row["url"])
    except InvalidURL:
        return registrable_domain(row["domain"])


def sequence_site(row):
    # The stored value is the prospect's host without "www." at the start: its
    # registrable domain is what domain_of gives for the prospect's URL now.
    return registrable_domain(row["domain"])


def recompute_domains(model, *, site, fields=()):
    """Rewrite ``domain`` of every row as ``site(row)`` (row: a dict of pk,
    domain and ``fields``), in pk order and in batches, writing only the rows
    whose value changes. The same on SQLite and PostgreSQL."""
    last = 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last)
            .order_by("pk")
            .values("pk", "domain", *fields)[:BATCH]
        )
        if not rows:
            return
        last = rows[-1]["pk"]
        changed = []
        for row in rows:
            new = site(row)
            if new != row["domain"]:
                changed.append(model(pk=row["pk"], domain=new))
        if changed:
            model.objects.bulk_update(changed, ["domain"], batch_size=BATCH)


def stop_same_site_sequences(Sequence, ScheduledEmail, OutreachActivity, *, now):
    """Stop each active sequence that runs to a site an earlier active one runs to;
    returns the ids stopped."""
    kept = {}
    later = []
    active = (
        Sequence.objects.filter(state="active")
        .order_by("started_at", "pk")
        .values_list("pk", "domain", "prospect_id")
    )
    for pk, domain, prospect_id in active.iterator(chunk_size=BATCH):
        site = registrable_domain(domain)
        if site in kept:
            later.append((pk, prospect_id, site))
        else:
            kept[site] = pk
    for start in range(0, len(later), BATCH):
        chunk = later[start : start + BATCH]
        ids = [pk for pk, _, _ in chunk]
        Sequence.objects.filter(pk__in=ids, state="active").update(
            state="stopped", stop_reason="same_site", ended_at=now
        )
        ScheduledEmail.objects.filter(sequence_id__in=ids).filter(
            Q(state="queued") | Q(state="sending", transmit_started_at__isnull=True)
        ).update(state="cancelled", claim_token=None)
        OutreachActivity.objects.bulk_create(
            OutreachActivity(
                prospect_id=prospect_id,
                kind="note",
                occurred_at=now,
                summary=(
                    f"Sequence stopped: another sequence to {site} was already running, and "
                    "subdomains now count as the same site (one sequence per site at a time)."
                ),
            )
            for _, prospect_id, site in chunk
        )
    return [pk for pk, _, _ in later]


def forwards(apps, schema_editor):
    Prospect = apps.get_model("outreach", "Prospect")
    Sequence = apps.get_model("outreach", "Sequence")
    stop_same_site_sequences(
        Sequence,
        apps.get_model("outreach", "ScheduledEmail"),
        apps.get_model("outreach", "OutreachActivity"),
        now=timezone.now(),
    )
    # No two active sequences share a site any more, so no intermediate state of
    # these updates can break the one-active-per-domain constraint.
    recompute_domains(Sequence, site=sequence_site)
    recompute_domains(Prospect, site=prospect_site, fields=["url"])


class Migration(migrations.Migration):

    dependencies = [
        ('outreach', '0005_merge_20261125_1728'),
    ]

    operations = [
        migrations.AlterField(
            model_name='sequence',
            name='stop_reason',
            field=models.CharField(blank=True, choices=[('replied', 'They replied'), ('unsubscribed', 'They asked to unsubscribe'), ('bounced', 'The address bounced'), ('do_not_contact', 'On the do-not-contact list'), ('cooldown', 'Another campaign wrote to the domain'), ('manual', 'Stopped by hand'), ('failed', 'The mail server refused it'), ('same_site', 'Another sequence to the same site was running')], max_length=20),
        ),
        # Not reversible into hosts (the host is not kept), but nothing older
        # needs it: going back leaves the sites in place.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
