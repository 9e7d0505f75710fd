"""One request budget per token (or per signed-in user for session calls).

The counts live in Redis. When Redis cannot be reached the throttle fails open:
the request is served uncounted and a warning is logged. The budget protects
the server from a runaway script; refusing every call (or answering 500, which
is what an unhandled cache error did) while Redis is down would turn a cache
outage into an API outage. The cache's socket timeouts (2 s) bound what an
unreachable Redis adds to a request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

log = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self) -> None:
        # The cache that all web processes share (Redis when there is one), so
        # the budget is per token, not per token and process.
        self.cache: BaseCache = caches["api_throttle"]
        super().__init__()

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            log.warning("API throttle not applied: its cache is unreachable (%s)", exc)
            return True

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATE or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"token:{request.auth.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user:{request.user.pk}"}
        return None  # anonymous calls are refused (401) before they cost anything
