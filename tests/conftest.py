from __future__ import annotations

import pytest
from django.conf import settings

from campaigns.models import Role
from tests.factories import CampaignFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "The suite runs against a real PostgreSQL and Redis: use `make test` "
            "(it starts both), or export DATABASE_URL=postgres://... and REDIS_URL=redis://..."
        )
    if not settings.REDIS_URL:
        raise pytest.UsageError("REDIS_URL is not set: use `make test`, which starts Redis.")


@pytest.fixture
def member(db):
    return UserFactory(username="member", role=Role.MEMBER)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def campaign(member):
    """A campaign the ``member`` fixture is on."""
    return CampaignFactory(slug="ours", members=[member])


@pytest.fixture
def other_campaign(db):
    """A campaign the ``member`` fixture is not on."""
    return CampaignFactory(slug="theirs")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    # Uploads (imports) go to a throwaway folder, not the checkout's var/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at production strength costs ~0.3 s a user; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
