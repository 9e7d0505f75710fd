from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.models import User
from tests.factories import PASSWORD


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    member = User.objects.get(username="member")
    member.set_password(PASSWORD)
    member.save()
    return member


def test_member_logs_in_and_opens_the_demo_campaign(page, login, demo):
    login(demo)
    # Members land on their day; the campaigns are one click away in the nav.
    expect(page.get_by_role("heading", name="My day")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    page.get_by_role("link", name="Acme running shoes").click()
    expect(page.get_by_role("heading", name="Acme running shoes")).to_be_visible()
    status_table = page.locator("#prospect-status-counts")
    expect(status_table).to_contain_text("Won")
    total = sum(
        int(cell.replace(",", "")) for cell in status_table.locator("td.num").all_inner_texts()
    )
    assert total == 300


def test_wrong_password_shows_an_error(page, demo):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("member")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
