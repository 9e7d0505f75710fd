"""Re-check now, for real: the browser asks, a real Celery worker (gevent pool,
another process) fetches a page served on 127.0.0.1, the verifier judges, the
result lands in PostgreSQL, and the polling row shows the new verdict."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.models import Role
from links.models import BacklinkState, LinkCheck
from tests.factories import BacklinkFactory, CampaignFactory, UserFactory
from tests.support.workers import Worker, purge_queue

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(transactional_db, tmp_path):
    purge_queue()
    started = Worker("e2e-recheck", env={"VERIFIER_ALLOW_PRIVATE_NETWORKS": "1"}, log_dir=tmp_path)
    started.wait_ready()
    yield started
    started.stop()


def test_recheck_against_a_local_page_updates_the_verdict(page, login, site, worker):
    member = UserFactory(username="rita", role=Role.MEMBER)
    campaign = CampaignFactory(slug="acme", members=[member])
    source = site.page(
        "/review",
        '<p>Try <a href="https://acme.example/shoes/" rel="sponsored">Acme shoes</a>.</p>',
    )
    backlink = BacklinkFactory(
        campaign=campaign,
        source_url=source,
        target_url="https://acme.example/shoes/",
        state=BacklinkState.LIVE,
        expected_anchor_text="Acme shoes",
    )
    login(member)
    page.goto("/campaigns/acme/backlinks/")
    row = page.locator(f"#backlink-{backlink.pk}")
    expect(row).to_contain_text("Live")
    row.get_by_role("button", name="Re-check 127.0.0.1 now").click()
    expect(row.get_by_role("status")).to_contain_text("Checking…")

    # The page now marks the link sponsored: the worker must report nofollow.
    expect(row).to_contain_text("Nofollow", timeout=30_000)
    expect(row).not_to_contain_text("Checking…")
    check = LinkCheck.objects.get(backlink=backlink)
    assert check.verdict == "nofollow"
    assert site.hits_for("/review") == 1, worker.output()[-2000:]
