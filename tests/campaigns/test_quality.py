"""The quality formula (campaigns/quality.py), with answers worked out by hand."""

from __future__ import annotations

import pytest

from campaigns.quality import DEFAULT_WEIGHTS, Inputs, WeightsError, parse_weights, score
from tests.support.processes import environment, run_python

WEIGHTS = parse_weights(DEFAULT_WEIGHTS)  # dr 30, relevance 30, follow 20, placement 10, new 10


def parts_of(inputs: Inputs, weights: dict[str, int] = WEIGHTS) -> dict[str, float]:
    return {part.key: part.points for part in score(inputs, weights).parts}


def test_everything_known_and_best_scores_100():
    result = score(
        Inputs(
            domain_rating=100, relevance=100, follows=True, placement="content", new_domain=True
        ),
        WEIGHTS,
    )
    assert result.score == 100
    assert result.known_weight_percent == 100


def test_each_part_by_hand():
    # DR 70 -> 0.7 * 30 = 21; relevance 40 -> 0.4 * 30 = 12; nofollow -> 0;
    # footer -> 0; a second link from the site -> 0. Total 33.
    inputs = Inputs(
        domain_rating=70,
        relevance=40,
        follows=False,
        follow_reason="rel nofollow",
        placement="footer",
        new_domain=False,
    )
    assert parts_of(inputs) == {
        "dr": 21.0,
        "relevance": 12.0,
        "follow": 0.0,
        "placement": 0.0,
        "new_domain": 0.0,
    }
    assert score(inputs, WEIGHTS).score == 33
    explanations = {p.key: p.explanation for p in score(inputs, WEIGHTS).parts}
    assert explanations["follow"] == "Passes no value (rel nofollow)."
    assert explanations["placement"] == "In the footer, not the content."


def test_follow_and_content_each_give_their_whole_weight():
    inputs = Inputs(domain_rating=0, relevance=0, follows=True, placement="content")
    assert parts_of(inputs)["follow"] == 20.0
    assert parts_of(inputs)["placement"] == 10.0
    assert parts_of(Inputs(new_domain=True))["new_domain"] == 10.0


def test_unknown_parts_count_as_neutral_and_say_so():
    # Nothing known: every part is half its weight, 50 in all.
    result = score(Inputs(), WEIGHTS)
    assert result.score == 50
    assert result.known_weight_percent == 0
    assert {p.key: p.points for p in result.parts} == {
        "dr": 15.0,
        "relevance": 15.0,
        "follow": 10.0,
        "placement": 5.0,
        "new_domain": 5.0,
    }
    assert all("neutral" in p.explanation for p in result.parts)


def test_a_pending_link_that_is_only_a_new_domain_is_not_a_perfect_score():
    # DR 20 -> 6; relevance unknown 15; follow unknown 10; placement unknown 5;
    # new domain 10 -> 46. Known parts carry 30 + 10 of the 100 weight.
    result = score(Inputs(domain_rating=20, new_domain=True), WEIGHTS)
    assert result.score == 46
    assert result.known_weight_percent == 40


def test_a_prospect_says_why_follow_and_placement_are_unknown():
    result = score(Inputs(domain_rating=50, not_yet="no link yet"), WEIGHTS)
    explanations = {p.key: p.explanation for p in result.parts}
    assert explanations["follow"] == "Unknown (no link yet): counted as neutral."
    assert explanations["placement"] == "Unknown (no link yet): counted as neutral."


def test_weights_are_divided_by_their_sum():
    # Only DR counts, and weights need not add up to 100.
    weights = parse_weights("dr=3,relevance=0,follow=0,placement=0,new_domain=0")
    result = score(Inputs(domain_rating=45, relevance=100, follows=True), weights)
    assert result.score == 45
    assert [p.max_points for p in result.parts] == [100.0, 0.0, 0.0, 0.0, 0.0]


def test_other_weights_change_the_score():
    weights = parse_weights("dr=50,relevance=0,follow=50,placement=0,new_domain=0")
    # DR 60 -> 30; nofollow -> 0.
    assert score(Inputs(domain_rating=60, follows=False), weights).score == 30


def test_summary_lists_each_part():
    summary = score(Inputs(domain_rating=70, domain_rating_source="from its prospect"), WEIGHTS)
    lines = summary.summary().splitlines()
    assert lines[0] == "Domain rating: 21 of 30. DR 70 (from its prospect)."
    assert len(lines) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dr=30,relevance=30,follow=20,placement=10", "Missing new_domain"),
        ("dr=30,relevance=30,follow=20,placement=10,new_domain=10,dr=5", "“dr” is given twice"),
        ("dr=30,relevance=30,follow=20,placement=10,fresh=10", "Unknown part “fresh”"),
        ("dr=x,relevance=30,follow=20,placement=10,new_domain=10", "must be a whole number"),
        ("dr=-1,relevance=30,follow=20,placement=10,new_domain=10", "between 0 and 1000"),
        ("dr=0,relevance=0,follow=0,placement=0,new_domain=0", "At least one weight"),
        ("dr 30", "is not name=weight"),
    ],
)
def test_bad_weights_are_refused_with_the_reason(text, message):
    with pytest.raises(WeightsError, match=message):
        parse_weights(text)


def test_the_default_weights():
    assert WEIGHTS == {"dr": 30, "relevance": 30, "follow": 20, "placement": 10, "new_domain": 10}


def test_bad_weights_stop_the_app_at_startup_with_a_clear_error():
    env = environment(
        {"SECRET_KEY": "x", "QUALITY_WEIGHTS": "dr=30,relevance=30", "DJANGO_SETTINGS_MODULE": None}
    )
    done = run_python("manage.py", "check", env=env, check=False, timeout=120)
    assert done.returncode != 0
    assert "QUALITY_WEIGHTS: Missing follow, placement, new_domain" in done.stderr
