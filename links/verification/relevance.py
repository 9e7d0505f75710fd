"""Topical relevance: how close a page's main text is to one of our target pages.

A score from 0 to 100, explained by the terms the two texts share. It is read
from the tree the verifier already parsed (``ParsedPage.root``), so a check pays
for a walk over the tree and a tokenizer pass, not for another parse.

Main text. Text in the page's boilerplate says nothing about its topic: a
sitewide menu, footer or cookie banner is the same on every page of a site, and
a sidebar lists other posts. Where the page names its content (``main``,
``role=main``, ``itemprop=articleBody``, a theme's ``entry-content`` or
``article-body``) only that is read; otherwise the whole body. Either way the
regions that links.verification.placement calls navigation, header, footer,
sidebar or comments are skipped, with the same rules, and so are consent
banners, forms' controls and hidden elements. The page's title is added: it is
the author's one-line summary of the topic.

Scoring. Words are lower-cased, English stopwords and words every web page has
("share", "comment", "read") dropped, and reduced by a light suffix stemmer
(plurals, -ing, -ed, -ly, a final -e), so "baking", "bakes" and "baked" meet.
Each text becomes a vector of its ``MAX_TERMS`` most frequent stems weighted by
1 + log(count); without a corpus to learn document frequencies from, the
sublinear weight and the stop lists keep common words from deciding. The
campaign's keywords join the target's vector at the weight of its strongest
term. The score is the cosine of the two vectors, scaled so that a page about
the same subject as the target reaches the top of the scale (``FULL_COSINE``),
blended with the share of the keywords the page uses.

Cost is linear and bounded: at most ``MAX_ELEMENTS`` elements are walked and
``MAX_TEXT_CHARS`` characters tokenized, by one regular expression with no
backtracking (a run of letters).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from lxml import etree

from links.verification.fetch import Fetcher
from links.verification.parse import parse_html
from links.verification.placement import region_of

# A long article is 5,000-10,000 words (~60 KB of text); the topic of a page is
# clear well within its first 200 KB of main text.
MAX_TEXT_CHARS: Final = 200 * 1024
# Real pages have a few thousand elements; a hostile one is cut here.
MAX_ELEMENTS: Final = 30_000
# The terms kept per text: enough for a long article's vocabulary of topic words,
# few enough that a stored target stays small.
MAX_TERMS: Final = 300
# Terms shown to explain a score.
MAX_SHARED_TERMS: Final = 10
# A cosine at which two texts are plainly about the same subject (measured on
# the test pages, tests/links/verification/relevance_pages.py: pages on the
# target's topic reach 0.53-0.69, pages on other topics stay at 0.11 or under).
FULL_COSINE: Final = 0.45
# The share of the score that comes from the keywords, when there are any.
KEYWORD_SHARE: Final = 0.3
# Words longer than this are not words (hashes, base64, minified identifiers).
MAX_WORD_LENGTH: Final = 30

# Elements whose text is not prose: controls, embedded media, hidden templates.
_SKIP_TAGS: Final = frozenset(
    {
        "head",
        "script",
        "style",
        "template",
        "noscript",
        "form",
        "button",
        "select",
        "option",
        "textarea",
        "label",
        "svg",
        "iframe",
        "object",
        "canvas",
        "dialog",
    }
)
# Words of class/id names of consent and cookie banners (OneTrust, Cookiebot,
# CookieYes, Complianz, GDPR plugins of WordPress) and of newsletter pop-ups.
_BANNER_WORDS: Final = ("cookie", "consent", "gdpr", "onetrust", "cookiebot", "cmplz", "newsletter")
_BANNER_SCAN_CHARS: Final = 256

# English stopwords (the usual function words), then words that every page of
# the web uses whatever its topic.
_STOPWORD_LIST: Final = """
    a about above after again against all almost also although always am among an and
    another any anyone anything are around as at be became because become been before
    being below between both but by can cannot could did do does doing done down during
    each either else enough even ever every few for from further get gets getting got
    had has have having he her here hers herself him himself his how however i if in
    into is it its itself just least less let like likely made make makes many may me
    might more most much must my myself neither never no nor not now of off often on
    once one only or other others our ours ourselves out over own per perhaps quite
    rather really same several shall she should since so some something still such
    than that the their theirs them themselves then there these they this those though
    through thus to too toward towards under until up upon us use used uses using very
    via was we well were what whatever when where whether which while who whom whose
    why will with within without would yet you your yours yourself yourselves
    able across actually already back best better come comes day days did first go
    going good great know last long look lot lots make need new next old part people
    put right say says see seen set take thing things think time times two way ways
    want year years s t re ve ll d m don doesn didn isn aren wasn weren won wouldn
    shouldn couldn
    click share shares comment comments reply replies read reading post posts posted
    page pages home menu search login log sign subscribe email follow privacy policy
    terms cookie cookies contact copyright rights reserved skip content navigation
    previous next related tags tag category categories archive archives author admin
    facebook twitter instagram linkedin pinterest youtube whatsapp reddit tiktok
    january february march april may june july august september october november
    december monday tuesday wednesday thursday friday saturday sunday min mins ago
