"""The password tools (strength meter, "show password"), the wiping of client data at
logout and the people search without names in URLs, in the system Chromium against a
real gunicorn (ASVS 2.1.8, 2.1.12, 8.2.3, 8.3.1; docs/decisions/0720-…)."""

import re
from urllib.parse import unquote

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.services import onboard_cooperative
from tests.support import data
from tests.support.browser import chromium, staff_logs_in
from tests.support.processes import web_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

CODE = "E2EPWUI"
RESIDENT = "kowalska.pwui"
STAFF = "admin.pwui"
SHORT = "krótkie1"
PASSPHRASE = "Zielony rower stoi pod starą lipą"
SURNAME = "Wiśniewska"  # 30 people of that name: two pages of search results


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        cooperative = onboard_cooperative(
            code=CODE,
            name="Spółdzielnia Mieszkaniowa „Hasło”",
            contact_room="pok. 1",
            contact_address="ul. Testowa 1, 55-200 Oława",
            contact_phone="71 000 00 00",
            rules_text="Regulamin.",
        )
        with schema_context(cooperative.schema_name):
            people = data.household()
            data.mark_fresh()
            data.make_resident(people["kowalska"], login=RESIDENT)
            data.make_staff(STAFF, role="admin")
            for number in range(30):
                data.make_person(f"W{number:02}", SURNAME, f"Ewa {number:02}")
        connection.set_schema_to_public()
    with web_server() as port:
        yield {
            "base": f"http://{CODE.lower()}.localhost:{port}",
            "apex": f"http://localhost:{port}",
        }
    with django_db_blocker.unblock():
        cooperative.delete(force_drop=True)
        connection.set_schema_to_public()


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as launched:
        yield launched


def _watched_page(context):
    opened = context.new_page()
    opened.csp_errors = []
    opened.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and opened.csp_errors.append(message.text)
        ),
    )
    return opened


@pytest.fixture
def page(browser, site):
    """English, so that visible texts are the msgids before and after translation."""
    context = browser.new_context(base_url=site["base"], locale="en-GB")
    opened = _watched_page(context)
    yield opened
    assert opened.csp_errors == []  # the scripts load under the strict CSP
    context.close()


@pytest.fixture(scope="module")
def staff_page(browser, site):
    """One staff login for the module: the first one sets up the second factor."""
    context = browser.new_context(base_url=site["base"], locale="en-GB")
    opened = _watched_page(context)
    staff_logs_in(opened, site["base"], STAFF, data.RESIDENT_PASSWORD)
    yield opened
    assert opened.csp_errors == []
    context.close()


