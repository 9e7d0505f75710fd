"""Slack's, Teams' and the webhook's bodies for one fixed digest, pinned in golden
files (tests/links/channels/golden/): a change of format shows up as a diff to
review against the services' documentation, not as a surprise in a channel.

UPDATE_GOLDEN=1 rewrites them from the code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from links.channels import messages

GOLDEN = Path(__file__).parent / "golden"

DIGEST = messages.digest_payload(
    digest_id=42,
    created_at="2026-03-02T09:15:00+00:00",
    campaign={"id": 7, "slug": "shoes", "name": "Shoes & Boots"},
    alerts=[
        {
            "id": 101,
            "kind": "lost",
            "kind_label": "Link lost",
            "message": "Lost the link on https://blog.example/best-shoes/: the page answers 404.",
            "created_at": "2026-03-02T08:01:00+00:00",
            "backlink": {
                "id": 55,
                "source_url": "https://blog.example/best-shoes/",
                "target_url": "https://shoes.example/guide/",
            },
        },
        {
            "id": 102,
            "kind": "anchor_changed",
            "kind_label": "Anchor text changed",
            "message": "The anchor text on https://news.example/a?x=1&y=2 changed from "
            "'<best> shoes' to 'shoes'.",
            "created_at": "2026-03-02T08:05:00+00:00",
            "backlink": {
                "id": 56,
                "source_url": "https://news.example/a?x=1&y=2",
                "target_url": "https://shoes.example/",
            },
        },
        {
            "id": 103,
            "kind": "unreachable",
            "kind_label": "Page unreachable",
            "message": "https://gone.example/ has failed for 3 days (timeout).",
            "created_at": "2026-03-02T08:09:00+00:00",
            "backlink": None,
        },
    ],
    site_url="https://anchorage.agency.example/",
)


def golden(name: str, value: object) -> None:
    path = GOLDEN / name
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert json.loads(path.read_text()) == value, f"{name} differs from the golden file"


def test_slack_message_matches_its_golden_file():
    message = messages.slack_message(DIGEST)
    golden("slack_digest.json", message)
    # Slack's documented shape: text for notifications, Block Kit blocks in mrkdwn,
    # with &, < and > escaped wherever text is not a link.
    assert set(message) == {"text", "blocks"}
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "&lt;best&gt;" in sections[1]
    assert "x=1&amp;y=2" in sections[1]


def test_teams_card_matches_its_golden_file():
    message = messages.teams_message(DIGEST)
    golden("teams_digest.json", message)
    (attachment,) = message["attachments"]
    assert message["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"


def test_webhook_payload_matches_its_golden_file():
    golden("webhook_digest.json", DIGEST)


@pytest.mark.parametrize("render", [messages.slack_message, messages.teams_message])
def test_a_long_digest_is_cut_in_chat_and_says_how_many_more(render):
    alert = DIGEST["alerts"][0]
    many = {**DIGEST, "alerts": [alert] * (messages.CHAT_MAX_ALERTS + 5), "alert_count": 25}
    text = json.dumps(render(many))
    assert text.count("blog.example/best-shoes/: the page") == messages.CHAT_MAX_ALERTS
    assert "5 more" in text


def test_email_reads_as_the_digest_always_did():
    subject, body = messages.email_message(DIGEST)
    assert subject == "[Anchorage] Shoes & Boots: 3 backlink alerts"
    assert body.splitlines()[0] == "Alerts for Shoes & Boots:"
    assert "- Link lost: Lost the link on https://blog.example/best-shoes/" in body
    assert body.rstrip().endswith("https://anchorage.agency.example/campaigns/shoes/")
