"""The channel pages: who may change what, what the form refuses, the secret
shown once, the delivery log's pages and the send-test budget."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Role
from links.channels.models import AlertChannel, ChannelKind, Delivery
from tests.factories import UserFactory


@pytest.fixture
def slack(campaign):
    return AlertChannel.objects.create(
        campaign=campaign, kind=ChannelKind.SLACK, name="Team", url="https://hooks.slack.example/x"
    )


def detail(channel) -> str:
    if channel.campaign_id:
        return reverse("alert_channels:campaign_detail", args=[channel.campaign.slug, channel.pk])
    return reverse("alert_channels:my_detail", args=[channel.pk])


def test_a_member_of_the_campaign_cannot_see_or_change_its_channels(signed_in, campaign, slack):
    assert signed_in.get(detail(slack)).status_code == 403
    response = signed_in.post(detail(slack), {"name": "Mine now", "enabled": ""})
    assert response.status_code == 403
    delete = reverse("alert_channels:campaign_delete", args=[campaign.slug, slack.pk])
    assert signed_in.post(delete).status_code == 403
    slack.refresh_from_db()
    assert (slack.name, slack.enabled) == ("Team", True)


def test_a_manager_edits_the_campaign_channel_and_the_url_is_kept_unless_typed(
    as_manager, campaign, slack
):
    response = as_manager.post(detail(slack), {"name": "Ops room", "url": ""})
    assert response.status_code == 302
    slack.refresh_from_db()
    assert (slack.name, slack.enabled, slack.url) == (
        "Ops room",
        False,
        "https://hooks.slack.example/x",
    )
    page = as_manager.get(detail(slack)).content.decode()
    # The URL is a credential: the page shows a hint, never the whole of it.
    assert "hooks.slack.example/…le/x" in page
    assert "https://hooks.slack.example/x" not in page


def test_a_user_sees_and_changes_only_their_own_channels(sign_in, member):
    other = UserFactory(username="other")
    mine = AlertChannel.objects.create(
        user=member, kind=ChannelKind.SLACK, name="Mine", url="https://hooks.slack.example/m"
    )
    theirs = AlertChannel.objects.create(
        user=other, kind=ChannelKind.TEAMS, name="Theirs", url="https://teams.example/t"
    )
    client = sign_in(member)
    page = client.get(reverse("alert_channels:my_list")).content.decode()
    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(detail(mine)).status_code == 200
    assert client.get(detail(theirs)).status_code == 404
    assert client.post(detail(theirs), {"name": "Taken"}).status_code == 404
    for name in ("my_delete", "my_test", "my_secret"):
        assert client.post(reverse(f"alert_channels:{name}", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert not Delivery.objects.filter(channel=theirs).exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example/in", "https://"),
        ("https://10.0.0.7/hook", "not a public internet address"),
        ("https://127.1:8443/hook", "Enter a valid URL"),
        ("https://192.168.1.20:8443/hook", "not a public internet address"),
        ("https://metadata.internal/hook", "local network"),
        ("https://localhost/hook", "local network"),
        ("https://[::ffff:169.254.169.254]/", "not a public internet address"),
    ],
)
def test_the_form_refuses_private_and_clear_text_urls(signed_in, url, reason, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = signed_in.post(
        reverse("alert_channels:my_create"), {"kind": "webhook", "name": "Hook", "url": url}
    )
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not AlertChannel.objects.exists()


def test_loopback_http_is_allowed_only_when_the_setting_says_so(signed_in, settings):
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    form = {"kind": "slack", "name": "Local", "url": "http://127.0.0.1:9999/hook"}
    assert signed_in.post(reverse("alert_channels:my_create"), form).status_code == 302
    assert AlertChannel.objects.get().url == "http://127.0.0.1:9999/hook"


def test_the_webhook_secret_is_shown_once(signed_in, member):
    response = signed_in.post(
        reverse("alert_channels:my_create"),
        {"kind": "webhook", "name": "Hook", "url": "https://receiver.example/in", "enabled": "on"},
    )
    assert response.status_code == 200
    channel = AlertChannel.objects.get()
    secret = channel.secret()
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert secret not in signed_in.get(detail(channel)).content.decode()
    rotated = signed_in.post(reverse("alert_channels:my_secret", args=[channel.pk]))
    channel.refresh_from_db()
    assert channel.secret() != secret
    assert channel.secret() in rotated.content.decode()


def test_the_delivery_log_is_paginated_newest_first(as_manager, slack):
    Delivery.objects.bulk_create(
        Delivery(channel=slack, event="test", status="failed", last_error=f"error {n:02}")
        for n in range(30)
    )
    first = as_manager.get(detail(slack)).content.decode()
    assert first.count('class="delivery failed"') == 25
    assert "Page 1 of 2" in first
    assert "error 29" in first
    assert "error 04" not in first
    second = as_manager.get(detail(slack), {"page": 2}).content.decode()
    assert second.count('class="delivery failed"') == 5
    assert "error 04" in second
    assert "error 00" in second


def test_send_test_has_a_budget_per_user(db, sign_in, fresh_budgets, settings):
    settings.ALERT_TEST_SENDS_PER_USER_PER_HOUR = 2
    user = UserFactory(username="tester", role=Role.MEMBER)
    channel = AlertChannel.objects.create(
        user=user, kind=ChannelKind.EMAIL, name="Me", enabled=True
    )
    client = sign_in(user)
    url = reverse("alert_channels:my_test", args=[channel.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    refused = client.post(url)
    assert refused.status_code == 429
    assert "2 test messages in the last hour" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert Delivery.objects.filter(channel=channel, event="test").count() == 2


def test_the_campaign_page_says_the_owner_gets_the_email_until_a_channel_exists(
    as_manager, campaign
):
    url = reverse("alert_channels:campaign_list", args=[campaign.slug])
    assert "No email channel yet" in as_manager.get(url).content.decode()
    AlertChannel.objects.create(campaign=campaign, kind=ChannelKind.EMAIL, name="Team inbox")
    assert "No email channel yet" not in as_manager.get(url).content.decode()


def test_the_list_costs_the_same_queries_for_one_channel_or_ten(
    as_manager, campaign, django_assert_max_num_queries
):
    url = reverse("alert_channels:campaign_list", args=[campaign.slug])
    for n in range(10):
        AlertChannel.objects.create(campaign=campaign, kind=ChannelKind.EMAIL, name=f"Inbox {n}")
    # Session, user, campaign, channels (with owners), the nav's alert count.
    with django_assert_max_num_queries(8):
        page = as_manager.get(url)
    assert page.content.decode().count("Inbox ") == 10
