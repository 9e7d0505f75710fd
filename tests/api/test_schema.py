"""The OpenAPI schema is valid and served, and the docs load nothing from a CDN.

(A schemathesis run against the live server stood here and never made a
request: Hypothesis refused its test function, and the error was suppressed.
Made to run, it did not finish in 400 s; issue 15 keeps it as open work.)"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    # --fail-on-warn: an unresolved type or enum collision fails here, not in a client.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null", stdout=out)


@pytest.mark.django_db
def test_the_schema_is_served_to_anyone_and_the_docs_use_no_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/prospects/{id}/status/" in schema.content
    assert b"bearerAuth" in schema.content
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui-bundle" in docs
    assert "cdn" not in docs.lower()
    assert "<style" not in docs
    assert "<script>" not in docs
