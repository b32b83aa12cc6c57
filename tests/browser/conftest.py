"""A real Chromium (Debian's) driven by Playwright against pytest-django's live server.

Where no Chromium exists the browser tests are skipped with a clear reason;
with ENMIENDA_REQUIRE_BROWSER=1 (set by CI) a missing browser is a failure.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage"]


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM)


@pytest.fixture(scope="session")
def _playwright_browser():
    if not _browser_available():
        if os.environ.get("ENMIENDA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required here but not found at {CHROMIUM}")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser):
    context = _playwright_browser.new_context(locale="es-CO", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def login(page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