"""
_STOPWORDS: Final = frozenset(_STOPWORD_LIST.split())

# (suffix, replacement) tried in order; the stem keeps at least three letters.
_SUFFIXES: Final = (
    ("ies", "y"),
    ("sses", "ss"),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("ed", ""),
    ("ly", ""),
    ("es", "e"),
    ("s", ""),
)
_KEEP_S: Final = ("ss", "us", "is")

# Stems of words seen before, across pages: a language has far fewer words than a
# worker reads. Bounded, so that a page of invented words cannot grow it.
_STEMS: dict[str, str] = {}
_STEMS_MAX: Final = 50_000


def stem(word: str) -> str:
    """A light suffix stemmer: the same stem for a word's plural and verb forms."""
    known = _STEMS.get(word)
    if known is not None:
        return known
    result = word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(_KEEP_S):
                break
            result = word[: -len(suffix)] + replacement
            break
    if result.endswith("e") and len(result) > 3:
        result = result[:-1]
    if len(_STEMS) >= _STEMS_MAX:
        _STEMS.clear()
    _STEMS[word] = result
    return result


@dataclass(slots=True)
class Terms:
    """A text's stems with their counts (the ``MAX_TERMS`` most frequent), and the
    word a reader would recognise for each stem (its first form in the text)."""

    counts: dict[str, int] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "words": self.words}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Terms:
        data = data or {}
        counts = {str(k): int(v) for k, v in dict(data.get("counts") or {}).items()}
        words = {str(k): str(v) for k, v in dict(data.get("words") or {}).items()}
        return cls(counts, words)

    def __bool__(self) -> bool:
        return bool(self.counts)


# Words of at least three letters: shorter ones are never terms, and a run of
# letters is matched whole or not at all (no backtracking into it).
_TERM_WORD = re.compile(r"[^\W\d_]{3,}")
# What each word is as a term: its stem, or "" when it is not a term (too long,
# a stopword). One look-up per distinct word of a page instead of the checks
# and the stemmer's. Bounded like the stem cache.
_TERM_OF: dict[str, str] = {}


def _term(word: str) -> str:
    root = "" if len(word) > MAX_WORD_LENGTH or word in _STOPWORDS else stem(word)
    if root in _STOPWORDS:
        root = ""
    if len(_TERM_OF) >= _STEMS_MAX:
        _TERM_OF.clear()
    _TERM_OF[word] = root
    return root


def terms_of(text: str) -> Terms:
    """The terms of a text (cut at ``MAX_TEXT_CHARS``)."""
    # Words are counted first and each distinct word is then looked up once: a
    # page repeats its few hundred words thousands of times.
    counts: Counter[str] = Counter()
    words: dict[str, str] = {}
    term_of = _TERM_OF.get
    for word, count in Counter(_TERM_WORD.findall(text[:MAX_TEXT_CHARS].lower())).items():
        root = term_of(word)
        if root is None:
            root = _term(word)
        if not root:
            continue
        if root in counts:
            counts[root] += count
        else:
            counts[root] = count
            words[root] = word
    kept = dict(counts.most_common(MAX_TERMS))
    return Terms(kept, {root: words[root] for root in kept})


# Whether a class, id or label names a banner, remembered as placement does.
_BANNERS: dict[str, bool] = {}
_BANNERS_MAX: Final = 20_000


