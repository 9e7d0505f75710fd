"""The inbox pages: deadline order, campaign keyword highlight and filter, paste,
one-click prospects, bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.journalist_queries.models import JournalistQuery
from outreach.models import Prospect
from tests.factories import JournalistQueryFactory, TargetPageFactory

from .samples import HARO_TEXT

pytestmark = pytest.mark.django_db


def test_empty_inbox_says_what_to_do(signed_in):
    text = signed_in.get(reverse("inbox:queries")).content.decode()
    assert "No journalist queries yet" in text
    assert "Paste a digest email" in text


def test_queries_are_sorted_by_deadline(signed_in):
    now = timezone.now()
    later = JournalistQueryFactory(title="Later one", deadline=now + timedelta(days=3))
    sooner = JournalistQueryFactory(title="Sooner one", deadline=now + timedelta(hours=3))
    JournalistQueryFactory(title="Passed one", deadline=now - timedelta(hours=3))
    text = signed_in.get(reverse("inbox:queries")).content.decode()
    assert text.index(sooner.title) < text.index(later.title)
    assert "Passed one" not in text
    with_past = signed_in.get(reverse("inbox:queries"), {"past": "1"}).content.decode()
    assert "Passed one" in with_past


def test_campaign_keywords_highlight_and_filter(signed_in, campaign):
    TargetPageFactory(campaign=campaign, keywords="trail running")
    JournalistQueryFactory(title="Trail running for beginners")
    JournalistQueryFactory(title="Budget apps", query_text="Which budgeting apps?")
    url = reverse("inbox:queries")
    text = signed_in.get(url, {"campaign": campaign.slug}).content.decode()
    assert "matches trail running" in text
    assert "Budget apps" in text
    only = signed_in.get(url, {"campaign": campaign.slug, "matching": "1"}).content.decode()
    assert "Budget apps" not in only
    assert "Trail running for beginners" in only


def test_a_campaign_without_keywords_says_how_to_add_them(signed_in, campaign):
    text = signed_in.get(reverse("inbox:queries"), {"campaign": campaign.slug}).content.decode()
    assert "has no keywords yet" in text


def test_another_teams_campaign_is_not_found(signed_in, other_campaign):
    response = signed_in.get(reverse("inbox:queries"), {"campaign": other_campaign.slug})
    assert response.status_code == 404


def test_paste_adds_queries(signed_in):
    response = signed_in.post(reverse("inbox:paste"), {"text": HARO_TEXT}, follow=True)
    assert "3 new queries." in response.content.decode()
    again = signed_in.post(reverse("inbox:paste"), {"text": HARO_TEXT}, follow=True)
    assert "0 new queries, 3 already in the inbox." in again.content.decode()
    assert JournalistQuery.objects.count() == 3


def test_empty_paste_is_an_error(signed_in):
    response = signed_in.post(reverse("inbox:paste"), {"text": "  "})
    assert response.status_code == 400
    assert "Paste the text of a digest" in response.content.decode()


def test_one_click_prospect_returns_the_row(signed_in, campaign):
    query = JournalistQueryFactory()
    response = signed_in.post(
        reverse("inbox:query_prospect", args=[query.pk]),
        {"campaign": campaign.slug},
        headers={"HX-Request": "true"},
    )
    fragment = response.content.decode()
    assert fragment.lstrip().startswith(f'<tr id="query-{query.pk}"')
    assert f"Prospect of {campaign.name}" in fragment
    prospect = Prospect.objects.get()
    assert (prospect.kind, prospect.deadline) == ("haro", query.deadline)


def test_a_prospect_needs_a_campaign(signed_in):
    query = JournalistQueryFactory()
    response = signed_in.post(reverse("inbox:query_prospect", args=[query.pk]), follow=True)
    assert "Pick the campaign" in response.content.decode()


def test_dismiss_removes_the_row(signed_in):
    query = JournalistQueryFactory()
    response = signed_in.post(
        reverse("inbox:dismiss", args=[query.pk]), headers={"HX-Request": "true"}
    )
    assert response.content == b""
    assert query.title not in signed_in.get(reverse("inbox:queries")).content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_inbox_queries_do_not_grow_with_rows(
    signed_in, campaign, django_assert_max_num_queries, count
):
    TargetPageFactory(campaign=campaign, keywords="trail running")
    for query in JournalistQueryFactory.create_batch(count):
        if query.pk % 2:
            from outreach.journalist_queries import services

            services.make_prospect(query, campaign=campaign, by=None)
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse("inbox:queries"), {"campaign": campaign.slug})
    assert response.content.decode().count('<tr id="query-') == min(count, 25)
