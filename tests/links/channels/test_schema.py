"""The generic webhook's payload is documented in the API schema, and what a
receiver really gets matches what the schema says."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from links.channels import services
from links.channels.models import AlertChannel, ChannelKind, Delivery
from tests.factories import AlertFactory, BacklinkFactory, CampaignFactory


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` in JSON Schema's words, refs into $defs."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: (
            value.replace("#/components/schemas/", "#/$defs/")
            if key == "$ref"
            else as_json_schema(value)
        )
        for key, value in node.items()
        if key != "nullable"
    }
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_documents_the_webhook_and_its_signature_headers(schema):
    post = schema["x-webhooks"]["alertDigest"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AlertWebhookPayload"}
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert {"X-Anchorage-Signature", "X-Anchorage-Timestamp"} <= headers
    assert "HMAC-SHA256" in post["description"]


@pytest.mark.django_db
@pytest.mark.parametrize("event", ["alerts.digest", "test"])
def test_a_real_payload_matches_the_documented_schema(schema, event):
    campaign = CampaignFactory()
    channel = AlertChannel.objects.create(
        campaign=campaign, kind=ChannelKind.WEBHOOK, name="Hook", url="https://r.example/"
    )
    if event == "test":
        delivery = Delivery.objects.create(channel=channel, event="test")
    else:
        AlertFactory(campaign=campaign, backlink=BacklinkFactory(campaign=campaign))
        AlertFactory(campaign=campaign, backlink=None, kind="unreachable")
        services.send_alert_digests()
        delivery = Delivery.objects.get(channel=channel)
    payload = json.loads(json.dumps(services.payload_of(delivery)))
    definitions = as_json_schema(schema["components"]["schemas"])
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/AlertWebhookPayload", "$defs": definitions},
        format_checker=jsonschema.FormatChecker(),
    )
    validator.validate(payload)
    assert payload["event"] == event
    # The schema is strict enough to fail: a wrong kind is refused.
    if payload["alerts"]:
        payload["alerts"][0]["kind"] = "exploded"
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(payload)
