"""Stored quality scores (links/quality.py): where each input comes from, when
scores are recomputed, and sorting and filtering the two lists by them.

Default weights: dr 30, relevance 30, follow 20, placement 10, new domain 10; an
unknown part counts half its weight."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.quality import parse_weights
from links import quality, services
from links.models import Backlink, BacklinkState
from links.outcome import CheckOutcome
from links.prospecting.models import BacklinkExport, ReferringDomain
from outreach.models import Prospect
from tests.factories import BacklinkFactory, ProspectFactory


def parts(row) -> dict[str, float]:
    return {p["key"]: p["points"] for p in row.quality_parts["parts"]}


def gap_rating(campaign, domain: str, rating: int) -> None:
    export = BacklinkExport.objects.create(
        campaign=campaign, competitor="rival.example", original_name="x.csv", state="done"
    )
    ReferringDomain.objects.create(
        export=export, campaign=campaign, competitor="rival.example", domain=domain,
        domain_rating=rating,
    )  # fmt: skip


def refresh(campaign) -> None:
    quality.refresh({campaign.pk: None})


@pytest.mark.django_db
def test_a_live_content_link_with_everything_known(campaign):
    prospect = ProspectFactory(
        campaign=campaign, url="https://blog.alpha.example/p", domain_rating=80
    )
    link = BacklinkFactory(
        campaign=campaign,
        prospect=prospect,
        source_url="https://alpha.example/post",
        state=BacklinkState.LIVE,
        placement="content",
        relevance=50,
    )
    refresh(campaign)
    link.refresh_from_db()
    # DR 80 -> 24; relevance 50 -> 15; follow 20; content 10; new domain 10.
    assert link.quality == 79
    assert parts(link) == {
        "dr": 24.0,
        "relevance": 15.0,
        "follow": 20.0,
        "placement": 10.0,
        "new_domain": 10.0,
    }
    assert link.quality_parts["parts"][0]["explanation"] == "DR 80 (from its prospect)."


@pytest.mark.django_db
def test_only_the_first_link_of_a_site_is_a_new_referring_domain(campaign):
    first = BacklinkFactory(
        campaign=campaign, source_url="https://www.beta.example/a", won_on=date(2026, 3, 1)
    )
    # Another host of the same site (registrable domain), won later.
    later = BacklinkFactory(
        campaign=campaign, source_url="https://blog.beta.example/b", won_on=date(2026, 4, 1)
    )
    refresh(campaign)
    first.refresh_from_db()
    later.refresh_from_db()
    assert parts(first)["new_domain"] == 10.0
    assert parts(later)["new_domain"] == 0.0
    # Nothing else known: 15 + 15 + 10 + 5 + (10 or 0).
    assert (first.quality, later.quality) == (55, 45)


@pytest.mark.django_db
def test_the_rating_comes_from_a_prospect_of_the_site_or_else_the_link_gap(campaign):
    from_prospect = BacklinkFactory(campaign=campaign, source_url="https://gamma.example/a")
    ProspectFactory(campaign=campaign, url="https://gamma.example/contact", domain_rating=60)
    from_gap = BacklinkFactory(campaign=campaign, source_url="https://delta.example/a")
    gap_rating(campaign, "delta.example", 90)
    refresh(campaign)
    from_prospect.refresh_from_db()
    from_gap.refresh_from_db()
    assert parts(from_prospect)["dr"] == 18.0
    assert "from a prospect of this site" in from_prospect.quality_parts["parts"][0]["explanation"]
    assert parts(from_gap)["dr"] == 27.0
    assert "from a link-gap export" in from_gap.quality_parts["parts"][0]["explanation"]


@pytest.mark.django_db
def test_a_nofollow_footer_link(campaign):
    link = BacklinkFactory(
        campaign=campaign,
        state=BacklinkState.NOFOLLOW,
        link_rel="ugc sponsored",
        placement="footer",
    )
    refresh(campaign)
    link.refresh_from_db()
    assert parts(link)["follow"] == 0.0
    assert parts(link)["placement"] == 0.0
    assert link.quality_parts["parts"][2]["explanation"] == "Passes no value (rel ugc sponsored)."
    # DR unknown 15, relevance unknown 15, new domain 10.
    assert link.quality == 40


@pytest.mark.django_db
def test_a_recorded_check_rescores_its_link(campaign):
    link = BacklinkFactory(campaign=campaign, source_url="https://eps.example/a")
    refresh(campaign)
    link.refresh_from_db()
    assert link.quality == 55
    outcome = CheckOutcome(
        verdict="live",
        http_status=200,
        anchors=[{"href": link.target_url, "text": "x", "rel": "", "placement": "content"}],
    )
    services.record_check(link.pk, outcome)
    link.refresh_from_db()
    # Follow 20 and content 10 now known: 15 + 15 + 20 + 10 + 10.
    assert link.quality == 70


@pytest.mark.django_db
def test_a_recorded_check_scores_like_the_refresh(campaign):
    ProspectFactory(campaign=campaign, url="https://www.rho.example/", domain_rating=40)
    BacklinkFactory(campaign=campaign, source_url="https://rho.example/1", won_on=date(2026, 1, 1))
    link = BacklinkFactory(
        campaign=campaign, source_url="https://m.rho.example/2", won_on=date(2026, 2, 1)
    )
    outcome = CheckOutcome(
        verdict="nofollow",
        http_status=200,
        anchors=[{"href": link.target_url, "text": "x", "rel": "ugc", "placement": "sidebar"}],
    )
    services.record_check(link.pk, outcome)
    link.refresh_from_db()
    # DR 40 -> 12, relevance unknown 15, ugc 0, sidebar 0, not a new site 0.
    assert (link.quality, parts(link)) == (
        27,
        {"dr": 12.0, "relevance": 15.0, "follow": 0.0, "placement": 0.0, "new_domain": 0.0},
    )
    recorded = link.quality_parts
    refresh(campaign)
    link.refresh_from_db()
    assert link.quality_parts == recorded


@pytest.mark.django_db
def test_rescoring_a_batch_of_checks_costs_no_query_per_link(campaign):
    # The score's inputs come with the locking query: a batch of four costs the
    # queries of a batch of one.
    links = []
    for n in range(5):
        ProspectFactory(campaign=campaign, url=f"https://s{n}.example/", domain_rating=10 * n)
        gap_rating(campaign, f"s{n}.example", 5 * n)
        links.append(BacklinkFactory(campaign=campaign, source_url=f"https://s{n}.example/a"))
    outcome = CheckOutcome(verdict="live", http_status=200, anchors=[])

    def queries(batch) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.record_checks([(link.pk, outcome) for link in batch])
        return len(captured)

    assert queries(links[4:]) == queries(links[:4])
    assert all(b.quality is not None for b in Backlink.objects.filter(campaign=campaign))


@pytest.mark.django_db
def test_a_won_link_rescores_the_prospects_of_its_site(campaign, member):
    prospect = ProspectFactory(campaign=campaign, url="https://zeta.example/", domain_rating=50)
    other = ProspectFactory(campaign=campaign, url="https://zeta.example/other", domain_rating=50)
    quality.refresh_stale()
    other.refresh_from_db()
    # DR 15, relevance 15, follow 10, placement 5 (unknown: no link yet), new 10.
    assert other.quality == 55
    services.record_won_link(
        prospect, by=member, source_url="https://zeta.example/post", target_page=None,
        target_url=f"https://{campaign.site}/",
    )  # fmt: skip
    other.refresh_from_db()
    prospect.refresh_from_db()
    assert other.quality == 45  # its site links to us now
    assert prospect.quality == 55  # the first link of the site came from it


@pytest.mark.django_db
def test_a_saved_prospect_is_stale_until_the_refresh_task_rescores_it(campaign):
    prospect = ProspectFactory(campaign=campaign, url="https://eta.example/", domain_rating=20)
    link = BacklinkFactory(campaign=campaign, source_url="https://eta.example/post")
    quality.refresh_stale()
    prospect.refresh_from_db()
    link.refresh_from_db()
    assert prospect.quality_stale is False
    assert parts(link)["dr"] == 6.0

    prospect.domain_rating = 100
    prospect.save(update_fields=["domain_rating"])
    assert Prospect.objects.get(pk=prospect.pk).quality_stale is True

    assert quality.refresh_stale() == 2
    prospect.refresh_from_db()
    link.refresh_from_db()
    assert prospect.quality_stale is False
    assert parts(prospect)["dr"] == 30.0
    assert parts(link)["dr"] == 30.0
    assert quality.refresh_stale() == 0


@pytest.mark.django_db
def test_the_refresh_task_runs_the_service(campaign):
    from links.tasks import refresh_stale_quality

    ProspectFactory(campaign=campaign, url="https://theta.example/", domain_rating=0)
    assert refresh_stale_quality() == 1
    assert Prospect.objects.get(domain="theta.example").quality == 40


@pytest.mark.django_db
def test_recompute_command_applies_new_weights(campaign, settings):
    link = BacklinkFactory(campaign=campaign, state=BacklinkState.LIVE)
    refresh(campaign)
    settings.QUALITY_WEIGHTS = parse_weights("dr=0,relevance=0,follow=1,placement=0,new_domain=0")
    out = StringIO()
    call_command("recompute_quality", "--campaign", campaign.slug, stdout=out)
    link.refresh_from_db()
    assert link.quality == 100
    assert "Rescored 1 campaign(s)" in out.getvalue()


# --- the lists ---------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def three_links(campaign):
    links = {}
    for name in ("low", "high", "mid"):
        links[name] = BacklinkFactory(campaign=campaign, source_url=f"https://{name}.example/")
    links["unscored"] = BacklinkFactory(campaign=campaign, source_url="https://none.example/")
    for name, score in (("low", 20), ("high", 90), ("mid", 55)):
        Backlink.objects.filter(pk=links[name].pk).update(
            quality=score, quality_parts={"score": score, "parts": []}
        )
    return links


def backlink_rows(response) -> list[str]:
    page = response.context["page"]
    return [b.source_domain for b in page.object_list]


def test_backlinks_sort_by_quality_with_unscored_last(
    signed_in, campaign, three_links, django_assert_max_num_queries
):
    url = reverse("links:backlink_list", args=[campaign.slug])
    with django_assert_max_num_queries(7):
        best = signed_in.get(url, {"sort": "-quality"})
    assert backlink_rows(best) == ["high.example", "mid.example", "low.example", "none.example"]
    worst = signed_in.get(url, {"sort": "quality"})
    assert backlink_rows(worst) == ["low.example", "mid.example", "high.example", "none.example"]


def test_backlinks_filter_by_min_quality(signed_in, campaign, three_links):
    url = reverse("links:backlink_list", args=[campaign.slug])
    response = signed_in.get(url, {"min_quality": "55", "sort": "-quality"})
    assert backlink_rows(response) == ["high.example", "mid.example"]
    assert b"match these filters" in response.content
    # A bad value drops that filter only.
    assert len(backlink_rows(signed_in.get(url, {"min_quality": "101"}))) == 4


def test_backlink_list_and_detail_show_the_parts_on_hover(signed_in, campaign):
    link = BacklinkFactory(campaign=campaign, source_url="https://iota.example/", relevance=80)
    refresh(campaign)
    html = signed_in.get(reverse("links:backlink_list", args=[campaign.slug])).content.decode()
    assert 'class="badge quality quality-mid"' in html
    assert "Relevance: 24 of 30. Relevance 80 of 100." in html
    detail = signed_in.get(reverse("links:backlink_detail", args=[campaign.slug, link.pk]))
    text = detail.content.decode()
    assert "Quality: 64 of 100" in text
    assert "Not found on its page yet: counted as neutral." in text


@pytest.fixture
def three_prospects(campaign):
    prospects = {}
    for name, score in (("low", 20), ("high", 90), ("mid", 55), ("unscored", None)):
        prospect = ProspectFactory(campaign=campaign, url=f"https://{name}.example/")
        Prospect.objects.filter(pk=prospect.pk).update(quality=score, quality_stale=False)
        prospects[name] = prospect
    return prospects


def prospect_rows(response) -> list[str]:
    return [p.domain for p in response.context["page"].object_list]


def test_prospects_sort_by_quality_with_unscored_last(
    signed_in, campaign, three_prospects, django_assert_max_num_queries
):
    url = reverse("outreach:prospect_list", args=[campaign.slug])
    with django_assert_max_num_queries(12):
        best = signed_in.get(url, {"sort": "-quality"})
    assert prospect_rows(best) == [
        "high.example",
        "mid.example",
        "low.example",
        "unscored.example",
    ]
    worst = signed_in.get(url, {"sort": "quality"})
    assert prospect_rows(worst)[:3] == ["low.example", "mid.example", "high.example"]
    # The column header sorts best first on the first click.
    assert 'href="?sort=-quality"' in signed_in.get(url).content.decode()


def test_prospects_filter_by_min_quality(signed_in, campaign, three_prospects):
    url = reverse("outreach:prospect_list", args=[campaign.slug])
    response = signed_in.get(url, {"min_quality": "50", "sort": "-quality"})
    assert prospect_rows(response) == ["high.example", "mid.example"]


def test_prospect_detail_shows_the_parts(signed_in, campaign):
    prospect = ProspectFactory(campaign=campaign, url="https://kappa.example/", domain_rating=70)
    quality.refresh_stale()
    url = reverse("outreach:prospect_detail", args=[campaign.slug, prospect.pk])
    text = signed_in.get(url).content.decode()
    # 21 + 15 + 10 + 5 + 10.
    assert "Quality: 61 of 100" in text
    assert "Unknown (no link yet): counted as neutral." in text
