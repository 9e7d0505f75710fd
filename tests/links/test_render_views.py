"""The re-check row and the backlink page say when a check rendered the page,
and how long rendering took."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from links.models import BacklinkState
from tests.factories import BacklinkFactory, LinkCheckFactory

HTMX = {"HX-Request": "true"}


def test_the_rechecked_row_says_rendered_and_how_long(signed_in, campaign):
    requested = timezone.now() - timedelta(seconds=5)
    backlink = BacklinkFactory(
        campaign=campaign,
        state=BacklinkState.LIVE,
        check_requested_at=requested,
        last_checked_at=requested + timedelta(seconds=3),
        needs_render=True,
        last_render_ms=1840,
    )
    url = reverse("links:backlink_row", args=[campaign.slug, backlink.pk])
    response = signed_in.get(url, headers={**HTMX, "HX-Target": f"backlink-{backlink.pk}"})
    assert "rendered in 1,840 ms" in response.content.decode()


def test_a_raw_check_says_nothing_of_rendering(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign, state=BacklinkState.LIVE, last_render_ms=None)
    url = reverse("links:backlink_row", args=[campaign.slug, backlink.pk])
    response = signed_in.get(url, headers={**HTMX, "HX-Target": f"backlink-{backlink.pk}"})
    assert "rendered in" not in response.content.decode()


def test_the_backlink_page_marks_rendered_checks(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign, needs_render=True, last_render_ms=950)
    LinkCheckFactory(backlink=backlink, rendered=True, render_ms=950)
    LinkCheckFactory(
        backlink=backlink,
        verdict="missing",
        rendered=False,
        checked_at=timezone.now() - timedelta(days=1),
    )
    url = reverse("links:backlink_detail", args=[campaign.slug, backlink.pk])
    content = signed_in.get(url).content.decode()
    assert content.count("rendered in 950 ms") == 2  # the row, and the one rendered check
    assert "its checks render the page in headless Chromium" in content


def test_renders_run_on_their_own_queue_which_compose_and_make_run_consume(settings):
    from pathlib import Path

    import yaml

    from links.tasks import render_backlinks

    root = Path(__file__).resolve().parents[2]
    queue = settings.CELERY_TASK_ROUTES[render_backlinks.name]["queue"]
    assert queue == "render"
    services = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]
    assert queue in services["render-worker"]["command"]
    assert queue not in services["worker"]["command"]  # checks never wait behind a render
    assert ',render"' in (root / "scripts" / "run.sh").read_text()


def test_the_api_check_history_says_rendered(signed_in, campaign):
    backlink = BacklinkFactory(campaign=campaign, needs_render=True, last_render_ms=700)
    LinkCheckFactory(backlink=backlink, rendered=True, render_ms=700)
    body = signed_in.get(f"/api/v1/backlinks/{backlink.pk}/").json()
    assert [(c["rendered"], c["render_ms"]) for c in body["checks"]] == [(True, 700)]
