from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from links.models import BacklinkState, LinkCheck
from tests.factories import BacklinkFactory, CampaignFactory

ROOT = Path(__file__).resolve().parents[2]
PAGE = (
    '<html><head><meta name="robots" content="noindex"></head><body>'
    '<a href="https://ours.example/guide/" rel="ugc">our guide</a></body></html>'
)


def test_verify_url_prints_exactly_the_design_json(site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    url = site.page("/post", PAGE)
    out = StringIO()
    call_command("verify_url", url, "https://www.ours.example/guide", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {
        "verdict",
        "http_status",
        "final_url",
        "anchors",
        "flags",
        "relevance",
        "relevance_terms",
        "rendered",
        "error",
        "elapsed_ms",
    }
    assert data["verdict"] == "nofollow"
    assert data["http_status"] == 200
    assert data["anchors"] == [
        {
            "href": "https://ours.example/guide/",
            "text": "our guide",
            "rel": "ugc",
            "dofollow": False,
            "kind": "text",
            "placement": "content",
        }
    ]
    assert data["flags"] == {"noindex": True, "canonical": None, "robots_txt_blocked": False}


def test_verify_url_prints_each_anchors_rel_kind_and_placement(site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    url = site.page(
        "/post",
        '<html><body><footer><a href="https://ours.example/guide/" rel="nofollow sponsored">'
        '<img src="/logo.png" alt="Ours"></a></footer></body></html>',
    )
    out = StringIO()
    call_command("verify_url", url, "https://ours.example/guide", stdout=out)
    assert (
        "anchor:      'Ours' → https://ours.example/guide/ "
        "[nofollow rel='nofollow sponsored'; image, footer]"
    ) in out.getvalue()


def test_verify_url_refuses_loopback_unless_allowed(site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = False
    url = site.page("/post", PAGE)
    out = StringIO()
    call_command("verify_url", url, "https://ours.example/guide/", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["verdict"] == "error"
    assert site.hit_count == 0


def run_verify_url(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "verify_url", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_verify_url_exits_0_whatever_the_verdict():
    result = run_verify_url("http://127.0.0.1:9/", "https://ours.example/", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "error"


@pytest.mark.parametrize(
    "args",
    [
        ("ftp://files.example/", "https://ours.example/", "--json"),
        ("https://blog.example/", "not a url", "--json"),
        ("https://blog.example/",),
    ],
)
def test_verify_url_exits_2_on_bad_arguments(args):
    result = run_verify_url(*args)
    assert result.returncode == 2
    assert result.stderr.strip()


def test_verify_links_checks_a_campaign_and_records_the_results(db, site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    live = site.page("/live", '<a href="https://ours.example/">us</a>')
    gone = site.page("/empty", "<p>nothing here</p>")
    campaign = CampaignFactory(slug="mine")
    BacklinkFactory(campaign=campaign, source_url=live, target_url="https://ours.example/")
    BacklinkFactory(campaign=campaign, source_url=gone, target_url="https://ours.example/")
    BacklinkFactory(source_url=site.page("/other", "<p/>"))  # another campaign: not checked
    out, err = StringIO(), StringIO()
    call_command("verify_links", "--campaign", "mine", stdout=out, stderr=err)
    assert "Checked 2 backlinks: live 1, missing 1." in out.getvalue()
    assert LinkCheck.objects.count() == 2
    assert campaign.backlinks.filter(state=BacklinkState.UNCONFIRMED).count() == 1
    assert site.hits_for("/other") == 0


def test_a_link_moved_from_an_article_into_the_footer_is_recorded_and_alerted(db, site, settings):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    link = '<a href="https://ours.example/">us</a>'
    url = site.page("/post", f"<body><article><p>Read {link}.</p></article><footer/></body>")
    backlink = BacklinkFactory(
        campaign=CampaignFactory(slug="mine"), source_url=url, target_url="https://ours.example/"
    )
    call_command("verify_links", "--campaign", "mine", stdout=StringIO())
    site.page("/post", f"<body><article><p>Read.</p></article><footer>{link}</footer></body>")
    call_command("verify_links", "--campaign", "mine", stdout=StringIO())

    first, second = LinkCheck.objects.filter(backlink=backlink).order_by("checked_at", "pk")
    assert [(a["placement"], a["kind"]) for a in first.anchors] == [("content", "text")]
    assert [(a["placement"], a["kind"]) for a in second.anchors] == [("footer", "text")]
    backlink.refresh_from_db()
    assert (backlink.placement, backlink.link_kind) == ("footer", "text")
    assert list(backlink.alerts.values_list("kind", flat=True)) == ["moved_out_of_content"]


def test_verify_links_due_only_checks_due_links(db, site, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = True
    url = site.page("/live", '<a href="https://ours.example/">us</a>')
    BacklinkFactory(
        source_url=url,
        target_url="https://ours.example/",
        next_check_at=timezone.now() + timedelta(days=1),
    )
    out = StringIO()
    call_command("verify_links", "--due", stdout=out)
    assert "Nothing to check." in out.getvalue()


def test_verify_links_names_an_unknown_campaign(db):
    with pytest.raises(CommandError, match="No campaign with slug 'nope'"):
        call_command("verify_links", "--campaign", "nope")