def _is_banner(*values: str | None) -> bool:
    for value in values:
        if not value:
            continue
        known = _BANNERS.get(value)
        if known is None:
            if len(_BANNERS) >= _BANNERS_MAX:
                _BANNERS.clear()
            head = value[:_BANNER_SCAN_CHARS].lower()
            known = _BANNERS[value] = any(word in head for word in _BANNER_WORDS)
        if known:
            return True
    return False


# Pages that name their content but put little in it (a "main" around the
# title only) are read whole: below this many characters the named part is
# not the article.
MIN_NAMED_TEXT: Final = 500


# Elements that mean something to placement without any attribute (its
# sectioning and landmark tags).
_REGION_TAGS: Final = frozenset({"main", "article", "nav", "aside", "header", "footer", "section"})
# What an element with attributes means to the walk, by its tag, whether it is
# inside a section, and its class, id, role, itemprop and aria-label.
_DECISIONS: dict[tuple[Any, ...], tuple[str | None, bool, bool, bool, bool]] = {}
_DECISIONS_MAX: Final = 20_000
# Where pages name their main content in attributes libxml2 can match exactly.
_NAMED_CONTENT: Final = etree.XPath("//main | //*[@role='main'] | //*[@itemprop='articleBody']")
_Buckets = tuple[list[str], list[str], list[str]]
# The attributes that decide what an element is to the walk.
_WALK_ATTRIBUTES: Final = frozenset(
    {"class", "id", "role", "itemprop", "aria-label", "hidden", "aria-hidden"}
)
_NAMED_WITHIN: Final = etree.XPath(
    "descendant-or-self::*[self::main or @role='main' or @itemprop='articleBody']"
)
# What a walk does with an element's own text.
_OUTSIDE, _CONTENT, _DISCARD = 0, 1, 2


def main_text(root: Any, title: str | None = None) -> str:
    """The text of a parsed page (an lxml root) without its boilerplate."""
    if root is None:
        return title or ""
    body = root.find("body")
    start = root if body is None else body
    buckets: _Buckets | None = None
    if next(root.iter("main"), None) is None:
        # No main element (lxml looks at C speed): the body is walked, and the
        # walk stops at the first role=main or articleBody. Most pages have
        # neither, so one pass replaces libxml2's search for them, which costs
        # as much as the walk.
        buckets, named = _walk([start], _OUTSIDE, stop_at_named=True)
        if not named and _named_outside(root, body):
            named = [start]
    else:
        named = [start]
    text = ""
    if named:
        # Where the page names its content, only that is read: a fifth of the
        # page, typically, not the menus and footers around it.
        found = _NAMED_CONTENT(root)
        chosen = set(found)
        starts = [e for e in found if not any(a in chosen for a in e.iterancestors())]
        text = " ".join(_walk(starts, _CONTENT)[0][_CONTENT])
        if len(text) < MIN_NAMED_TEXT and named[0] is not start:
            # The walk stopped at the named content: the rest of the body is
            # still to be read.
            buckets = None
    if len(text) < MIN_NAMED_TEXT:
        if buckets is None:
            buckets = _walk([start], _OUTSIDE)[0]
        text = " ".join(buckets[_CONTENT])
        if len(text) < MIN_NAMED_TEXT:
            text = " ".join(buckets[_OUTSIDE]) + " " + text
    return f"{title} {text}" if title else text


def _named_outside(root: Any, body: Any) -> bool:
    """Whether named content may be beside the body, where the walk does not go."""
    if body is None:
        return False
    for child in root:
        if child is body:
            continue
        if child.tag != "head" or _NAMED_WITHIN(child):
            return True
    return False


def _is_named(element: Any) -> bool:
    """Whether ``element`` is where the page names its main content (as _NAMED_CONTENT)."""
    return bool(
        element.tag == "main"
        or element.get("role") == "main"
        or element.get("itemprop") == "articleBody"
    )


