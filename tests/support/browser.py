"""The system Chromium driven by Playwright (sync API), for browser tests."""

import re
from contextlib import contextmanager

from playwright.sync_api import sync_playwright

from tests.support import otp

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def staff_logs_in(page, base: str, login: str, password: str) -> None:
    """A staff member's first login to the panel: the password, then the mandatory
    second factor set up as a person would (the key beside the QR code)."""
    page.goto(f"{base}/panel/")
    assert "/panel/login/" in page.url
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/panel/otp/setup/"))
    page.fill("input[name=code]", otp.code_from_key(page.inner_text("#otp-secret")))
    page.click("main form button[type=submit]")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.goto(f"{base}/panel/")
    page.wait_for_url(re.compile(r"/panel/people/"))
