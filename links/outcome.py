"""The contract between the verifier and the database: what one check found.

The verifier (``links.verification``, no Django) produces a VerificationResult;
``CheckOutcome.from_result`` turns it into the values that
``services.record_check`` stores and judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from links.verification.verdict import VerificationResult


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

    @property
    def found(self) -> bool:
        return self.verdict in {"live", "nofollow"}

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
        )