def _walk(
    starts: list[Any], start_mode: int, *, stop_at_named: bool = False
) -> tuple[_Buckets, list[Any]]:
    """The text under ``starts``, by what it is (outside boilerplate, in named
    content, in boilerplate), and the named content found (with
    ``stop_at_named``, the walk ends at the first; a walk stopped at a cap
    reports [the start] so that the caller searches the whole page)."""
    buckets: _Buckets = ([], [], [])
    size = 0
    visited = 0
    # Each element's state (inside a sectioning element, what its text is), or
    # None inside a skipped element; read by its children. lxml's own iteration
    # visits the elements in document order at C speed, where a Python stack
    # paid for a child list per element. Boilerplate is walked, its text
    # discarded, because a page's named content ends every region around it,
    # as for placement_of: themes wrap the content column in a "container
    # has_sidebar" and broken markup leaves it inside a header.
    states: dict[Any, tuple[bool, int] | None] = {}
    for start in starts:
        state = (start_mode == _CONTENT, start_mode)
        states[start] = state
        visited += 1
        text = start.text
        if text:
            buckets[start_mode].append(text)
            size += len(text)
        for element in start.iterdescendants():
            if size >= MAX_TEXT_CHARS or visited >= MAX_ELEMENTS:
                return buckets, starts[:1] if stop_at_named else []
            # Every element counts, skipped ones too: lxml's iteration goes
            # into skipped subtrees, which a hostile page can make huge.
            visited += 1
            parent = states[element.getparent()]
            tag = element.tag
            if parent is None:
                # Inside a skipped element: only named content is looked for.
                states[element] = None
                if stop_at_named and isinstance(tag, str) and _is_named(element):
                    return buckets, [element]
                continue
            in_section, mode = parent
            if mode != _DISCARD:
                # A skipped element's tail is its parent's text. Boilerplate's
                # text is not read at all: it is never used.
                tail = element.tail
                if tail:
                    buckets[mode].append(tail)
                    size += len(tail)
            if not isinstance(tag, str):
                continue  # a comment or processing instruction: no children
            if tag in _SKIP_TAGS:
                states[element] = None
                if stop_at_named and tag == "main":
                    return buckets, [element]
                continue
            # Attribute names first: lxml builds them without decoding the
            # values (hrefs, srcsets, inline styles), and only the few values
            # the decision needs are read then.
            names = element.keys()
            if names and not _WALK_ATTRIBUTES.isdisjoint(names):
                get = element.get
                if "hidden" in names or ("aria-hidden" in names and get("aria-hidden") == "true"):
                    states[element] = None
                    if stop_at_named and _is_named(element):
                        return buckets, [element]
                    continue
                # A theme repeats a few hundred tag and name combinations on
                # every page: what each says is remembered (a header or footer
                # tag's meaning depends on in_section, which is part of the key).
                key = (
                    tag,
                    in_section,
                    get("class") if "class" in names else None,
                    get("id") if "id" in names else None,
                    get("role") if "role" in names else None,
                    get("itemprop") if "itemprop" in names else None,
                    get("aria-label") if "aria-label" in names else None,
                )
            elif tag not in _REGION_TAGS:
                # Most elements: a bare <p>, <li> or <span>, or a link or an
                # image with none of the attributes above, says nothing.
                key = None
            else:
                key = (tag, in_section, None, None, None, None, None)
            if key is None:
                state = parent
            else:
                known = _DECISIONS.get(key)
                if known is None:
                    if len(_DECISIONS) >= _DECISIONS_MAX:
                        _DECISIONS.clear()
                    is_named = tag == "main" or key[4] == "main" or key[5] == "articleBody"
                    if _is_banner(key[3], key[2], key[6]):
                        known = _DECISIONS[key] = (None, False, False, True, is_named)
                    else:
                        region, sectioning, content = region_of(element, in_section=in_section)
                        known = _DECISIONS[key] = (region, sectioning, content, False, is_named)
                region, sectioning, content, banner, is_named = known
                if is_named and stop_at_named:
                    return buckets, [element]
                if banner:
                    states[element] = None
                    continue
                if content:
                    child_mode = _CONTENT
                elif region is not None:
                    child_mode = _DISCARD
                else:
                    child_mode = mode
                state = (in_section or sectioning, child_mode)
            states[element] = state
            mode = state[1]
            if mode != _DISCARD:
                text = element.text
                if text:
                    buckets[mode].append(text)
                    size += len(text)
    return buckets, []


def page_terms(page: Any) -> Terms | None:
    """The terms of a ParsedPage's main text; None for a page read without a tree
    (too deeply nested, links.verification.parse's streaming fallback)."""
    root = getattr(page, "root", None)
    if root is None:
        return None
    return terms_of(main_text(root, getattr(page, "title", None)))


