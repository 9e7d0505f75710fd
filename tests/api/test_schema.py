"""The OpenAPI schema is valid, and the live API keeps to it: schemathesis
against pytest-django's live server, a bounded number of examples per
operation, no 5xx and every response matching the schema."""

from __future__ import annotations

import contextlib
import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from api import tokens
from tests.factories import AlertFactory, BacklinkFactory, ProspectFactory, TargetPageFactory


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


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(
    live_server, member, campaign, queue, settings
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    TargetPageFactory(campaign=campaign)
    prospect = ProspectFactory(campaign=campaign)
    backlink = BacklinkFactory(campaign=campaign, prospect=prospect)
    AlertFactory(campaign=campaign, backlink=backlink)
    member.role = "admin"  # every operation reachable, writes included
    member.save()
    _, text = tokens.issue_token(member, name="schemathesis")

    # The address, not the name: the suite looks up no names at all.
    base = live_server.url.replace("localhost", "127.0.0.1")
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/schema/")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @hypothesis_settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case, operation=operation):
            response = case.call(base_url=base, headers={"Authorization": f"Bearer {text}"})
            try:
                case.validate_response(
                    response,
                    checks=(
                        schemathesis.checks.not_a_server_error,
                        schemathesis.openapi.checks.status_code_conformance,
                        schemathesis.openapi.checks.content_type_conformance,
                        schemathesis.openapi.checks.response_schema_conformance,
                    ),
                )
            except Exception as exc:  # collected, so one run reports every operation
                failures.append(f"{operation.label}: {str(exc)[:400]}")
                raise

        with contextlib.suppress(Exception):  # recorded in failures above
            run()
    assert operations >= 15
    assert failures == []
