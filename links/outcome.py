"""The contract between the verifier and the database: what one check found.

The verifier (``links.verification``, no Django) produces a result; ``from_result``
turns it into a CheckOutcome, which ``services.record_check`` stores and judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GONE_STATUSES = {404, 410}


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
    duration_ms: int = 0
    bytes_read: int = 0

    @property
    def gone(self) -> bool:
        """The page itself is gone (404/410): evidence of a loss, unlike other errors."""
        return self.verdict == "error" and self.http_status in GONE_STATUSES

    @property
    def found(self) -> bool:
        return self.verdict in {"live", "nofollow"}
