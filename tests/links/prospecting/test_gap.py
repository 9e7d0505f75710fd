"""Competitor link gap: exports of Ahrefs, Semrush and Moz read into referring
domains; the gap subtracts our own backlinks; prospects in one click."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from links.prospecting import gap, queries
from links.prospecting.models import BacklinkExport, ReferringDomain
from outreach.models import Kind, Prospect
from tests.factories import BacklinkFactory, ProspectFactory

pytestmark = pytest.mark.django_db

# Column layouts as the tools export them (trimmed to the columns that matter
# plus a few that do not).
AHREFS = (
    "Referring page title,Referring page URL,Language,Domain rating,UR,Target URL,Anchor,Type\n"
    "Best shoes,https://www.runblog.example/best-shoes,en,55,20,https://rival-a.example/shoes,shoes,text\n"
    "More shoes,https://runblog.example/more,en,55,12,https://rival-a.example/,rival,text\n"
    "Gear list,https://gearlist.example/list,en,71,30,https://rival-a.example/,gear,text\n"
    "Trails,https://trailnews.example/a,en,38,9,https://rival-a.example/trails,trails,text\n"
    "Ours too,https://linksus.example/p,en,60,10,https://rival-a.example/,x,text\n"
)
# Semrush writes UTF-8 with a BOM and calls the page rating "Page ascore".
SEMRUSH = (
    "\ufeffPage ascore,Source title,Source url,Target url,Anchor,Nofollow\n"
    "33,Runs,https://runblog.example/runs,https://rival-b.example/,b,false\n"
    "41,Trails,https://trailnews.example/b,https://rival-b.example/x,b,false\n"
    "20,Ours,https://linksus.example/q,https://rival-b.example/,b,false\n"
    "12,Solo,https://onlyb.example/,https://rival-b.example/,b,false\n"
)
# Moz's linking-domains export: root domains and Domain Authority, no pages.
MOZ = (
    "Root Domain,Domain Authority,Spam Score,Linking Root Domains\n"
    "gearlist.example,68,1%,1200\n"
    "trailnews.example,40,2%,300\n"
    "forum.example,25,5%,80\n"
)


def upload(name: str, text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding))


@pytest.fixture
def three_competitors(campaign, manager):
    gap.import_export(campaign, upload("ahrefs.csv", AHREFS), by=manager)
    gap.import_export(campaign, upload("semrush.csv", SEMRUSH), by=manager)
    gap.import_export(campaign, upload("moz.csv", MOZ), competitor="rival-c.example", by=manager)
    return campaign


def test_exports_of_each_tool_are_read_into_referring_domains(three_competitors):
    exports = {e.competitor: e for e in BacklinkExport.objects.all()}
    assert set(exports) == {"rival-a.example", "rival-b.example", "rival-c.example"}
    ahrefs = exports["rival-a.example"]
    assert (ahrefs.tool, ahrefs.rows_read, ahrefs.domain_count) == ("Ahrefs", 5, 4)
    assert exports["rival-b.example"].tool == "Semrush"
    assert exports["rival-c.example"].tool == "Moz"
    runblog = ReferringDomain.objects.get(export=ahrefs, domain="runblog.example")
    # www. and not are one domain; two links, the first page kept as a sample.
    assert (runblog.links, runblog.domain_rating) == (2, 55)
    assert runblog.sample_url == "https://www.runblog.example/best-shoes"


def test_the_gap_lists_domains_linking_to_two_or_more_competitors_but_not_us(
    three_competitors,
):
    campaign = three_competitors
    BacklinkFactory(campaign=campaign, source_url="https://linksus.example/our-mention")
    rows = list(queries.link_gap(campaign))
    assert [(r["domain"], r["competitors"], r["rating"]) for r in rows] == [
        ("trailnews.example", 3, 41),
        ("gearlist.example", 2, 71),
        ("runblog.example", 2, 55),
    ]
    assert list(queries.link_gap(campaign, min_competitors=3).values_list("domain", flat=True)) == [
        "trailnews.example"
    ]
    assert queries.competitors_of(campaign, ["gearlist.example"]) == {
        "gearlist.example": ["rival-a.example", "rival-c.example"]
    }


def test_an_export_of_our_own_backlinks_is_subtracted(three_competitors, manager):
    campaign = three_competitors
    ours = "Referring page URL,Domain rating\nhttps://gearlist.example/ours,71\n"
    gap.import_export(campaign, upload("ours.csv", ours), is_ours=True, by=manager)
    domains = list(queries.link_gap(campaign).values_list("domain", flat=True))
    assert "gearlist.example" not in domains


def test_gap_domains_become_prospects_in_bulk(three_competitors, member):
    campaign = three_competitors
    ProspectFactory(campaign=campaign, url="https://runblog.example/contact")
    made = gap.make_prospects(
        campaign,
        domains=["trailnews.example", "gearlist.example", "runblog.example", "nowhere.example"],
        kind=Kind.GUEST_POST,
        by=member,
    )
    assert [p.url for p in made.created] == [
        "https://trailnews.example/",
        "https://gearlist.example/",
    ]
    assert made.skipped == ["runblog.example", "nowhere.example"]
    trail = Prospect.objects.get(domain="trailnews.example")
    assert (trail.kind, trail.domain_rating) == (Kind.GUEST_POST, 41)
    assert "rival-a.example, rival-b.example, rival-c.example" in trail.notes
    rows = {r["domain"]: r["is_prospect"] for r in queries.link_gap(campaign)}
    assert rows == {
        "trailnews.example": True,
        "gearlist.example": True,
        "runblog.example": True,
        "linksus.example": False,
    }


def test_gap_prospects_are_bloggers_or_guest_posts(three_competitors, member):
    with pytest.raises(ValidationError):
        gap.make_prospects(three_competitors, domains=["x.example"], kind=Kind.HARO, by=member)


def test_xlsx_exports_are_read(campaign, manager):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Referring page URL", "Domain rating", "Target URL"])
    sheet.append(["https://xl.example/p", 47, "https://rival-x.example/"])
    data = io.BytesIO()
    book.save(data)
    export = gap.import_export(
        campaign, SimpleUploadedFile("ahrefs.xlsx", data.getvalue()), by=manager
    )
    assert export.competitor == "rival-x.example"
    assert ReferringDomain.objects.get(export=export).domain_rating == 47


@pytest.mark.parametrize(
    ("name", "content", "competitor", "message"),
    [
        ("x.csv", "Title,Anchor\nA,b\n", "", "No column with the linking page or domain"),
        ("x.csv", "Referring page URL\nhttps://a.example/\n", "", "Say which competitor"),
        ("x.csv", "Referring page URL\nnot a url at all\n", "rival.example", "No row has"),
        ("x.csv", "", "rival.example", "empty"),
        ("x.pdf", "%PDF-1.4", "rival.example", "Only CSV and XLSX"),
        ("x.csv", "Referring page URL\nhttps://a.example/\n", "site0.example", ""),
    ],
)
def test_unusable_exports_are_refused_with_a_reason(
    campaign, manager, name, content, competitor, message
):
    if competitor == "site0.example":
        competitor = campaign.site
        message = "the campaign's own site"
    with pytest.raises(gap.ExportError, match=message):
        gap.import_export(campaign, upload(name, content), competitor=competitor, by=manager)
    assert not BacklinkExport.objects.exists()


# Moz names root domains; Ahrefs names linking pages, often on subdomains; our
# backlinks are pages too. All three must meet on the registrable domain.
MOZ_ROOTS = (
    "Root Domain,Domain Authority,Spam Score\n"
    "competitor-linker.co.uk,52,1%\n"
    "gearhub.com.au,47,2%\n"
    "alice.blogspot.com,30,3%\n"
)
AHREFS_PAGES = (
    "Referring page URL,Domain rating,Target URL\n"
    "https://blog.competitor-linker.co.uk/2024/best-kit,58,https://rival-a.co.uk/\n"
    "https://shop.competitor-linker.co.uk/links,50,https://rival-a.co.uk/\n"
    "https://m.gearhub.com.au/reviews,45,https://rival-a.co.uk/\n"
    "https://bob.blogspot.com/post,20,https://rival-a.co.uk/\n"
)


def test_the_gap_matches_moz_root_domains_with_ahrefs_pages_and_our_links(campaign, manager):
    gap.import_export(
        campaign, upload("moz.csv", MOZ_ROOTS), competitor="rival-b.co.uk", by=manager
    )
    ahrefs = gap.import_export(campaign, upload("ahrefs.csv", AHREFS_PAGES), by=manager)
    # Two subdomains of one site in one export are one referring domain.
    assert ahrefs.domain_count == 3
    linker = ReferringDomain.objects.get(export=ahrefs, domain="competitor-linker.co.uk")
    assert (linker.links, linker.domain_rating) == (2, 58)
    # We already have a link from another subdomain of gearhub.com.au.
    BacklinkFactory(campaign=campaign, source_url="https://news.gearhub.com.au/a/")
    ProspectFactory(campaign=campaign, url="https://www.competitor-linker.co.uk/write-for-us")
    rows = {r["domain"]: r for r in queries.link_gap(campaign, min_competitors=1)}
    assert set(rows) == {"competitor-linker.co.uk", "alice.blogspot.com", "bob.blogspot.com"}
    assert rows["competitor-linker.co.uk"]["competitors"] == 2
    assert rows["competitor-linker.co.uk"]["is_prospect"] is True
    # blogspot.com is a public suffix: each blog is a site of its own.
    assert rows["alice.blogspot.com"]["competitors"] == 1
    assert rows["bob.blogspot.com"]["competitors"] == 1


def test_a_competitor_given_as_a_subdomain_is_its_site(campaign, manager):
    export = gap.import_export(
        campaign,
        upload("moz.csv", MOZ_ROOTS),
        competitor="https://www.blog.rival.co.uk/",
        by=manager,
    )
    assert export.competitor == "rival.co.uk"


def test_our_own_site_is_recognized_on_any_subdomain(campaign, manager):
    campaign.site = "shop.ours.co.uk"
    campaign.save()
    with pytest.raises(gap.ExportError, match="the campaign's own site"):
        gap.import_export(
            campaign, upload("moz.csv", MOZ_ROOTS), competitor="blog.ours.co.uk", by=manager
        )
    theirs = "Root Domain,Domain Authority\nours.co.uk,50\nblog.ours.co.uk,50\nlinker.example,40\n"
    gap.import_export(campaign, upload("moz.csv", theirs), competitor="rival.co.uk", by=manager)
    assert list(queries.link_gap(campaign, min_competitors=1).values_list("domain", flat=True)) == [
        "linker.example"
    ]