def resident_logs_in(page):
    page.goto("/login/")
    page.fill("input[name=username]", RESIDENT)
    page.fill("input[name=password]", data.RESIDENT_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def assert_no_axe_violations(page, where):
    violations = [
        (v["id"], [node["target"] for node in v["nodes"]])
        for v in Axe().run(page).response["violations"]
    ]
    assert violations == [], (where, violations)


def test_the_sites_data_is_committed_for_the_server(db, site):
    """Also makes pytest-django create the test database when only this module runs."""
    from ebok.accounts.models import User

    with schema_context(CODE.lower()):
        assert User.objects.filter(login__in=[RESIDENT, STAFF]).count() == 2


def test_a_short_password_is_weak_in_the_servers_words_and_a_passphrase_strong(page):
    resident_logs_in(page)
    page.goto("/haslo/")
    new = page.locator("#id_new")
    meter = page.locator(".password-strength")
    assert meter.count() == 1  # under the new password only, not under "again"

    new.fill(SHORT)
    expect(meter).to_have_attribute("data-score", re.compile("^[01]$"))
    hint = page.locator(".password-strength-hint")
    expect(hint).to_have_text("This password is too short. It must contain at least 12 characters.")
    shown = hint.inner_text()
    assert page.locator(".password-strength-level").inner_text().startswith("Password strength:")
    assert "_strength" in new.get_attribute("aria-describedby")

    # The same words as the server's refusal of that password.
    page.fill("#id_current", data.RESIDENT_PASSWORD)
    page.fill("#id_confirm", SHORT)
    page.get_by_role("button", name="Change password", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#id_new_errors li").first.inner_text() == shown

    page.locator("#id_new").fill(PASSPHRASE)
    expect(page.locator(".password-strength")).to_have_attribute("data-score", re.compile("^[34]$"))
    expect(page.locator(".password-strength-hint")).to_have_text("")
    expect(page.locator(".password-strength-level")).to_have_text(
        re.compile(r"^Password strength: (Strong|Very strong)\.$")
    )


def test_show_password_toggles_by_mouse_and_keyboard_and_hides_again_on_submit(page):
    page.goto("/login/")
    field = page.locator("#id_password")
    toggle = page.get_by_role("button", name="Show password")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert toggle.get_attribute("aria-controls") == "id_password"
    field.fill("sekretne-hasło")

    toggle.click()
    expect(field).to_have_attribute("type", "text")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert field.input_value() == "sekretne-hasło"

    toggle.focus()
    page.keyboard.press("Space")
    expect(field).to_have_attribute("type", "password")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Enter")
    expect(field).to_have_attribute("type", "text")

    # Sending the form masks the field first (the test keeps the page from leaving).
    page.locator("main form").evaluate(
        "form => form.addEventListener('submit', e => e.preventDefault())"
    )
    page.locator("main form button[type=submit]").click()
    expect(field).to_have_attribute("type", "password")
    expect(toggle).to_have_attribute("aria-pressed", "false")


@pytest.mark.parametrize(
    ("where", "path", "meters"),
    [
        ("portal login", "/login/", 0),
        ("panel login", "/panel/login/", 0),
        ("operator console login", "{apex}/login/", 0),
    ],
)
def test_every_login_page_has_a_toggle_per_password_field_and_no_axe_violations(
    page, site, where, path, meters
):
    page.goto(path.format(apex=site["apex"]))
    fields = page.locator("input[type=password]").count()
    assert fields == 1
    assert page.locator("button.password-toggle[aria-pressed=false]").count() == fields
    assert page.locator(".password-strength").count() == meters
    assert_no_axe_violations(page, where)


def test_the_portal_password_page_passes_axe_with_the_meter_showing(page):
    resident_logs_in(page)
    page.goto("/haslo/")
    assert page.locator("button.password-toggle").count() == 3
    page.locator("#id_new").fill(SHORT)
    expect(page.locator(".password-strength")).to_have_attribute("data-score", re.compile("."))
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        assert_no_axe_violations(page, f"portal password page at {width}px")


def test_the_panel_password_page_has_the_meter_and_toggles_and_passes_axe(staff_page):
    staff_page.goto("/panel/password/")
    assert staff_page.locator("button.password-toggle").count() == 3
    staff_page.locator("#id_new").fill(PASSPHRASE)
    expect(staff_page.locator(".password-strength")).to_have_attribute(
        "data-score", re.compile("^[34]$")
    )
    assert_no_axe_violations(staff_page, "panel password page")


def test_people_search_pages_and_goes_back_without_a_name_in_any_url(staff_page):
    staff_page.goto("/panel/people/")
    staff_page.fill("#id_q", SURNAME)
    staff_page.get_by_role("button", name="Search").click()
    staff_page.wait_for_url(re.compile(r"/panel/people/\?search="))
    first = staff_page.url
    expect(staff_page.locator("table.list tbody tr")).to_have_count(25)
    assert staff_page.input_value("#id_q") == SURNAME  # the form still shows what was asked

    staff_page.get_by_role("link", name="Next").click()
    staff_page.wait_for_url(re.compile(r"page=2"))
    expect(staff_page.locator("table.list tbody tr")).to_have_count(5)
    staff_page.go_back()
    assert staff_page.url == first
    expect(staff_page.locator("table.list tbody tr")).to_have_count(25)

    staff_page.locator("table.list a").first.click()
    staff_page.wait_for_url(re.compile(r"/panel/people/W\d\d/$"))
    staff_page.go_back()
    expect(staff_page.locator("table.list tbody tr")).to_have_count(25)

    for url in (first, staff_page.url):
        assert SURNAME not in unquote(url) and "q=" not in url
    for href in staff_page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
        assert SURNAME not in href and "q=" not in href


def test_the_audit_log_filters_by_login_exports_and_goes_back_without_it_in_any_url(staff_page):
    staff_page.goto("/panel/audit/")
    staff_page.fill("#id_login", STAFF)
    staff_page.get_by_role("button", name="Filter").click()  # a POST with its CSRF token
    staff_page.wait_for_url(re.compile(r"/panel/audit/\?search=[\w-]+$"))
    filtered = staff_page.url
    rows = staff_page.locator("table.list tbody tr")
    expect(rows.first).to_be_visible()
    for row in rows.all_inner_texts():
        assert STAFF in row

    with staff_page.expect_download() as download:
        staff_page.get_by_role("link", name="Export CSV").click()
    assert STAFF not in download.value.url and "search=" in download.value.url
    exported = download.value.path().read_text(encoding="utf-8-sig").splitlines()[1:]
    assert exported and all(STAFF in line for line in exported)

    staff_page.goto("/panel/sync/")
    staff_page.go_back()
    assert staff_page.url == filtered
    assert staff_page.input_value("#id_login") == STAFF
    for href in staff_page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
        assert STAFF not in unquote(href) and "login=" not in href


def test_logout_wipes_the_sites_storage_and_cookies_in_the_browser(page, site):
    resident_logs_in(page)
    page.evaluate("localStorage.setItem('left-behind', 'data')")
    assert page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert page.evaluate("localStorage.getItem('left-behind')") is None
    names = {c["name"] for c in page.context.cookies()}
    # The session's cookie is gone; the device cookie stays (decision 0730).
    assert "sessionid" not in names and "ebok_device" in names
