""" "Sync now" end to end: a staff administrator presses the button in Chromium,
a real Celery worker applies the package waiting in the zsi-file inbox, and the
panel shows the live progress, then the outcome with its counts."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from connectors.services import configure_connector, open_apply_connection
from connectors.zsi.generator import generate_full
from ebok.models import Premises
from tenants.services import onboard_cooperative
from tests.support.browser import chromium, staff_logs_in
from tests.support.data import RESIDENT_PASSWORD, make_staff
from tests.support.processes import celery_worker, web_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

CODE = "E2ESYNC"
ADMIN_LOGIN = "sync.admin"
PREMISES = 12


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """A cooperative of its own whose zsi-file inbox holds one package, an
    administrator, all committed; served by gunicorn, synced by a Celery worker."""
    folder = tmp_path_factory.mktemp("zsi")
    inbox = folder / "inbox"
    inbox.mkdir()
    generate_full(inbox / "paczka-1.zip", premises=PREMISES, years=1, seed=11, code=CODE)
    with django_db_blocker.unblock():
        cooperative = onboard_cooperative(code=CODE, name="Spółdzielnia Mieszkaniowa „Synchro”")
        with schema_context(cooperative.schema_name):
            make_staff(ADMIN_LOGIN, role="admin")
        # Scheduled syncs off: only the button starts one (beat of other tests must not).
        _row, check = configure_connector(
            cooperative, connector="zsi-file", config={"inbox": str(inbox)}, enabled=False
        )
        assert check.ok, check.message
        connection.set_schema_to_public()
    with web_server() as port, celery_worker("sync-browser-worker"):
        yield {
            "cooperative": cooperative,
            "base": f"http://{CODE.lower()}.localhost:{port}",
            "archive": folder / "archive",
        }


@contextmanager
def apply_held(schema: str):
    """Keeps the sync's write of premises waiting on a lock held here, so the page's
    live progress is seen while the sync runs, however fast the machine is."""
    conn = open_apply_connection(schema)
    try:
        with conn.transaction():
            conn.execute(f'LOCK TABLE "{schema}".ebok_premises IN ACCESS EXCLUSIVE MODE')
            yield
    finally:
        conn.close()


def progress_text(page) -> str:
    return page.inner_text("#sync-progress")


def test_sync_now_shows_live_progress_then_the_applied_outcome(db, site):
    # ``db`` also makes pytest-django create the test database when this module runs alone;
    # the test writes nothing, and reads what the worker committed only after the browser.
    cooperative = site["cooperative"]
    with chromium() as browser:
        page = browser.new_context(locale="pl-PL").new_page()
        staff_logs_in(page, site["base"], ADMIN_LOGIN, RESIDENT_PASSWORD)
        page.goto(f"{site['base']}/panel/sync/")
        assert page.locator("table.list").count() == 0  # no sync has run yet

        with apply_held(cooperative.schema_name):
            page.click("#sync-now button")
            page.wait_for_url(re.compile(r"/panel/sync/\?since=\d+"))
            # The worker took the package and is applying it: the page says so, live.
            page.wait_for_selector("#sync-progress[data-state=running]", timeout=30_000)
            # A locator assertion, not wait_for_function: the CSP forbids eval'd predicates.
            expect(page.locator("#sync-progress")).to_contain_text("wiersze:", timeout=30_000)
            running = progress_text(page)
            assert running.startswith("Synchronizacja trwa:"), running
            assert re.fullmatch(r"Synchronizacja trwa: zapis danych · wiersze: \d+", running), (
                running
            )

        page.wait_for_selector("#sync-progress[data-state=finished]", timeout=60_000)
        assert page.get_attribute("#sync-progress", "data-outcome") == "applied"
        assert progress_text(page) == "Synchronizacja zakończona: wczytana"

        # Then the list of runs comes back with this one, its package and its counts.
        page.wait_for_url(re.compile(r"/panel/sync/$"))
        row = page.locator("table.list tbody tr").first
        cells = row.locator("td")
        assert cells.nth(1).inner_text() == "ręcznie"
        assert cells.nth(2).inner_text() == "wczytana"
        assert cells.nth(3).inner_text() == "1"
        counts = cells.nth(5).inner_text()
        assert f"LOKALE.CSV: {PREMISES}" in counts and "ROZRACHUNKI.CSV: " in counts
        assert "timings" not in counts  # the import's own diagnostics stay out of the list
        assert cells.nth(7).inner_text() == "0"

    with schema_context(cooperative.schema_name):
        assert Premises.objects.count() == PREMISES
    assert [p.name for p in site["archive"].iterdir()] == ["paczka-1.zip"]
