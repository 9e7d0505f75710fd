"""Escalation to the render queue: a check that finds no link on a script-built
page is re-run in Chromium, a backlink that needed it goes straight there next
time, and a plain page is never rendered. Real pages on 127.0.0.1, real
PostgreSQL and Redis; the tasks are called directly (no eager mode)."""

from __future__ import annotations

import base64
import json

import pytest

from links import dispatch, services, tasks
from links.dispatch import claim
from links.models import Backlink, BacklinkState, LinkCheck
from links.verification.render.engine import chromium_path
from tests.factories import BacklinkFactory, CampaignFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the tasks close their connection
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed"),
]

TARGET = "https://ours.example/guide"
SHELL = """<!doctype html><html><head><title>Post</title></head><body><div id="root"></div>
<noscript>You need to enable JavaScript to run this app.</noscript>
<script src="/app.js"></script></body></html>"""
JS = [("Content-Type", "application/javascript")]


@pytest.fixture(autouse=True)
def _rendering(settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    settings.RENDER_ENABLED = True
    settings.RENDER_TIMEOUT_SECONDS = 8


def script_page(site, *, links_to: str) -> str:
    site.page(
        "/app.js",
        f"setTimeout(() => {{ document.getElementById('root').innerHTML = "
        f"'<p>Read <a href=\"{links_to}\">our guide</a></p>'; }}, 100);",
        headers=JS,
    )
    return site.page("/post", SHELL)


def backlink_on(url: str, **fields) -> Backlink:
    campaign = CampaignFactory(site="ours.example")
    return BacklinkFactory(campaign=campaign, source_url=url, target_url=TARGET, **fields)


def payloads(queue, name: str) -> list[list[list[object]]]:
    found = []
    for raw in queue.lrange(name, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert message["headers"]["task"] in (
            "links.tasks.render_backlinks",
            "links.tasks.check_backlinks",
        )
        found.append(args[0])
    queue.delete(name)
    return found


def raw_check(backlink: Backlink) -> int:
    return tasks.check_backlinks([c.to_json() for c in claim([backlink.pk])])


def test_a_script_built_page_is_rendered_and_the_link_found(site, queue) -> None:
    backlink = backlink_on(script_page(site, links_to=TARGET))

    # The raw check finds nothing, records nothing and hands the claim on.
    assert raw_check(backlink) == 0
    assert not LinkCheck.objects.exists()
    (payload,) = payloads(queue, "render")
    assert payload[0][0] == backlink.pk

    assert tasks.render_backlinks(payload) == 1
    check = LinkCheck.objects.get()
    assert check.verdict == "live"
    assert check.rendered
    assert check.render_ms > 0
    backlink.refresh_from_db()
    assert backlink.state == BacklinkState.LIVE
    assert backlink.needs_render


def test_a_backlink_that_needed_rendering_goes_straight_to_the_render_queue(site, queue) -> None:
    backlink = backlink_on(script_page(site, links_to=TARGET), needs_render=True)
    other = backlink_on(site.page("/plain", f'<a href="{TARGET}">g</a>'))
    with_claims = claim([backlink.pk, other.pk])
    assert [c.render for c in with_claims] == [True, False]
    from django.db import transaction

    with transaction.atomic():
        dispatch.enqueue_checks(with_claims)
    assert payloads(queue, "celery") == [[[other.pk, with_claims[1].lease.isoformat()]]]
    (payload,) = payloads(queue, "render")
    assert [item[0] for item in payload] == [backlink.pk]
    assert tasks.render_backlinks(payload) == 1
    assert LinkCheck.objects.get(backlink=backlink).rendered


def test_rendering_off_keeps_checks_raw(site, queue, settings) -> None:
    settings.RENDER_ENABLED = False
    backlink = backlink_on(script_page(site, links_to=TARGET), needs_render=True)
    assert raw_check(backlink) == 1
    assert payloads(queue, "render") == []
    check = LinkCheck.objects.get()
    assert check.verdict == "missing"
    assert not check.rendered


def test_a_page_that_never_has_the_link_is_missing_then_lost(site, queue) -> None:
    backlink = backlink_on(script_page(site, links_to="https://elsewhere.example/"))
    for state in (BacklinkState.UNCONFIRMED, BacklinkState.LOST):
        assert raw_check(backlink) == 0
        (payload,) = payloads(queue, "render")
        assert tasks.render_backlinks(payload) == 1
        backlink.refresh_from_db()
        assert backlink.state == state
        assert not backlink.needs_render
    checks = list(LinkCheck.objects.order_by("checked_at"))
    assert [(c.verdict, c.rendered) for c in checks] == [("missing", True), ("missing", True)]


def test_a_plain_page_is_never_rendered(site, queue) -> None:
    article = "<p>" + "Trail shoes need grip, cushioning and a good fit. " * 50 + "</p>"
    backlink = backlink_on(
        site.page("/post", f"<html><body><article>{article}</article></body></html>")
    )
    assert raw_check(backlink) == 1
    assert payloads(queue, "render") == []
    check = LinkCheck.objects.get()
    assert check.verdict == "missing"
    assert not check.rendered


def test_a_link_back_in_the_raw_html_clears_needs_render(site, queue) -> None:
    backlink = backlink_on(
        site.page("/post", f'<a href="{TARGET}">our guide</a>'), needs_render=True
    )
    (claimed,) = claim([backlink.pk])
    assert services.render_claimed([claimed]) == 1
    check = LinkCheck.objects.get()
    assert check.verdict == "live"
    assert not check.rendered
    backlink.refresh_from_db()
    assert not backlink.needs_render
