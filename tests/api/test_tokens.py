"""Personal API tokens: stored hashed, shown once, Bearer authentication,
revocation and expiry, the account page, the command, the per-token throttle."""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from api.models import ApiToken
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"


def test_a_token_is_stored_as_a_hash_only(member):
    token, text = tokens.issue_token(member, name="script")
    assert text.startswith(f"anc_{token.prefix}_")
    assert len(text) > 50
    row = ApiToken.objects.get(pk=token.pk)
    assert row.secret_hash == hashlib.sha256(text.encode()).hexdigest()
    assert text not in {
        str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()
    }


def test_bearer_token_opens_the_api_and_records_its_last_use(member, campaign):
    client = bearer(member)
    token = member.api_tokens.get()
    assert token.last_used_at is None
    response = client.get(CAMPAIGNS)
    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["ours"]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer anc_000000000000_nope",
        "Bearer not-a-token",
        "Bearer a b",
        "Bearer",
    ],
)
def test_a_wrong_token_is_401_with_the_bearer_challenge(member, header):
    tokens.issue_token(member, name="real")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(CAMPAIGNS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail", "errors"}


def test_a_token_with_the_right_prefix_and_a_wrong_secret_is_refused(member):
    _, text = tokens.issue_token(member, name="real")
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get(CAMPAIGNS).status_code == 401


def test_revoked_and_expired_tokens_are_refused(api_revoked, api_expired):
    for client in (api_revoked, api_expired):
        response = client.get(CAMPAIGNS)
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"] or "expired" in response.json()["detail"]


def test_an_inactive_user_s_token_is_refused(member):
    client = bearer(member)
    member.is_active = False
    member.save()
    assert client.get(CAMPAIGNS).status_code == 401


def test_the_command_prints_a_working_token(member, campaign):
    out = StringIO()
    call_command("create_api_token", "member", "--name", "cron", "--expires-days", "30", stdout=out)
    text = out.getvalue().strip()
    token = member.api_tokens.get()
    assert token.name == "cron"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    assert client.get(CAMPAIGNS).status_code == 200


def test_the_command_refuses_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", "--name", "x")


def test_the_account_page_creates_a_token_shown_once_and_revokes_it(client, member, campaign):
    client.force_login(member)
    page = reverse("api_tokens:list")
    response = client.post(page, {"name": "report", "expires_in_days": "7"})
    assert response.status_code == 200
    token = member.api_tokens.get()
    shown = response.context["shown_once"]
    assert shown.startswith(f"anc_{token.prefix}_")
    assert shown in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    # Never again: the list shows only the prefix.
    again = client.get(page)
    assert shown not in again.content.decode()
    assert token.prefix in again.content.decode()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {shown}")
    assert api.get(CAMPAIGNS).status_code == 200
    assert client.post(reverse("api_tokens:revoke", args=[token.pk])).status_code == 302
    assert api.get(CAMPAIGNS).status_code == 401


def test_nobody_revokes_another_user_s_token(client, member, manager):
    token, _ = tokens.issue_token(manager, name="theirs")
    client.force_login(member)
    client.post(reverse("api_tokens:revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "theirs" not in client.get(reverse("api_tokens:list")).content.decode()


def test_the_token_page_needs_sign_in(client, db):
    response = client.get(reverse("api_tokens:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_session_calls_keep_csrf_on_writes(manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get(CAMPAIGNS).status_code == 200
    response = client.post(
        CAMPAIGNS, {"name": "X", "slug": "x", "site": "x.example"}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_throttle_counts_per_token_in_redis(member, campaign, settings):
    settings.API_THROTTLE_RATE = "3/min"
    first, second = bearer(member), bearer(member)
    assert [first.get(CAMPAIGNS).status_code for _ in range(3)] == [200] * 3
    refused = first.get(CAMPAIGNS)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert set(refused.json()) == {"detail", "errors"}
    # Another token of the same user has its own budget.
    assert second.get(CAMPAIGNS).status_code == 200
    # The count lives in Redis, shared by every web process.
    import redis

    keys = list(
        redis.Redis.from_url(settings.REDIS_URL).scan_iter("anchorage:api*throttle_api_token*")
    )
    assert len(keys) == 2


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_the_throttle_fails_open_with_a_warning_when_its_redis_is_unreachable(
    member, campaign, settings, closed_port, caplog
):
    settings.API_THROTTLE_RATE = "1/min"
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "KEY_PREFIX": "anchorage:api",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    client = bearer(member)
    with caplog.at_level(logging.WARNING, logger="api.throttling"):
        codes = [client.get(CAMPAIGNS).status_code for _ in range(3)]
    # Served, uncounted (a budget of 1/min would refuse the second call), and said so.
    assert codes == [200, 200, 200]
    warnings = [r for r in caplog.records if "throttle not applied" in r.getMessage()]
    assert len(warnings) == 3
    assert "Connection refused" in warnings[0].getMessage()
