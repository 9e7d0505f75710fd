from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings

from campaigns.models import Role
from tests.factories import CampaignFactory, UserFactory
from tests.support.imap import imap_mailbox, imap_server  # noqa: F401  (fixtures)
from tests.support.receiver import receiver  # noqa: F401  (fixture)
from tests.support.site import SocketLog, TestSite, _events, _events_lock, _is_loopback
from tests.support.smtp import smtp_sink  # noqa: F401  (fixture)

# Redis databases 1..MAX_WORKERS belong to the xdist workers (database 0 to a
# serial run); test_compose_stack.py gives its stack database 14.
MAX_WORKERS = 12


def worker_redis_url(url: str, worker: str | None) -> str:
    """The suite's Redis URL for xdist worker ``worker`` ("gw0", "gw1", …): the
    same server, database index + 1, so one worker's FLUSHDB, queue purges,
    budgets, locks and heartbeats never meet another's (Redis keys, Celery queues
    and kombu's fanout channels are all per database). Unchanged outside xdist."""
    if not worker:
        return url
    index = int(worker.removeprefix("gw"))
    if index >= MAX_WORKERS:
        raise pytest.UsageError(f"at most {MAX_WORKERS} xdist workers (-n): Redis has 16 databases")
    return urlunsplit(urlsplit(url)._replace(path=f"/{index + 1}"))


def _own_redis_database(worker: str | None) -> None:
    """Points this process, and every process it starts, at its worker's Redis
    database. Django's settings are loaded before any conftest, so the values
    derived from REDIS_URL are rewritten here, before anything uses them: Celery
    reads its configuration and Django builds its caches lazily, on first use
    (tests/test_parallel_isolation.py proves both landed)."""
    old = settings.REDIS_URL
    new = worker_redis_url(old, worker)
    if new == old:
        return
    os.environ["REDIS_URL"] = new
    settings.REDIS_URL = new
    settings.CELERY_BROKER_URL = new
    for cache in settings.CACHES.values():
        if cache.get("LOCATION") == old:
            cache["LOCATION"] = new


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "The suite runs against a real PostgreSQL and Redis: use `make test` "
            "(it starts both), or export DATABASE_URL=postgres://... and REDIS_URL=redis://..."
        )
    if not settings.REDIS_URL:
        raise pytest.UsageError("REDIS_URL is not set: use `make test`, which starts Redis.")
    # pytest-django gives each xdist worker its own test database (test_…_gw0);
    # this gives it its own Redis database.
    _own_redis_database(os.environ.get("PYTEST_XDIST_WORKER"))


# Under xdist (scripts/run-tests.sh) the files that take longest start first, so
# they overlap the rest of the suite instead of trailing after it: each starts
# many processes and spends a minute or more waiting on them.
SLOWEST_FIRST = (
    "tests/test_compose_stack.py",
    "tests/test_fresh_machine.py",
    "tests/outreach/test_import_cli.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """xdist's loadfile hands out whole files in collection order (the run passes
    --no-loadscope-reorder): the slowest files above, then the others by their
    number of tests, most first, as xdist's own reordering would."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    per_file: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        per_file[path] = per_file.get(path, 0) + 1

    def rank(path: str) -> tuple[int, int]:
        if path in SLOWEST_FIRST:
            return (SLOWEST_FIRST.index(path), 0)
        return (len(SLOWEST_FIRST), -per_file[path])

    items.sort(key=lambda item: rank(item.nodeid.split("::")[0]))


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
def sign_in(client):
    """The one way tests sign the test client in: ``sign_in(user)`` returns the
    client signed in as that user (the fixtures below are the usual ones)."""

    def signed_in_as(user):
        client.force_login(user)
        return client

    return signed_in_as


@pytest.fixture
def signed_in(sign_in, member):
    """The test client, signed in as ``member``."""
    return sign_in(member)


@pytest.fixture
def as_manager(sign_in, manager):
    """The test client, signed in as ``manager``."""
    return sign_in(manager)


@pytest.fixture
def as_admin(sign_in, admin_user):
    """The test client, signed in as ``admin_user``."""
    return sign_in(admin_user)


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
def _no_relevance_unless_asked(settings):
    # Scoring reads our target pages, and the factories' targets are names
    # (ours.example) that would be looked up: tests of relevance turn it on
    # with targets served on 127.0.0.1.
    settings.RELEVANCE_ENABLED = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at production strength costs ~0.3 s a user; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sockets() -> SocketLog:
    with _events_lock:
        return SocketLog(start=len(_events))


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback(sockets: SocketLog) -> Iterator[None]:
    yield
    for address in sockets.connects:
        if isinstance(address, tuple):
            assert _is_loopback(address[0]), f"a test connected to {address}"
    for host in sockets.lookups:
        text = host.decode() if isinstance(host, bytes) else str(host)
        # Literal addresses are parsed, not looked up; any name would go to DNS.
        try:
            ipaddress.ip_address(text.strip("[]").split("%")[0])
        except ValueError:
            pytest.fail(f"a test looked up the name {text!r}")


@pytest.fixture
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


@pytest.fixture
def other_site() -> Iterator[TestSite]:
    """A second server: another port on loopback, for redirects that must be refused."""
    server = TestSite()
    yield server
    server.close()


@pytest.fixture
def fresh_budgets() -> Iterator[None]:
    """Budgets with nothing spent, in Redis and in this process, before and after."""
    import redis

    from links import budgets

    client = redis.Redis.from_url(settings.REDIS_URL)

    def clear() -> None:
        for key in client.scan_iter(f"{budgets.PREFIX}*"):
            client.delete(key)
        budgets._local.clear()

    clear()
    yield
    clear()


@pytest.fixture
def queue() -> Iterator[redis.Redis]:
    """The broker's queues on the suite's Redis (the default ``celery``,
    ``bulk`` and ``render``), empty before and after."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery", "bulk", "render")
    yield client
    client.delete("celery", "bulk", "render")


@pytest.fixture(autouse=True, scope="session")
def _instrument_template_partials():
    """Django's test setup instruments ``Template._render`` so ``response.context``
    sees what a view rendered; a "page.html#fragment" partial renders through
    django-template-partials' proxy instead, which it does not know."""
    from django.test.utils import instrumented_test_render
    from template_partials.templatetags.partials import TemplateProxy

    original = TemplateProxy._render
    TemplateProxy._render = instrumented_test_render
    yield
    TemplateProxy._render = original
