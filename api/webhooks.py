"""The alert webhook in the OpenAPI schema: the JSON body a generic webhook
channel receives (built by links.channels.messages.digest_payload) and the
headers that sign it.

The schema is OpenAPI 3.0, which has no ``webhooks`` section (3.1 does), so a
postprocessing hook adds the payload's components and an ``x-webhooks`` entry,
the extension Redoc and other 3.0 tools read. tests/links/channels/
test_schema.py checks a real payload against these components.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.plumbing import process_webhooks
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from links.channels import signing
from links.channels.models import Event
from links.models import Alert

VERIFY_RECIPE = f"""\
Sent to a channel's URL once per alert digest (and by "Send test"), POST with
`Content-Type: application/json`. Answer 2xx quickly; 5xx, 408, 425, 429 and
network errors are retried with exponential backoff, anything else is final.

Verify every request before trusting it:

1. Read `{signing.TIMESTAMP_HEADER}` (Unix seconds) and refuse it when it is more
   than {signing.DEFAULT_TOLERANCE_SECONDS} seconds from your clock (a replayed request).
2. Compute `HMAC-SHA256(secret, timestamp + "." + raw_body)` in hex, over the
   exact bytes received, with the channel's secret (`whsec_…`, shown once).
3. Compare `"sha256=" + hex` with `{signing.SIGNATURE_HEADER}` in constant time.

`{signing.DELIVERY_HEADER}` is the same on every retry of one message: use it to
drop duplicates.
"""

HEADERS = [
    (signing.SIGNATURE_HEADER, "`sha256=` + hex HMAC-SHA256 of `timestamp.body`.", True),
    (signing.TIMESTAMP_HEADER, "Unix time (seconds) of this attempt.", True),
    (signing.EVENT_HEADER, "`alerts.digest` or `test`.", True),
    (signing.DELIVERY_HEADER, "The delivery's id, the same on every retry.", True),
]


class WebhookBacklinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_url = serializers.URLField(help_text="The page that links to us.")
    target_url = serializers.URLField()
    url = serializers.URLField(help_text="The backlink's page in Anchorage.")


class WebhookAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Alert.Kind.choices)
    kind_label = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="Where to look: the backlink's page, or the alerts.")
    backlink = WebhookBacklinkSerializer(allow_null=True)


class WebhookDigestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class WebhookCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.URLField()


class AlertWebhookPayloadSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="1. Bumped only for changes that break readers.")
    event = serializers.ChoiceField(choices=Event.choices)
    summary = serializers.CharField(
        help_text="One line for people, e.g. “Shoes: 3 backlink alerts”."
    )
    digest = WebhookDigestSerializer(allow_null=True, help_text="Null for a test.")
    campaign = WebhookCampaignSerializer(allow_null=True, help_text="Null for a test.")
    alert_count = serializers.IntegerField()
    alerts = WebhookAlertSerializer(many=True)
    alerts_url = serializers.URLField()


ALERT_WEBHOOK = OpenApiWebhook(
    name="alertDigest",
    decorator=extend_schema(
        summary="An alert digest, to a generic webhook channel",
        description=VERIFY_RECIPE,
        request=AlertWebhookPayloadSerializer,
        responses={200: OpenApiResponse(description="Received (any 2xx will do).")},
    ),
)


def add_alert_webhook(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (listed before the enum hook, which
    then names the payload's enums like every other)."""
    webhooks = process_webhooks([ALERT_WEBHOOK], generator.registry)
    built = generator.registry.build({})
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in built.get("schemas", {}).items():
        schemas.setdefault(name, schema)
    webhooks["alertDigest"]["post"]["parameters"] = [
        {
            "name": name,
            "in": "header",
            "required": required,
            "schema": {"type": "string"},
            "description": description,
        }
        for name, description, required in HEADERS
    ]
    result["x-webhooks"] = webhooks
    return result
