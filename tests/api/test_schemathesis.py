"""Schemathesis against the live test server: every operation of the served
schema gets a few generated requests (and one with the id of a real object),
made over HTTP with an admin's token; no answer may be a 5xx, and every answer
must match the schema (status code, content type, body).

Driven from Python rather than through schemathesis's pytest plugin: the
plugin's Hypothesis test cannot take pytest-django's function-scoped fixtures
(live_server, a transactional database). The number of requests per operation
is counted and asserted, so a run that makes none fails instead of passing."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi import checks as openapi_checks

from api import tokens
from tests.factories import (
    AlertFactory,
    BacklinkFactory,
    ImportJobFactory,
    ProspectFactory,
    TargetPageFactory,
)

EXAMPLES = 3  # generated per operation, on top of the one with a real id
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(
    live_server, admin_user, campaign, queue, settings
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    page = TargetPageFactory(campaign=campaign)
    prospect = ProspectFactory(campaign=campaign)
    backlink = BacklinkFactory(campaign=campaign, prospect=prospect)
    real_ids = {
        "campaigns": campaign.pk,
        "target-pages": page.pk,
        "prospects": prospect.pk,
        "backlinks": backlink.pk,
        "alerts": AlertFactory(campaign=campaign, backlink=backlink).pk,
        "imports": ImportJobFactory(campaign=campaign).pk,
    }
    _, token = tokens.issue_token(admin_user, name="schemathesis")
    headers = {"Authorization": f"Bearer {token}"}

    # The address, not the name: the suite looks up no names at all.
    base = live_server.url.replace("localhost", "127.0.0.1")
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/schema/")
    session = requests.Session()
    calls: Counter[str] = Counter()
    statuses: dict[str, Counter[int]] = {}
    failures: list[str] = []

    def call(operation, case) -> None:
        response = case.call(base_url=base, session=session, headers=headers, timeout=10)
        calls[operation.label] += 1
        statuses.setdefault(operation.label, Counter())[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # all are reported, then fail below
            failures.append(f"{operation.label} -> {response.status_code}: {str(exc)[:600]}")

    def exercise(operation) -> None:
        resource = operation.path.removeprefix("/api/v1/").split("/")[0]
        first = True

        @hypothesis_settings(
            max_examples=EXAMPLES,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are recorded
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:
            nonlocal first
            if first and "id" in (case.path_parameters or {}):
                case.path_parameters["id"] = real_ids[resource]  # one on a real object
            first = False
            call(operation, case)

        run()

    operations = [result.ok() for result in schema.get_all_operations()]
    try:
        for operation in operations:
            exercise(operation)
    finally:
        session.close()  # the live server waits for open connections when it stops

    # Every operation was exercised over HTTP, and the real-object reads succeeded.
    assert len(operations) >= 17
    assert {op.label for op in operations} == set(calls), calls
    assert min(calls.values()) >= 1
    for label in (
        "GET /api/v1/campaigns/{id}/",
        "GET /api/v1/prospects/{id}/",
        "GET /api/v1/backlinks/{id}/",
        "GET /api/v1/imports/{id}/",
    ):
        assert statuses[label][200] >= 1, (label, statuses[label])
    assert failures == [], "\n\n".join(failures)
