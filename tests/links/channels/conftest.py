from __future__ import annotations

from tests.support.receiver import receiver  # noqa: F401  (fixture)
