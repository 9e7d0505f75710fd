"""Browser tests: headless Debian Chromium driven by Playwright, against
pytest-django's live server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread, which trips
# Django's guard against ORM calls from async code; the calls are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium calls home at start-up and the closed network
    # refuses it, slowly.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _static_files_from_the_finders(settings):
    # pytest-django's live server answers /static/ with staticfiles' finders,
    # which know app.css but not the hashed app.1f1b….css that the manifest
    # storage puts in the page: without this, browser tests run without CSS and
    # without htmx. Plain names keep the finders and the page in agreement.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Runs in every document before its own scripts (injected by the browser's
# debugging protocol, so the page's Content-Security-Policy does not stop it),
# and reports each violation of that policy to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation({
    page: document.location.pathname,
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


@pytest.fixture
def csp_violations() -> list[dict]:
    """Every Content-Security-Policy violation any page of the test reported."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)

    def report(violation: dict) -> None:
        csp_violations.append(violation)

    context.expose_function("__reportCspViolation", report)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    yield page
    # A round trip, so a report the page sent last has arrived.
    if not page.is_closed():
        page.evaluate("1")
    context.close()
    assert not csp_violations, f"the page broke its Content-Security-Policy: {csp_violations}"


@pytest.fixture
def login(page):
    """Log in through the real form, as a person would."""
    from tests.factories import PASSWORD

    def do_login(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return do_login