def keyword_stems(keywords: Iterable[str]) -> frozenset[str]:
    """The stems of keyword phrases ("gluten free bread" counts as its three words)."""
    stems: set[str] = set()
    for phrase in keywords:
        stems.update(terms_of(phrase).counts)
    return frozenset(stems)


def _weights(counts: Mapping[str, int]) -> dict[str, float]:
    return {term: 1.0 + math.log(count) for term, count in counts.items() if count > 0}


@dataclass(frozen=True, slots=True)
class Reference:
    """What a page is compared with: a target page's terms (or several targets'),
    plus the campaign's keywords. Build once, score many pages against it."""

    weights: dict[str, float]
    norm: float
    keywords: frozenset[str]
    words: dict[str, str]

    @classmethod
    def build(cls, targets: Sequence[Terms], keywords: Iterable[str] = ()) -> Reference | None:
        """None when there is nothing to compare with (no target text, no keyword)."""
        weights: dict[str, float] = {}
        words: dict[str, str] = {}
        texts = [terms for terms in targets if terms]
        for terms in texts:
            # Each target counts equally, however long its page.
            vector = _weights(terms.counts)
            length = math.sqrt(sum(w * w for w in vector.values())) or 1.0
            for term, weight in vector.items():
                weights[term] = weights.get(term, 0.0) + weight / length / len(texts)
            for term, word in terms.words.items():
                words.setdefault(term, word)
        stems = keyword_stems(keywords)
        top = max(weights.values(), default=1.0)
        for term in stems:
            weights[term] = max(weights.get(term, 0.0), top)
        for phrase in keywords:
            for term, word in terms_of(phrase).words.items():
                words.setdefault(term, word)
        if not weights:
            return None
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return cls(weights, norm, stems, words)


@dataclass(frozen=True, slots=True)
class Relevance:
    score: int  # 0-100
    terms: tuple[str, ...]  # the shared terms that weigh most, strongest first


def score(page: Terms, reference: Reference) -> Relevance:
    """How close ``page`` is to ``reference``, 0-100, with the shared terms."""
    vector = _weights(page.counts)
    norm = math.sqrt(sum(w * w for w in vector.values()))
    shared: list[tuple[float, str]] = []
    dot = 0.0
    ref = reference.weights
    for term, weight in vector.items():
        other = ref.get(term)
        if other is not None:
            product = weight * other
            dot += product
            shared.append((product, term))
    cosine = dot / (norm * reference.norm) if norm and reference.norm else 0.0
    closeness = min(1.0, cosine / FULL_COSINE)
    if reference.keywords:
        covered = sum(1 for term in reference.keywords if term in vector)
        closeness = (1 - KEYWORD_SHARE) * closeness + KEYWORD_SHARE * (
            covered / len(reference.keywords)
        )
    shared.sort(key=lambda item: (-item[0], item[1]))
    terms = tuple(
        page.words.get(term) or reference.words.get(term) or term
        for _product, term in shared[:MAX_SHARED_TERMS]
    )
    return Relevance(round(100 * closeness), terms)


def relevance_of(page: Any, reference: Reference) -> Relevance | None:
    """Score a ParsedPage; None when its main text could not be read."""
    terms = page_terms(page)
    if terms is None:
        return None
    return score(terms, reference)


# How much of a target page's main text is kept beside its terms (for reading
# what was compared, and for re-deriving terms without a fetch).
MAX_STORED_TEXT: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class TargetReading:
    """A target page read for comparison: its terms, or why it could not be read."""

    terms: Terms | None
    text: str = ""
    error: str = ""


def read_target(fetcher: Fetcher, url: str) -> TargetReading:
    """Fetch one of our target pages through the guarded fetcher and read its main text."""
    fetched = fetcher.fetch(url, html_only=True)
    if not fetched.ok:
        return TargetReading(None, error=fetched.error or str(fetched.error_kind))
    status = fetched.status or 0
    if not 200 <= status < 300:
        return TargetReading(None, error=f"the page answered {status}")
    page = parse_html(fetched.body, fetched.encoding or "utf-8")
    if page.root is None:
        return TargetReading(None, error="the page has no text we could read")
    text = main_text(page.root, page.title)
    terms = terms_of(text)
    if not terms:
        return TargetReading(None, error="the page has no words to compare with")
    return TargetReading(terms, " ".join(text.split())[:MAX_STORED_TEXT])
