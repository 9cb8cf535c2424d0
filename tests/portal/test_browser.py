"""A resident's journeys in the system Chromium against a real gunicorn, with
data committed in a cooperative of their own (E2EPORTAL)."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.services import onboard_cooperative
from tests.portal.conftest import fill_premises
from tests.support import data
from tests.support.browser import chromium
from tests.support.processes import ROOT, web_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

ARTIFACTS = ROOT / "var" / "test-artifacts"
FIRST_LOGIN = "nowicka.e2e"
READY = "kowalska.e2e"
NEW_PASSWORD = "Bursztynowe-korale-nad-Bałtykiem"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The cooperative and the id of the ready resident's flat."""
    with django_db_blocker.unblock():
        coop = onboard_cooperative(
            code="E2EPORTAL",
            name="Spółdzielnia Mieszkaniowa „Przeglądarka”",
            contact_room="pok. 12",
            contact_address="ul. Testowa 5, 55-200 Oława",
            contact_phone="71 000 11 22",
            contact_email="czynsze@e2e.example",
            contact_hours="pon.–pt. 7:30–15:30",
            rules_text="§1. Hasło zna tylko właściciel konta.\n§2. Dane są informacyjne.",
        )
        with schema_context(coop.schema_name):
            people = data.household()
            data.mark_fresh()
            for key in ("m1", "g1", "m2"):
                fill_premises(people[key], key.upper(), months=6)
            data.add_document(
                "E2E-M1",
                premises=people["m1"],
                title="Zawiadomienie o opłatach 2026",
                content=b"%PDF-1.4\n%e2e fee notice\n",
            )
            data.add_document("E2E-M2", premises=people["m2"], title="Dokument sąsiada")
            data.add_document(
                "E2E-ALL", kind="UCH", title="Uchwała nr 7/2026", issued_on=date(2026, 6, 1)
            )
            data.make_resident(people["kowalska"], login=READY)
            data.make_resident(people["nowak"], login=FIRST_LOGIN, ready=False)
        connection.set_schema_to_public()
    yield {"cooperative": coop, "m1": people["m1"].pk}
    with django_db_blocker.unblock():
        coop.delete(force_drop=True)
        connection.set_schema_to_public()


@pytest.fixture(scope="module")
def base_url(site):
    with web_server() as port:
        yield f"http://e2eportal.localhost:{port}"


@pytest.fixture(scope="module")
def browser(base_url):
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, accept_downloads=True, locale="pl-PL")
    opened = context.new_page()
    opened.csp_errors = []
    opened.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and opened.csp_errors.append(message.text)
        ),
    )
    yield opened
    assert opened.csp_errors == []  # no inline script or style anywhere
    context.close()


def log_in(page, login=READY, password=data.RESIDENT_PASSWORD):
    page.goto("/login/")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_load_state()


def test_the_journeys_data_is_committed_for_the_server(db, site):
    """Also makes pytest-django create the test database when only this module runs."""
    from ebok.models import Premises

    with schema_context(site["cooperative"].schema_name):
        assert Premises.objects.filter(pk=site["m1"], account_number="K00001").exists()


def test_first_login_forces_password_change_then_rules_then_dashboard(page):
    log_in(page, FIRST_LOGIN)
    assert page.url.endswith("/haslo/")
    assert page.get_by_text("Pierwsze logowanie").is_visible()
    page.get_by_label("Obecne hasło").fill(data.RESIDENT_PASSWORD)
    page.get_by_label("Nowe hasło", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Powtórz nowe hasło").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Zmień hasło").click()

    page.wait_for_url("**/regulamin/")
    assert page.get_by_text("§1. Hasło zna tylko właściciel konta.").is_visible()
    page.goto("/dokumenty/")  # nothing else until the rules are accepted
    assert page.url.endswith("/regulamin/")
    page.get_by_label("Zapoznałem/am się z regulaminem i akceptuję go.").check()
    page.get_by_role("button", name="Akceptuję i przechodzę dalej").click()

    page.wait_for_url(lambda url: url.endswith(":" + url.split(":")[-1].split("/")[0] + "/"))
    assert page.get_by_role("heading", name="Moje lokale", level=1).is_visible()
    assert page.get_by_text("Nadpłata").is_visible()  # Nowak's flat M2 is overpaid
    assert page.get_by_text("K00002").is_visible()


def test_ledger_filter_and_csv_download(page):
    log_in(page)
    flat = page.locator(".card").filter(has_text="K00001")
    flat.get_by_role("link", name="Rozrachunki").click()
    page.wait_for_url("**/rozrachunki/")
    page.get_by_label("Okres", exact=True).select_option("all")
    page.get_by_label("Wpłata").check()
    page.get_by_role("button", name="Pokaż").click()
    page.wait_for_url("**kind=WPL**")
    kinds = page.locator("table.ledger tbody td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"Wpłata"}

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Pobierz CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("rozrachunki-K00001-")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][1] == "Rodzaj"
    assert {row[1] for row in rows[1:-1]} == {"Wpłata"}
    assert rows[1][5] == "250,00"


def test_document_download(page):
    log_in(page)
    page.get_by_role("navigation", name="Menu główne").get_by_role("link", name="Dokumenty").click()
    page.wait_for_url("**/dokumenty/")
    assert page.get_by_text("Dokument sąsiada").count() == 0
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Zawiadomienie o opłatach 2026").click()
    download = download_info.value
    assert download.suggested_filename == "E2E-M1.pdf"
    assert Path(download.path()).read_bytes() == b"%PDF-1.4\n%e2e fee notice\n"


def test_logout(page):
    log_in(page)
    assert page.get_by_role("heading", name="Moje lokale", level=1).is_visible()
    page.get_by_role("button", name="Wyloguj").click()
    page.wait_for_url("**/login/")
    assert page.get_by_text("Wylogowano.").is_visible()
    page.goto("/")
    assert "/login/" in page.url


def test_dashboard_on_a_360_px_phone(page):
    page.set_viewport_size({"width": 360, "height": 780})
    log_in(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    flat = page.locator(".card").filter(has_text="K00001")
    copy = flat.get_by_role("button", name="Kopiuj numer rachunku")
    assert copy.is_visible()  # revealed by the script
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-360px.png"), full_page=True)
    assert (ARTIFACTS / "dashboard-360px.png").stat().st_size > 10_000
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    expect(flat.get_by_text("Skopiowano numer rachunku")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == data.nrb_for(1)


def test_keyboard_reaches_the_skip_link_first_with_a_visible_focus(page):
    log_in(page)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    assert page.locator(".skip").bounding_box()["y"] >= 0  # moved into view


@pytest.mark.parametrize(
    "path", ["/login/", "/", "/lokale/{m1}/rozrachunki/?period=all", "/dokumenty/", "/kontakt/"]
)
def test_pages_have_no_axe_violations(page, site, path):
    if path != "/login/":
        log_in(page)
    page.goto(path.format(m1=site["m1"]))
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        results = Axe().run(page)
        violations = [
            (v["id"], [node["target"] for node in v["nodes"]])
            for v in results.response["violations"]
        ]
        assert violations == [], (path, width, violations)
