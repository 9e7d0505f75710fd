from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from campaigns.models import User


def _clear_throttle_counts() -> None:
    # Only the API's keys: clear() on a Redis cache would flush the whole
    # database, the broker's queues with it.
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("anchorage:api*"):
        client.delete(key)


@pytest.fixture(autouse=True)
def _fresh_throttle(fresh_budgets) -> Iterator[None]:
    _clear_throttle_counts()
    yield
    _clear_throttle_counts()


def bearer(user: User, **kwargs) -> APIClient:
    """An API client that presents a fresh token of ``user``."""
    _, text = tokens.issue_token(user, name="test", **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return client


@pytest.fixture
def api_member(member) -> APIClient:
    return bearer(member)


@pytest.fixture
def api_manager(manager) -> APIClient:
    return bearer(manager)


@pytest.fixture
def api_admin(admin_user) -> APIClient:
    return bearer(admin_user)


@pytest.fixture
def api_anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def api_revoked(member) -> APIClient:
    client = bearer(member)
    member.api_tokens.update(revoked_at=timezone.now())
    return client


@pytest.fixture
def api_expired(member) -> APIClient:
    return bearer(member, expires_at=timezone.now() - timedelta(seconds=1))
