"""The API docs page (Swagger UI from the vendored sidecar files) renders the
schema in Chromium without one Content-Security-Policy violation, and the
token page creates a token, both under the project's policy (the ``page``
fixture fails a test whose pages report a violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_the_schema_under_the_policy(page, login, transactional_db):
    login(UserFactory(username="reader"))
    page.goto("/api/v1/docs/")
    expect(page.get_by_role("heading", name="Anchorage API").first).to_be_visible()
    # The operations were read from the schema: the start-up script (a separate
    # file, not inline) ran and fetched it.
    expect(page.get_by_role("button", name="GET /api/v1/alerts/").first).to_be_visible()
    expect(page.locator("#operations-tag-prospects")).to_be_visible()


def test_the_token_page_shows_a_new_token_once_under_the_policy(page, login, transactional_db):
    login(UserFactory(username="scripter"))
    page.goto("/accounts/tokens/")
    page.get_by_label("Name").fill("weekly report")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("anc_")
    expect(page.get_by_role("cell", name="weekly report")).to_be_visible()
