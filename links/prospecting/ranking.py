"""Rank a campaign's target pages as replacements for a dead link.

The words around a dead link (its anchor text and sentence) say what the page
owner wanted to point at; a target page whose keywords and title share those
words is the one to offer. A whole keyword phrase found in the text counts most,
then single keyword words, then title words; words of the anchor text count
twice those of the sentence around it, since the anchor names the link and the
sentence may be about anything; the page's priority breaks ties.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS_TEXT = """a an and are as at be by for from has have how in into is it its of on or
our that the their this to was what when where which who why will with you your we us my"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
PHRASE_WEIGHT = 3.0
KEYWORD_WORD_WEIGHT = 1.0
TITLE_WORD_WEIGHT = 0.5


class RankablePage(Protocol):
    title: str
    keywords: str
    priority: int


def stem(word: str) -> str:
    """A crude plural fold: "shoes" and "shoe", "guides" and "guide" meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def keyword_list(keywords: str) -> list[str]:
    return [k.strip() for k in keywords.split(",") if k.strip()]


@dataclass(frozen=True)
class Ranked:
    page: RankablePage
    score: float
    matched: tuple[str, ...]


def score(text: str, page: RankablePage) -> Ranked:
    tokens = words(text)
    token_set = set(tokens)
    joined = f" {' '.join(tokens)} "
    total = 0.0
    matched: list[str] = []
    keyword_words: set[str] = set()
    for keyword in keyword_list(page.keywords):
        phrase = words(keyword)
        if not phrase:
            continue
        if len(phrase) > 1 and f" {' '.join(phrase)} " in joined:
            total += PHRASE_WEIGHT * len(phrase)
            matched.append(keyword)
        keyword_words.update(phrase)
    shared = keyword_words & token_set
    total += KEYWORD_WORD_WEIGHT * len(shared)
    title_shared = (set(words(page.title)) - keyword_words) & token_set
    total += TITLE_WORD_WEIGHT * len(title_shared)
    matched.extend(sorted(shared | title_shared))
    return Ranked(page, total, tuple(dict.fromkeys(matched)))


def rank_targets(
    text: str, pages: Iterable[RankablePage], *, limit: int | None = None
) -> Sequence[Ranked]:
    """Target pages best first: by score, then by priority (1 is highest)."""
    scored = (score(text, page) for page in pages)
    ranked = sorted(scored, key=lambda r: (-r.score, r.page.priority))
    return ranked[:limit] if limit is not None else ranked


ANCHOR_WEIGHT = 2.0


def rank_for_link(
    anchor_text: str, context: str, pages: Iterable[RankablePage]
) -> Sequence[Ranked]:
    """Target pages best first for one dead link."""
    ranked = []
    for page in pages:
        by_anchor = score(anchor_text, page)
        by_context = score(context, page)
        total = ANCHOR_WEIGHT * by_anchor.score + by_context.score
        matched = tuple(dict.fromkeys(by_anchor.matched + by_context.matched))
        ranked.append(Ranked(page, total, matched))
    return sorted(ranked, key=lambda r: (-r.score, r.page.priority))
