"""What a digest looks like in each channel: the generic webhook's JSON payload
(documented in the API schema, api/webhooks.py), and from it Slack's message,
Teams' card and the email's text.

Pure functions of the payload, so the golden-file tests pin every format
without a database, and a retry sends the very message the first attempt did.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The payload's shape; bumped only for changes a receiver could trip on.
PAYLOAD_VERSION = 1
# Slack allows 50 blocks per message and Teams ~28 KB per card: chat shows the
# first alerts and links to the rest; email and webhooks carry them all.
CHAT_MAX_ALERTS = 20
# One alert's text in chat: Slack cuts a section at 3,000 characters.
CHAT_MAX_TEXT = 500
# Slack's header block takes 150 characters of plain text.
SLACK_HEADER_MAX = 150

Payload = dict[str, Any]


def freeze_alert(alert: Any) -> dict[str, Any]:
    """An alert as a digest keeps it (JSON), read from a links.Alert row."""
    backlink = alert.backlink
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "kind_label": alert.get_kind_display(),
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "backlink": None
        if backlink is None
        else {
            "id": backlink.pk,
            "source_url": backlink.source_url,
            "target_url": backlink.target_url,
        },
    }


def summary_of(campaign_name: str, count: int) -> str:
    return f"{campaign_name}: {count} backlink alert{'s' if count != 1 else ''}"


def digest_payload(
    *,
    digest_id: int,
    created_at: str,
    campaign: dict[str, Any],
    alerts: Iterable[dict[str, Any]],
    site_url: str,
) -> Payload:
    """The generic webhook's body for one digest. ``campaign`` has id, slug and
    name; ``alerts`` are frozen alerts (freeze_alert)."""
    site = site_url.rstrip("/")
    slug = campaign["slug"]
    items = []
    for alert in alerts:
        backlink = alert.get("backlink")
        linked = None
        if backlink:
            linked = {
                **backlink,
                "url": f"{site}/campaigns/{slug}/backlinks/{backlink['id']}/",
            }
        items.append(
            {
                "id": alert["id"],
                "kind": alert["kind"],
                "kind_label": alert["kind_label"],
                "message": alert["message"],
                "created_at": alert["created_at"],
                "url": linked["url"] if linked else f"{site}/alerts/",
                "backlink": linked,
            }
        )
    return {
        "version": PAYLOAD_VERSION,
        "event": "alerts.digest",
        "summary": summary_of(campaign["name"], len(items)),
        "digest": {"id": digest_id, "created_at": created_at},
        "campaign": {
            "id": campaign["id"],
            "slug": slug,
            "name": campaign["name"],
            "url": f"{site}/campaigns/{slug}/",
        },
        "alert_count": len(items),
        "alerts": items,
        "alerts_url": f"{site}/alerts/",
    }


def send_test_payload(*, channel_name: str, site_url: str) -> Payload:
    """The body of "Send test": the same envelope, no digest, no alerts."""
    site = site_url.rstrip("/")
    return {
        "version": PAYLOAD_VERSION,
        "event": "test",
        "summary": f"Test message from Anchorage to the channel “{channel_name}”",
        "digest": None,
        "campaign": None,
        "alert_count": 0,
        "alerts": [],
        "alerts_url": f"{site}/alerts/",
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Slack --------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # The three characters Slack's mrkdwn reserves for links and mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: Payload) -> dict[str, Any]:
    """Slack's incoming-webhook message: ``text`` (the notification and the
    fallback) and Block Kit ``blocks`` in mrkdwn."""
    summary = payload["summary"]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(summary, SLACK_HEADER_MAX)},
        }
    ]
    alerts = payload["alerts"]
    for alert in alerts[:CHAT_MAX_ALERTS]:
        text = _slack_escape(_clip(alert["message"], CHAT_MAX_TEXT))
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*<{alert['url']}|{_slack_escape(alert['kind_label'])}>*\n{text}",
                },
            }
        )
    if not alerts:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "If you can read this, the channel works: alerts will arrive here.",
                },
            }
        )
    more = len(alerts) - CHAT_MAX_ALERTS
    link = payload["campaign"]["url"] if payload["campaign"] else payload["alerts_url"]
    footer = f"<{link}|Open in Anchorage>"
    if more > 0:
        footer = f"…and {more} more. {footer}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return {"text": _slack_escape(f"Anchorage · {summary}"), "blocks": blocks}


# --- Microsoft Teams ------------------------------------------------------------------


def teams_message(payload: Payload) -> dict[str, Any]:
    """An Adaptive Card (1.4) in the message envelope that Teams' incoming
    webhooks and Power Automate's "post to a channel when a webhook request is
    received" workflow both accept (the legacy MessageCard is not)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "size": "Medium",
            "weight": "Bolder",
            "text": payload["summary"],
            "wrap": True,
        }
    ]
    alerts = payload["alerts"]
    for alert in alerts[:CHAT_MAX_ALERTS]:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "selectAction": {"type": "Action.OpenUrl", "url": alert["url"]},
                "items": [
                    {"type": "TextBlock", "weight": "Bolder", "text": alert["kind_label"]},
                    {
                        "type": "TextBlock",
                        "text": _clip(alert["message"], CHAT_MAX_TEXT),
                        "wrap": True,
                        "spacing": "None",
                    },
                ],
            }
        )
    if not alerts:
        body.append(
            {
                "type": "TextBlock",
                "text": "If you can read this, the channel works: alerts will arrive here.",
                "wrap": True,
            }
        )
    more = len(alerts) - CHAT_MAX_ALERTS
    if more > 0:
        body.append({"type": "TextBlock", "text": f"…and {more} more.", "isSubtle": True})
    link = payload["campaign"]["url"] if payload["campaign"] else payload["alerts_url"]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Anchorage", "url": link}],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# --- Email ------------------------------------------------------------------------------


def email_message(payload: Payload) -> tuple[str, str]:
    """(subject, text body): the digest email as it has always read."""
    subject = f"[Anchorage] {payload['summary']}"
    if payload["campaign"] is None:
        body = (
            "This is a test of an Anchorage alert channel: alert digests will arrive "
            f"at this address.\n\n{payload['alerts_url']}"
        )
        return subject, body
    lines = [f"- {a['kind_label']}: {a['message']}" for a in payload["alerts"]]
    body = "\n".join(
        [f"Alerts for {payload['campaign']['name']}:", "", *lines, "", payload["campaign"]["url"]]
    )
    return subject, body
