# Domains become sites (issue 14): Backlink.source_domain held the source host
# without "www."; it now holds its registrable domain (eTLD+1, private suffixes
# included), so m.example.com and example.com are one referring domain. No
# constraint involves the column: nothing can collide.

from django.db import migrations

from links.verification.urls import InvalidURL, domain_of, registrable_domain

BATCH = 500


def source_site(row):
    try:
        return domain_of(row["source_url"])
    except InvalidURL:
        return registrable_domain(row["source_domain"])


def forwards(apps, schema_editor):
    Backlink = apps.get_model("links", "Backlink")
    last = 0
    while True:
        rows = list(
            Backlink.objects.filter(pk__gt=last)
            .order_by("pk")
            .values("pk", "source_url", "source_domain")[:BATCH]
        )
        if not rows:
            return
        last = rows[-1]["pk"]
        changed = [
            Backlink(pk=row["pk"], source_domain=site)
            for row in rows
            if (site := source_site(row)) != row["source_domain"]
        ]
        if changed:
            Backlink.objects.bulk_update(changed, ["source_domain"], batch_size=BATCH)


class Migration(migrations.Migration):

    dependencies = [
        ("links", "0006_anchor_placement"),
    ]

    operations = [
        # Going back leaves the sites in place: the hosts are not kept.
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
