"""Topical relevance through the real paths: verify_url, backlink checks with the
target text cache, and the background scoring of prospects. Pages are served by
a real HTTP server on 127.0.0.1 (tests/support/site.py)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from links import relevance, services, tasks
from links.checking import check_for, check_many, fetch_config
from links.models import Backlink, TargetText
from links.verification.verdict import shared_fetcher
from outreach import queries
from outreach.models import Prospect
from tests.factories import BacklinkFactory, ProspectFactory, TargetPageFactory
from tests.links.verification.relevance_pages import KEYWORDS, source_page, target_page


@pytest.fixture
def scoring(settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.RELEVANCE_ENABLED = True
    return settings


def verify_url_json(source: str, target: str) -> dict:
    out = StringIO()
    call_command("verify_url", source, target, "--json", stdout=out)
    return json.loads(out.getvalue())


# --- verify_url ----------------------------------------------------------------------


def test_verify_url_reports_relevance_when_both_pages_could_be_read(site, scoring):
    target = site.page("/guide", target_page("bread"))
    on_topic = site.page("/bread", source_page("bread", link=target))
    off_topic = site.page("/fish", source_page("aquarium", link=target))
    on, off = verify_url_json(on_topic, target), verify_url_json(off_topic, target)
    assert on["verdict"] == off["verdict"] == "live"
    assert on["relevance"] > off["relevance"] + 40
    assert "sourdough" in on["relevance_terms"]
    assert all(isinstance(term, str) for term in off["relevance_terms"])


def test_verify_url_relevance_is_null_when_the_target_cannot_be_read(site, scoring):
    target = site.url("/missing-guide")  # answers 404
    source = site.page("/bread", source_page("bread", link=target))
    data = verify_url_json(source, target)
    assert data["verdict"] == "live"
    assert data["relevance"] is None
    assert data["relevance_terms"] == []
    assert site.hits_for("/missing-guide") == 1


def test_verify_url_reads_no_target_when_the_source_failed(site, scoring):
    target = site.page("/guide", target_page("bread"))
    data = verify_url_json(site.url("/gone"), target)
    assert data["verdict"] == "error"
    assert data["relevance"] is None
    assert site.hits_for("/guide") == 0


def test_verify_url_prints_the_score_and_its_terms(site, scoring):
    target = site.page("/guide", target_page("hiking"))
    source = site.page("/hike", source_page("hiking", link=target))
    out = StringIO()
    call_command("verify_url", source, target, "--keyword", "hiking gear", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("relevance:"))
    assert "/100 (" in line
    assert "backpack" in line


# --- Backlink checks and the target text cache ---------------------------------------


def check_and_record(backlinks: list[Backlink]) -> None:
    for backlink_id, outcome in check_many(backlinks):
        services.record_check(backlink_id, outcome)


def backlinks_to(site, target: str, topics: list[str], campaign=None) -> list[Backlink]:
    page = TargetPageFactory(url=target, keywords=", ".join(KEYWORDS["bread"]))
    made = []
    for n, topic in enumerate(topics):
        source = site.page(f"/post-{n}", source_page(topic, link=target))
        made.append(
            BacklinkFactory(
                campaign=page.campaign, target_page=page, source_url=source, target_url=target
            )
        )
    return list(Backlink.objects.filter(pk__in=[b.pk for b in made]).order_by("pk"))


def reload(backlinks: list[Backlink]) -> list[Backlink]:
    return list(
        Backlink.objects.filter(pk__in=[b.pk for b in backlinks])
        .select_related("target_page")
        .order_by("pk")
    )


def test_a_check_stores_relevance_and_its_terms_on_the_backlink(db, site, scoring):
    target = site.page("/guide", target_page("bread"))
    on_topic, off_topic = backlinks_to(site, target, ["bread", "investing"])
    check_and_record([on_topic, off_topic])
    on_topic.refresh_from_db()
    off_topic.refresh_from_db()
    assert on_topic.state == off_topic.state == "live"
    assert on_topic.relevance is not None
    assert off_topic.relevance is not None
    assert on_topic.relevance > off_topic.relevance + 40
    assert "sourdough" in on_topic.relevance_terms
    assert on_topic.relevance_scored_at is not None


def test_the_target_is_read_once_for_many_checks_and_again_after_a_week(db, site, scoring):
    target = site.page("/guide", target_page("bread"))
    backlinks = backlinks_to(site, target, ["bread", "hiking", "bread", "aquarium"])
    check_and_record(reload(backlinks[:2]))
    check_and_record(reload(backlinks[2:]))
    assert site.hits_for("/guide") == 1
    assert TargetText.objects.get(url=target).terms["counts"]["sourdough"] >= 1

    # Six days on, the stored text still serves.
    TargetText.objects.update(fetched_at=timezone.now() - timedelta(days=6))
    check_and_record(reload(backlinks))
    assert site.hits_for("/guide") == 1

    # A week on, it is read again, once.
    TargetText.objects.update(fetched_at=timezone.now() - timedelta(days=8))
    check_and_record(reload(backlinks))
    assert site.hits_for("/guide") == 2
    assert TargetText.objects.get(url=target).fetched_at > timezone.now() - timedelta(minutes=5)


def test_an_unreadable_target_is_tried_again_after_an_hour_not_every_check(db, site, scoring):
    target = site.url("/later")  # 404 for now
    backlink = backlinks_to(site, target, ["bread"])[0]
    check_and_record(reload([backlink]))
    check_and_record(reload([backlink]))
    assert site.hits_for("/later") == 1
    assert TargetText.objects.get(url=target).error
    backlink.refresh_from_db()
    assert backlink.relevance is None

    site.page("/later", target_page("bread"))
    TargetText.objects.update(fetched_at=timezone.now() - timedelta(minutes=61))
    check_and_record(reload([backlink]))
    backlink.refresh_from_db()
    assert backlink.relevance is not None
    assert site.hits_for("/later") == 2


def test_checks_score_only_when_the_answer_may_have_changed(db, site, scoring):
    target = site.page("/guide", target_page("bread"))
    backlink = backlinks_to(site, target, ["bread"])[0]
    fetcher = shared_fetcher(fetch_config())

    def prepared() -> tuple[Backlink, object]:
        fresh = reload([backlink])[0]
        return fresh, relevance.with_relevance([fresh], [check_for(fresh)], fetcher=fetcher)[0]

    fresh, check = prepared()
    assert check.reference is not None  # never scored
    assert check.relevance_unless_hash == ""
    check_and_record([fresh])

    fresh, check = prepared()
    assert check.reference is None  # scored, within the week

    # A week on the score is still young: mature links are checked weekly, and
    # scoring each of those checks would cost more than the check itself.
    Backlink.objects.update(relevance_scored_at=timezone.now() - timedelta(days=8))
    TargetText.objects.update(changed_at=timezone.now() - timedelta(days=9))
    fresh, check = prepared()
    assert check.reference is None

    Backlink.objects.update(relevance_scored_at=timezone.now() - timedelta(days=31))
    TargetText.objects.update(changed_at=timezone.now() - timedelta(days=32))
    fresh, check = prepared()
    # A month on: scored again only if the page changed since the last check.
    assert check.reference is not None
    assert check.relevance_unless_hash == fresh.last_page_hash != ""
    scored_at = fresh.relevance_scored_at
    check_and_record([fresh])
    assert reload([backlink])[0].relevance_scored_at == scored_at  # same page: kept

    # Our target's text changed: every backlink to it is scored again.
    TargetText.objects.update(changed_at=timezone.now(), fetched_at=timezone.now())
    fresh, check = prepared()
    assert check.reference is not None
    assert check.relevance_unless_hash == ""


# --- Prospects ------------------------------------------------------------------------


def test_prospects_are_scored_in_the_background_and_sort_by_relevance(
    transactional_db, site, scoring
):
    target = site.page("/guide", target_page("investing"))
    page = TargetPageFactory(url=target, keywords=", ".join(KEYWORDS["investing"]))
    campaign = page.campaign
    on_topic = ProspectFactory(campaign=campaign, url=site.page("/money", source_page("investing")))
    off_topic = ProspectFactory(campaign=campaign, url=site.page("/hike", source_page("hiking")))
    unreadable = ProspectFactory(campaign=campaign, url=site.url("/nothing-here"))

    # Beat's run claims every prospect never read ...
    claimed = relevance.claim_unscored_prospects()
    assert set(claimed) == {on_topic.pk, off_topic.pk, unreadable.pk}
    assert relevance.claim_unscored_prospects() == []  # claimed once
    # ... and a worker scores them (the task body, called directly).
    assert tasks.score_prospect_relevance(claimed) == 2

    scores = dict(Prospect.objects.values_list("pk", "relevance"))
    assert scores[on_topic.pk] > scores[off_topic.pk] + 40
    assert scores[unreadable.pk] is None
    assert "retirement" in Prospect.objects.get(pk=on_topic.pk).relevance_terms
    assert site.hits_for("/guide") == 1

    ordered = [p.pk for p in queries.filter_prospects(campaign, {"sort": "-relevance"})]
    assert ordered == [on_topic.pk, off_topic.pk, unreadable.pk]  # unscored last
    ordered = [p.pk for p in queries.filter_prospects(campaign, {"sort": "relevance"})]
    assert ordered == [off_topic.pk, on_topic.pk, unreadable.pk]


def test_the_beat_run_queues_new_prospects_in_batches(db, site, scoring, queue):
    target = site.page("/guide", target_page("aquarium"))
    page = TargetPageFactory(url=target)
    ProspectFactory.create_batch(relevance.PROSPECT_BATCH_SIZE + 1, campaign=page.campaign)
    assert tasks.score_new_prospects() == relevance.PROSPECT_BATCH_SIZE + 1
    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    assert {m["headers"]["task"] for m in messages} == {"links.tasks.score_prospect_relevance"}
    batches = [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages]
    assert sorted(len(batch) for batch in batches) == [1, relevance.PROSPECT_BATCH_SIZE]
    assert tasks.score_new_prospects() == 0  # nothing left unclaimed


def test_no_scoring_when_relevance_is_off(db, site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.RELEVANCE_ENABLED = False
    ProspectFactory(url=site.url("/p"))
    assert tasks.score_new_prospects() == 0
    assert Prospect.objects.filter(relevance_scored_at__isnull=True).count() == 1


# --- Pages ----------------------------------------------------------------------------


def test_backlink_list_and_detail_show_relevance_with_its_terms(client, member, campaign):
    client.force_login(member)
    backlink = BacklinkFactory(
        campaign=campaign, relevance=73, relevance_terms=["sourdough", "starter"]
    )
    unscored = BacklinkFactory(campaign=campaign)
    listing = client.get(reverse("links:backlink_list", args=[campaign.slug])).content.decode()
    assert 'title="Shared terms: sourdough, starter">73</span>' in listing
    assert 'title="Not scored yet"' in listing
    detail = client.get(
        reverse("links:backlink_detail", args=[campaign.slug, backlink.pk])
    ).content.decode()
    assert "73/100" in detail
    assert "shared terms: sourdough, starter" in detail
    detail = client.get(
        reverse("links:backlink_detail", args=[campaign.slug, unscored.pk])
    ).content.decode()
    assert "not scored yet" in detail


def test_prospect_table_has_a_sortable_relevance_column(client, member, campaign):
    client.force_login(member)
    high = ProspectFactory(campaign=campaign, relevance=90, relevance_terms=["index", "funds"])
    low = ProspectFactory(campaign=campaign, relevance=10)
    url = reverse("outreach:prospect_list", args=[campaign.slug])
    response = client.get(url, {"sort": "-relevance"})
    assert response.context["headers"]["relevance"] == {
        "url": "?sort=relevance",
        "aria_sort": "descending",
    }
    rows = [p.pk for p in response.context["page"].object_list]
    assert rows == [high.pk, low.pk]
    html = response.content.decode()
    assert 'title="Shared terms: index, funds">90</td>' in html
