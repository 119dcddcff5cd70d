"""Browser tests drive Debian's chromium through Playwright against pytest-django's live server.

Never `playwright install`: the browser is the system's (`apt-get install chromium`). Without
it the tests are skipped with a visible reason, except under CI=true where that is a failure.
"""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import PASSWORD, require

# Playwright's sync API runs an event loop in the test thread, and the live server shares this
# process: Django would otherwise refuse the ORM calls the test itself makes.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium")
    require(executable is not None, "Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _logins_unlimited(settings):
    """Every browser test logs in from 127.0.0.1: within a minute they would pass the login
    limit meant for one person (tests/prospects/test_login_limits.py tests the limit itself)."""
    settings.SOURCIER_LOGIN_RATE = "10000/m"


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files go to a throw-away directory (the live server runs in this process)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def log_in(page):
    """Log in through the real login page, as a person would."""

    def log_in_as(username: str, password: str = PASSWORD):
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        return page

    return log_in_as
