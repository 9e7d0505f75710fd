from __future__ import annotations

from django.conf import settings as django_settings

from tests.support.processes import environment, run_python


def test_the_user_agent_names_this_page():
    assert f"{django_settings.SITE_URL}/about/bot;" in django_settings.VERIFIER_USER_AGENT


def test_anyone_can_read_what_the_bot_is_and_how_it_behaves(client, db, settings):
    settings.BOT_CONTACT_EMAIL = "webmaster@agency.example"
    settings.VERIFIER_PER_HOST_LIMIT = 3
    settings.VERIFIER_USER_AGENT = "AnchorageBot/0.1 (+https://links.agency.example/about/bot)"
    response = client.get("/about/bot")
    assert response.status_code == 200
    page = response.content.decode()
    assert "AnchorageBot/0.1 (+https://links.agency.example/about/bot)" in page
    assert "backlink monitor" in page
    assert 'href="mailto:webmaster@agency.example"' in page
    assert "At most <strong>3</strong> requests at a time to one host" in page
    # The robots.txt group it obeys, and the rule a site owner can copy.
    assert "<code>AnchorageBot</code>" in page
    assert "User-agent: AnchorageBot\nDisallow: /" in page
    # Nothing inline for the Content-Security-Policy to refuse.
    assert "<script>" not in page
    assert "style=" not in page


def test_the_contact_defaults_to_the_address_mail_is_sent_from():
    env = environment(
        {"DEFAULT_FROM_EMAIL": "Link team <links@agency.example>", "BOT_CONTACT_EMAIL": None}
    )
    done = run_python(
        "-c",
        "import django; django.setup(); "
        "from django.conf import settings; print(settings.BOT_CONTACT_EMAIL)",
        env=env,
    )
    assert done.stdout.strip() == "links@agency.example"
