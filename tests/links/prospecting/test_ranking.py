"""Ranking target pages as replacements for a dead link."""

from __future__ import annotations

from dataclasses import dataclass

from links.prospecting.ranking import rank_for_link, rank_targets, stem, words


@dataclass
class Page:
    title: str
    keywords: str
    priority: int = 3


SHOES = Page("Trail shoe guide", "trail shoes, trail running")
SOCKS = Page("Running socks", "socks, merino socks")
PLAN = Page("Marathon plan", "marathon training plan", priority=1)


def test_words_fold_plurals_and_drop_stopwords():
    assert words("The best Trail-Shoes for a beginner's races") == [
        "best", "trail", "shoe", "beginner", "race",
    ]  # fmt: skip
    assert stem("stories") == "story"
    assert stem("glass") == "glass"


def test_a_whole_keyword_phrase_beats_scattered_words():
    ranked = rank_targets("a marathon training plan for spring", [SHOES, SOCKS, PLAN])
    assert ranked[0].page is PLAN
    assert "marathon training plan" in ranked[0].matched


def test_the_anchor_text_outweighs_the_sentence():
    ranked = rank_for_link(
        "merino socks review", "Read this running shoe guide first.", [SHOES, SOCKS]
    )
    assert ranked[0].page is SOCKS


def test_priority_breaks_ties():
    ranked = rank_targets("nothing in common", [SHOES, PLAN])
    assert [r.page for r in ranked] == [PLAN, SHOES]
    assert {r.score for r in ranked} == {0}
