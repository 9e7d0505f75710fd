"""The contract between the verifier and the database: what one check found.

The verifier (``links.verification``, no Django) produces a VerificationResult;
``CheckOutcome.from_result`` turns it into the values that
``services.record_check`` stores and ``Backlink.apply`` judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from links.verification.verdict import VerificationResult


# rel tokens that make a link pass no value (as links.verification.parse.NOT_PASSING),
# in the order a link's type is named by: the most specific reason first.
LINK_TYPE_TOKENS = ("sponsored", "ugc", "nofollow")


def primary_anchor(anchors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The anchor that stands for the link when a page has several to the target.

    The one the verdict stands on first (an anchor that passes value), then one
    in the content (a link in an article and again in a sitewide footer is an
    editorial link), then page order. Anchors recorded before placement was
    read have no "placement" and rank as not in the content.
    """
    if not anchors:
        return None
    # min() keeps the first of equals: page order breaks ties.
    return min(
        anchors,
        key=lambda anchor: (
            not anchor.get("dofollow"),
            anchor.get("placement") != "content",
        ),
    )


def rel_type_tokens(rel: str | list[str] | None) -> str:
    """The tokens of ``rel`` among nofollow, ugc and sponsored, space-separated, in
    the order they appear (a rel is stored as a string; very old rows as a list)."""
    tokens = rel.split() if isinstance(rel, str) else list(rel or ())
    kept = dict.fromkeys(t.lower() for t in tokens if t.lower() in LINK_TYPE_TOKENS)
    return " ".join(kept)


@dataclass(frozen=True)
class CheckOutcome:
    verdict: str  # live / nofollow / missing / error
    http_status: int | None = None
    final_url: str = ""
    anchors: list[dict[str, Any]] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)
    differences: list[dict[str, Any]] = field(default_factory=list)
    snippet: str = ""
    page_hash: str = ""
    error: str = ""
    error_kind: str = ""
    # The page itself is gone (404/410): evidence of a loss, unlike other errors.
    gone: bool = False
    duration_ms: int = 0
    bytes_read: int = 0
    # Topical relevance (0-100) and its terms; None when this check did not score.
    relevance: int | None = None
    relevance_terms: list[str] = field(default_factory=list)
    # Judged on the page as Chromium rendered it, and how long that took.
    rendered: bool = False
    render_ms: int = 0
    # Why a page where no link was found looks script-built ("" when it does
    # not): such a check is re-run rendered (links.services.check_claimed).
    script_built: str = ""

    @property
    def found(self) -> bool:
        return self.verdict in {"live", "nofollow"}

    @property
    def primary_anchor(self) -> dict[str, Any] | None:
        return primary_anchor(self.anchors)

    @classmethod
    def from_result(cls, result: VerificationResult) -> CheckOutcome:
        return cls(
            verdict=str(result.verdict),
            http_status=result.http_status,
            final_url=result.final_url or "",
            anchors=[anchor.to_json() for anchor in result.anchors],
            flags=result.flags.to_json(),
            differences=[difference.to_json() for difference in result.differences],
            snippet=result.snippet,
            page_hash=result.page_hash,
            error=result.error or "",
            error_kind=str(result.error_kind or ""),
            gone=result.gone,
            duration_ms=result.elapsed_ms,
            bytes_read=result.bytes_read,
            relevance=result.relevance,
            relevance_terms=list(result.relevance_terms),
            rendered=result.rendered,
            render_ms=result.render_ms,
            script_built=result.script_built or "",
        )


@dataclass(frozen=True)
class Sighting:
    """What the last check that found the link saw."""

    anchor_text: str
    wrong_target: bool
    # Where the link was ("" when that check did not record it).
    placement: str = ""
