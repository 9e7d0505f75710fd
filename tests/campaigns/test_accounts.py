"""Signing in: the lockout after repeated failures (django-axes), its lifting by
an admin, and the password reset by email through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Role
from tests.factories import PASSWORD, UserFactory

ATTACKER = "10.9.8.7"
OWNER = "10.1.2.3"


def log_in(client, username: str, password: str, *, ip: str = OWNER, **meta: str):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **meta
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client, username: str, settings, *, ip: str = OWNER):
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = log_in(client, username, "wrong password", ip=ip)
        if attempt < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200, attempt
            assert "didn't match" in response.content.decode()
    assert response.status_code == 429
    return response


@pytest.fixture
def user(db):
    return UserFactory(username="sam", email="sam@team.example", role=Role.MEMBER)


def test_settings_default_to_five_failures_and_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_lockout_refuses_the_right_password_and_says_when_to_retry(client, user, settings):
    fail_until_locked(client, "sam", settings)
    response = log_in(client, "sam", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    last = AccessAttempt.objects.get(username="sam").attempt_time
    retry = timezone.localtime(last + settings.AXES_COOLOFF_TIME)
    assert f'Try again after <time datetime="{retry.isoformat()}">{retry:%H:%M}' in page
    assert "in about 15 minutes" in page
    assert f'href="{reverse("password_reset")}"' in page
    # Still refused: the wait does not restart, so the time shown holds.
    log_in(client, "sam", "another guess")
    assert AccessAttempt.objects.get(username="sam").attempt_time == last


def test_lockout_is_for_that_address_only(client, user, settings):
    fail_until_locked(client, "sam", settings, ip=ATTACKER)
    assert log_in(client, "sam", PASSWORD, ip=ATTACKER).status_code == 429
    response = log_in(client, "sam", PASSWORD, ip=OWNER)
    assert response.status_code == 302
    assert signed_in(client)


def test_cool_off_ends_and_the_right_password_works_again(client, user, settings):
    fail_until_locked(client, "sam", settings)
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert log_in(client, "sam", PASSWORD).status_code == 302
    assert signed_in(client)


def test_admin_unlocks_a_user_in_the_admin(client, user, settings):
    fail_until_locked(client, "sam", settings)
    attempt = AccessAttempt.objects.get(username="sam")
    admin = UserFactory(username="boss", role=Role.ADMIN)
    client.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = client.get(changelist)
    assert listing.status_code == 200
    assert "sam" in listing.content.decode()
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert log_in(client, "sam", PASSWORD).status_code == 302
    assert signed_in(client)


def test_admin_unlocks_a_user_from_the_command_line(client, user, settings):
    fail_until_locked(client, "sam", settings)
    call_command("axes_reset_username", "sam", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert log_in(client, "sam", PASSWORD).status_code == 302


def test_login_page_links_to_the_password_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("password_reset")}">Forgot password?</a>' in page


def test_password_reset_round_trip_through_smtp(client, user, settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = smtp_sink.user, smtp_sink.password
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    # Locked out first: the reset lifts the lockout too.
    fail_until_locked(client, "sam", settings)

    response = client.post(reverse("password_reset"), {"email": "sam@team.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    (received,) = smtp_sink.received_by("sam@team.example")
    message = received.message
    assert message["Subject"] == "Your Anchorage password"
    body = message.get_content()
    links = re.findall(r"^(https?://\S+)$", body, flags=re.MULTILINE)
    assert len(links) == 1, body
    # The link names the configured site, whatever Host the request carried.
    assert links[0].startswith(settings.SITE_URL + "/accounts/reset/")

    confirm = client.get(urlsplit(links[0]).path, follow=True)
    assert confirm.status_code == 200
    assert "Choose a new password" in confirm.content.decode()
    new_password = "harbour-lights-4711"
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    assert "Password set" in client.get(done["Location"]).content.decode()

    # The link works once.
    again = client.get(urlsplit(links[0]).path, follow=True)
    assert "This link no longer works" in again.content.decode()

    assert not AccessAttempt.objects.exists()
    assert log_in(client, "sam", PASSWORD).status_code == 200
    assert not signed_in(client)
    assert log_in(client, "sam", new_password).status_code == 302
    assert signed_in(client)


def test_password_reset_for_an_unknown_address_sends_nothing(client, db, settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    response = client.post(reverse("password_reset"), {"email": "who@nowhere.example"})
    # The same answer as for a known address: the form tells no one who has an account.
    assert response["Location"] == reverse("password_reset_done")
    assert smtp_sink.messages == []


PROXY = "172.16.0.2"


def test_behind_a_proxy_the_address_it_appended_is_the_one_counted(client, user, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    # The guesser writes a fresh address of its own on each try; the proxy
    # appends the real one, which is what counts.
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = log_in(
            client, "sam", "guess", ip=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}"
        )
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == ATTACKER
    # The owner, through the same proxy, is not locked out.
    response = log_in(client, "sam", PASSWORD, ip=PROXY, HTTP_X_FORWARDED_FOR=OWNER)
    assert response.status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, user, settings):
    settings.TRUSTED_PROXY_HOPS = 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "sam", "guess", ip=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert AccessAttempt.objects.get().ip_address == ATTACKER
    assert log_in(client, "sam", PASSWORD, ip=ATTACKER).status_code == 429
