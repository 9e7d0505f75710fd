# Domains become sites (issue 14): the link gap's referring domains held the
# host of each row without "www." (Ahrefs and Semrush give linking pages, so
# blog.x.co.uk and x.co.uk were two rows); they now hold registrable domains
# (eTLD+1, private suffixes included), as do the competitors.
#
# Duplicates: an export may have one row per domain (refdomain_unique_per_export),
# so the rows of one export that now share a site are merged into one: the row
# already named after the site if there is one, else the oldest; links summed,
# the best rating kept, its sample page (or the first other one). The export's
# domain_count is recounted.

from django.db import migrations

from links.verification.urls import registrable_domain

BATCH = 500


def _chunks(items):
    items = list(items)
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def merge_export(ReferringDomain, BacklinkExport, export_id):
    """Turn one export's referring domains into sites, merging rows that meet."""
    movers = {}
    for pk, domain in (
        ReferringDomain.objects.filter(export_id=export_id)
        .order_by("pk")
        .values_list("pk", "domain")
        .iterator(chunk_size=2000)
    ):
        site = registrable_domain(domain)
        if site != domain:
            movers[pk] = site
    if not movers:
        return
    sites = set(movers.values())
    groups = {}
    for chunk in _chunks(sites):
        # The rows already named after a site some mover goes to.
        for row in ReferringDomain.objects.filter(export_id=export_id, domain__in=chunk).values(
            "pk", "domain", "domain_rating", "links", "sample_url"
        ):
            groups.setdefault(row["domain"], []).append(row)
    for chunk in _chunks(movers):
        for row in ReferringDomain.objects.filter(pk__in=chunk).values(
            "pk", "domain", "domain_rating", "links", "sample_url"
        ):
            # A mover's own name is never a site (registrable_domain is
            # idempotent), so no row is in two groups.
            groups.setdefault(movers[row["pk"]], []).append(row)
    doomed = []
    kept = []
    for site, rows in groups.items():
        rows.sort(key=lambda row: (row["domain"] != site, row["pk"]))
        keeper = rows[0]
        ratings = [row["domain_rating"] for row in rows if row["domain_rating"] is not None]
        samples = [row["sample_url"] for row in rows if row["sample_url"]]
        kept.append(
            ReferringDomain(
                pk=keeper["pk"],
                domain=site,
                domain_rating=max(ratings) if ratings else None,
                links=sum(row["links"] for row in rows),
                sample_url=keeper["sample_url"] or (samples[0] if samples else ""),
            )
        )
        doomed.extend(row["pk"] for row in rows[1:])
    # Deleted first: a keeper renamed to its site must not meet a row still
    # holding that name.
    for chunk in _chunks(doomed):
        ReferringDomain.objects.filter(pk__in=chunk).delete()
    ReferringDomain.objects.bulk_update(
        kept, ["domain", "domain_rating", "links", "sample_url"], batch_size=BATCH
    )
    if doomed:
        BacklinkExport.objects.filter(pk=export_id).update(
            domain_count=ReferringDomain.objects.filter(export_id=export_id).count()
        )


def forwards(apps, schema_editor):
    ReferringDomain = apps.get_model("prospecting", "ReferringDomain")
    BacklinkExport = apps.get_model("prospecting", "BacklinkExport")
    for model in (BacklinkExport, ReferringDomain):
        for competitor in list(
            model.objects.order_by().values_list("competitor", flat=True).distinct()
        ):
            site = registrable_domain(competitor)
            if site != competitor:
                model.objects.filter(competitor=competitor).update(competitor=site)
    export_ids = list(
        ReferringDomain.objects.order_by().values_list("export_id", flat=True).distinct()
    )
    for export_id in export_ids:
        merge_export(ReferringDomain, BacklinkExport, export_id)


class Migration(migrations.Migration):

    dependencies = [
        ('prospecting', '0003_scan_caps'),
    ]

    operations = [
        # Going back leaves the sites in place: the hosts are not kept.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
