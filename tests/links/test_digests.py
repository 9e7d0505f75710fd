from __future__ import annotations

import pytest
from django.core import mail

from links import services
from links.models import Alert
from tests.factories import AlertFactory, CampaignFactory, UserFactory


@pytest.fixture
def campaigns(db):
    owner = UserFactory(email="owner@agency.example")
    return CampaignFactory(name="Shoes", owner=owner), CampaignFactory(name="Hats", owner=owner)


def test_one_digest_per_campaign_not_one_mail_per_link(campaigns):
    shoes, hats = campaigns
    AlertFactory.create_batch(5, campaign=shoes, message="Lost the link on a.example")
    AlertFactory(campaign=hats, message="Lost the link on b.example")
    assert services.send_alert_digests() == 2
    assert len(mail.outbox) == 2
    shoes_mail = next(m for m in mail.outbox if "Shoes" in m.subject)
    assert shoes_mail.to == ["owner@agency.example"]
    assert shoes_mail.subject == "[Anchorage] Shoes: 5 backlink alerts"
    assert shoes_mail.body.count("Lost the link on a.example") == 5
    assert not Alert.objects.filter(mailed_at__isnull=True).exists()


def test_alerts_are_mailed_once(campaigns):
    AlertFactory(campaign=campaigns[0])
    services.send_alert_digests()
    assert services.send_alert_digests() == 0
    assert len(mail.outbox) == 1


def test_a_failed_mail_is_retried_at_the_next_run(campaigns, settings):
    AlertFactory(campaign=campaigns[0])
    # A real SMTP connection to a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert services.send_alert_digests() == 0
    assert Alert.objects.filter(mailed_at__isnull=True).count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send_alert_digests() == 1
