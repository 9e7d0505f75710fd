"""The quality score of a backlink or a prospect (0-100): a weighted average of
five parts, each a number from 0 to 1.

* ``dr``: the domain rating, 0-100 as the SEO tool gave it, divided by 100;
* ``relevance``: topical relevance of the page, 0-100, divided by 100;
* ``follow``: 1 when the link passes value, 0 when it is nofollow, ugc or
  sponsored (by its rel or a page-level nofollow);
* ``placement``: 1 in the content of the page, 0 in its boilerplate
  (navigation, header, footer, sidebar, comments);
* ``new_domain``: 1 when the link is the first from its site (registrable
  domain) in the campaign, or, for a prospect, when no backlink of the
  campaign comes from its site yet.

A part we do not know (no rating imported, relevance not scored yet, a link not
found on its page yet, a prospect's follow and placement, which only exist once
it links) counts as neutral, one half, rather than having its weight handed to
the known parts: handed over, a pending link with nothing known but being a new
domain would score 100. Neutral keeps a score with little evidence near the
middle, and lets the score move both ways as evidence arrives. Each part says
whether it was known, so the page can show how much of the score is evidence.

Pure Python, no Django: settings.py validates the weights with it at startup,
and both apps score with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PARTS = ("dr", "relevance", "follow", "placement", "new_domain")
LABELS = {
    "dr": "Domain rating",
    "relevance": "Relevance",
    "follow": "Follow",
    "placement": "Placement",
    "new_domain": "New referring domain",
}
DEFAULT_WEIGHTS = "dr=30,relevance=30,follow=20,placement=10,new_domain=10"
NEUTRAL = 0.5


class WeightsError(ValueError):
    """QUALITY_WEIGHTS cannot be used; the message says why."""


def parse_weights(text: str) -> dict[str, int]:
    """``"dr=30,relevance=30,..."`` as a dict of every part's weight. Every part
    must be named once, each weight a whole number from 0 to 1000, and at least
    one above 0. Weights need not add up to 100: the score divides by their sum."""
    weights: dict[str, int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise WeightsError(f"“{item.strip()}” is not name=weight.")
        if name not in PARTS:
            raise WeightsError(f"Unknown part “{name}”; the parts are {', '.join(PARTS)}.")
        if name in weights:
            raise WeightsError(f"“{name}” is given twice.")
        try:
            weight = int(raw.strip())
        except ValueError:
            message = f"The weight of {name} must be a whole number, not “{raw}”."
            raise WeightsError(message) from None
        if not 0 <= weight <= 1000:
            raise WeightsError(f"The weight of {name} must be between 0 and 1000, not {weight}.")
        weights[name] = weight
    missing = [part for part in PARTS if part not in weights]
    if missing:
        raise WeightsError(
            f"Missing {', '.join(missing)}: give every part a weight (0 to leave it out)."
        )
    if not sum(weights.values()):
        raise WeightsError("At least one weight must be above 0.")
    return weights


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    weight: int
    # 0..1, or None when unknown (then counted as NEUTRAL).
    value: float | None
    # What this part adds to the score, of at most ``max_points`` (the
    # parts' max_points add up to 100).
    points: float
    max_points: float
    explanation: str

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Quality:
    score: int | None
    parts: tuple[Part, ...]

    @property
    def known_weight_percent(self) -> int:
        """How much of the weight rests on known parts (0-100)."""
        total = sum(p.weight for p in self.parts)
        known = sum(p.weight for p in self.parts if p.known)
        return round(100 * known / total) if total else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "known_weight_percent": self.known_weight_percent,
            "parts": [asdict(part) for part in self.parts],
        }

    def summary(self) -> str:
        """One line per part, for a title attribute."""
        return "\n".join(
            f"{p.label}: {p.points:g} of {p.max_points:g}. {p.explanation}" for p in self.parts
        )


@dataclass(frozen=True)
class Inputs:
    """What is known of one link or prospect; None where unknown."""

    domain_rating: int | None = None
    domain_rating_source: str = ""
    relevance: int | None = None
    # True: passes value; False: does not; None: not seen on its page.
    follows: bool | None = None
    # The rel tokens or page-level reason when it does not follow.
    follow_reason: str = ""
    # "content", a boilerplate placement, "" when unknown.
    placement: str = ""
    new_domain: bool | None = None
    # Said instead of "unknown" when a part cannot exist yet (a prospect's follow).
    not_yet: str = ""


def _clamp(value: int) -> float:
    return min(max(value, 0), 100) / 100


def _parts(inputs: Inputs) -> list[tuple[str, float | None, str]]:
    unknown = f"Unknown ({inputs.not_yet}): counted as neutral." if inputs.not_yet else ""
    if inputs.domain_rating is None:
        dr = (None, "No domain rating imported: counted as neutral.")
    else:
        source = f" ({inputs.domain_rating_source})" if inputs.domain_rating_source else ""
        dr = (_clamp(inputs.domain_rating), f"DR {inputs.domain_rating}{source}.")
    if inputs.relevance is None:
        relevance = (None, "Not scored yet: counted as neutral.")
    else:
        relevance = (_clamp(inputs.relevance), f"Relevance {inputs.relevance} of 100.")
    if inputs.follows is None:
        follow = (None, unknown or "Not found on its page yet: counted as neutral.")
    elif inputs.follows:
        follow = (1.0, "Passes value (follow).")
    else:
        reason = f" ({inputs.follow_reason})" if inputs.follow_reason else ""
        follow = (0.0, f"Passes no value{reason}.")
    if not inputs.placement:
        placement = (None, unknown or "Placement not known yet: counted as neutral.")
    elif inputs.placement == "content":
        placement = (1.0, "In the content of the page.")
    else:
        placement = (0.0, f"In the {inputs.placement}, not the content.")
    if inputs.new_domain is None:
        new = (None, "Not known: counted as neutral.")
    elif inputs.new_domain:
        new = (1.0, "A new referring domain for this campaign.")
    else:
        new = (0.0, "The campaign already has a link from this site.")
    return [
        ("dr", *dr),
        ("relevance", *relevance),
        ("follow", *follow),
        ("placement", *placement),
        ("new_domain", *new),
    ]


def score(inputs: Inputs, weights: dict[str, int]) -> Quality:
    """The score and its parts: ``round(100 * Σ weight·value / Σ weight)``, an
    unknown value counting as NEUTRAL."""
    total = sum(weights[key] for key in PARTS)
    parts = []
    points_sum = 0.0
    for key, value, explanation in _parts(inputs):
        weight = weights[key]
        counted = NEUTRAL if value is None else value
        most = 100 * weight / total if total else 0.0
        points = most * counted
        points_sum += points
        parts.append(
            Part(key, LABELS[key], weight, value, round(points, 1), round(most, 1), explanation)
        )
    return Quality(round(points_sum) if total else None, tuple(parts))
