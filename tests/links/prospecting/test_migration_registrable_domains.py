"""Migration prospecting 0004: the link gap's referring domains and competitors
become sites; rows of one export that meet on a site are merged."""

from __future__ import annotations

import pytest

from links.prospecting.models import BacklinkExport, ReferringDomain
from tests.factories import CampaignFactory
from tests.support.migrations import before, migrate

pytestmark = pytest.mark.django_db(transaction=True)


def export_with(
    campaign, competitor: str, rows: list[tuple[str, int | None, int, str]], *, apps=None
):
    # The models as of the migration under test when given: today's would write
    # columns added since.
    exports = apps.get_model("prospecting", "BacklinkExport") if apps else BacklinkExport
    domains = apps.get_model("prospecting", "ReferringDomain") if apps else ReferringDomain
    export = exports.objects.create(
        campaign_id=campaign.pk,
        competitor=competitor,
        state="done",
        original_name="ahrefs.csv",
        domain_count=len(rows),
    )
    for domain, rating, links, sample in rows:
        domains.objects.create(
            export=export,
            campaign_id=campaign.pk,
            competitor=competitor,
            domain=domain,
            domain_rating=rating,
            links=links,
            sample_url=sample,
        )
    return export


def test_referring_domains_are_merged_per_site():
    campaign = CampaignFactory()
    with before("prospecting", "0003_scan_caps") as apps:
        merged = export_with(
            campaign,
            "blog.rival.co.uk",
            [
                ("blog.linker.co.uk", 40, 3, "https://blog.linker.co.uk/p"),
                ("linker.co.uk", 55, 2, ""),
                ("shop.linker.co.uk", None, 1, "https://shop.linker.co.uk/q"),
                ("m.gearhub.com.au", 30, 4, ""),
                ("alice.blogspot.com", 20, 1, ""),
                ("bob.blogspot.com", 25, 1, ""),
            ],
            apps=apps,
        )
        alone = export_with(
            campaign, "rival-b.example", [("blog.linker.co.uk", 10, 1, "")], apps=apps
        )
        migrate([("prospecting", "0004_registrable_domains")])

    rows = {
        r.domain: (r.domain_rating, r.links, r.sample_url, r.competitor)
        for r in ReferringDomain.objects.filter(export_id=merged.pk)
    }
    assert rows == {
        # Links summed, the best rating, the kept row's (the site's own) sample
        # or else the first other one.
        "linker.co.uk": (55, 6, "https://blog.linker.co.uk/p", "rival.co.uk"),
        "gearhub.com.au": (30, 4, "", "rival.co.uk"),
        "alice.blogspot.com": (20, 1, "", "rival.co.uk"),
        "bob.blogspot.com": (25, 1, "", "rival.co.uk"),
    }
    merged = BacklinkExport.objects.get(pk=merged.pk)
    assert (merged.competitor, merged.domain_count) == ("rival.co.uk", 4)
    (other,) = ReferringDomain.objects.filter(export_id=alone.pk)
    assert (other.domain, other.links) == ("linker.co.uk", 1)
    assert BacklinkExport.objects.get(pk=alone.pk).domain_count == 1
