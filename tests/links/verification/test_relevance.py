from __future__ import annotations

import time

import pytest

from links.verification.parse import parse_html
from links.verification.relevance import (
    MAX_TEXT_CHARS,
    Reference,
    Terms,
    main_text,
    page_terms,
    relevance_of,
    score,
    stem,
    terms_of,
)
from tests.links.verification.relevance_pages import (
    KEYWORDS,
    TOPICS,
    source_page,
    target_page,
)


def reference(topic: str, *, keywords: bool = False) -> Reference:
    terms = page_terms(parse_html(target_page(topic).encode()))
    assert terms is not None
    built = Reference.build([terms], KEYWORDS[topic] if keywords else [])
    assert built is not None
    return built


def scored(source_topic: str, ref: Reference) -> int:
    result = relevance_of(parse_html(source_page(source_topic).encode()), ref)
    assert result is not None
    return result.score


@pytest.mark.parametrize("keywords", [False, True], ids=["text only", "with keywords"])
@pytest.mark.parametrize("topic", TOPICS)
def test_on_topic_page_scores_above_every_off_topic_page(topic: str, keywords: bool) -> None:
    ref = reference(topic, keywords=keywords)
    on_topic = scored(topic, ref)
    for other in TOPICS:
        if other != topic:
            off_topic = scored(other, ref)
            # A clear margin, not a tie broken by noise.
            assert on_topic >= off_topic + 40, (topic, other, on_topic, off_topic)
    assert on_topic >= 60


def test_the_score_is_explained_by_the_shared_terms_strongest_first() -> None:
    result = relevance_of(parse_html(source_page("bread").encode()), reference("bread"))
    assert result is not None
    assert {"sourdough", "starter", "bread"} <= set(result.terms[:5])
    # Terms of the boilerplate (the menu names every topic) never explain a score.
    assert not {"hiking", "funds", "aquarium", "cookies"} & set(result.terms)


def test_boilerplate_and_cookie_banner_are_not_main_text() -> None:
    page = parse_html(source_page("hiking").encode())
    text = main_text(page.root, page.title)
    assert "A first overnight hike needs less gear" in text
    for boilerplate in (
        "We use cookies",  # cookie banner
        "Sourdough bread recipes",  # navigation in the header
        "Ultralight backpack",  # sidebar widget
        "About us: we write",  # footer
    ):
        assert boilerplate not in text


def test_a_page_without_named_content_is_read_without_its_regions() -> None:
    html = (
        "<html><body><nav>Menu of gardening tools</nav><div class='intro'>"
        + "Compost heaps turn kitchen scraps into soil. " * 20
        + "</div><div class='sidebar'>Poker tips</div><footer>Casino</footer></body></html>"
    )
    page = parse_html(html.encode())
    text = main_text(page.root, page.title)
    assert "Compost heaps" in text
    for boilerplate in ("gardening tools", "Poker", "Casino"):
        assert boilerplate not in text


def test_named_content_inside_a_sidebar_named_layout_wrapper_is_read() -> None:
    # Themes name the content column's wrapper after the sidebar beside it
    # ("container penci_sidebar"): the named post body inside still counts.
    body = "Tomatoes need full sun and deep watering. " * 20
    html = (
        "<html><body><div class='container penci_sidebar'>"
        f"<div class='entry-content'>{body}</div></div>"
        "<aside class='widget'>Crypto casino bonus</aside></body></html>"
    )
    page = parse_html(html.encode())
    text = main_text(page.root, page.title)
    assert "Tomatoes need full sun" in text
    assert "Crypto" not in text


def test_stemming_meets_plural_and_verb_forms() -> None:
    assert stem("baking") == stem("bakes") == stem("baked") == stem("bake")
    assert stem("stories") == stem("story")
    assert stem("glass") == "glass"


def test_stopwords_and_short_words_are_not_terms() -> None:
    terms = terms_of("The and of to it is a an ox. Read more, share this post. Kayak kayaks!")
    assert terms.counts == {"kayak": 2}
    assert terms.words == {"kayak": "kayak"}


def test_keywords_alone_make_a_reference() -> None:
    ref = Reference.build([], ["freshwater aquarium"])
    assert ref is not None
    on = score(terms_of("Freshwater aquarium fish and an aquarium filter."), ref)
    off = score(terms_of("Stock market index funds."), ref)
    assert on.score > off.score == 0
    assert Reference.build([], []) is None


def test_no_text_scores_zero() -> None:
    assert score(Terms(), reference("bread")).score == 0


def test_terms_round_trip_through_json() -> None:
    terms = terms_of("Kayaking trips: kayaks, paddles and a paddle leash.")
    assert Terms.from_json(terms.to_json()) == terms


def test_a_page_read_without_a_tree_is_not_scored() -> None:
    # Too deep for libxml2: the streaming fallback keeps no tree.
    html = "<div>" * 3000 + "Bread and sourdough." + "</div>" * 3000
    page = parse_html(html.encode())
    assert page.streamed
    assert relevance_of(page, reference("bread")) is None


def test_hostile_text_costs_linear_time() -> None:
    # A page of one endless "word", of endless short words and of nested divs,
    # each at the cap: tokenizing and walking stay far below a second.
    huge_word = "<p>" + "a" * (4 * MAX_TEXT_CHARS) + "</p>"
    many_words = "<p>" + "ab " * MAX_TEXT_CHARS + "</p>"
    nested = "<div class='x'>" * 2000 + "word " * 1000 + "</div>" * 2000
    for html in (huge_word, many_words, nested):
        page = parse_html(f"<html><body>{html}</body></html>".encode())
        started = time.process_time()
        relevance_of(page, reference("bread"))
        assert time.process_time() - started < 0.5
