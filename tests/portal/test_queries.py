"""Each portal page runs the same number of SQL queries whether the resident has
one premises with a few entries or three premises with ten years of ledger."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ebok.models import Document
from tests.portal.conftest import logged_in
from tests.portal.history import add_history
from tests.support import data

TODAY = date(2026, 11, 24)


@pytest.fixture
def small_and_large(odra, in_schema, fast_hashing):
    with in_schema(odra):
        data.mark_fresh()
        small_person = data.make_person("Q1", "Mała")
        small = data.make_premises("QL1", number=501)
        data.give_title(small_person, small)
        data.set_balance(small, "10.00")
        # Enough years for every period asked below to have rows: an empty page
        # rightly skips the query of its rows.
        add_history(small, years=7, end=TODAY, documents=1)

        large_person = data.make_person("Q2", "Duża")
        large = []
        for number in (502, 503, 504):
            premises = data.make_premises(f"QL{number}", number=number)
            data.give_title(large_person, premises)
            data.set_balance(premises, "250.00")
            add_history(premises, years=10, end=TODAY, documents=30)
            large.append(premises)
        Document.objects.create(
            source_id="Q-ALL",
            kind="UCH",
            title="Uchwała",
            issued_on=TODAY,
            file_name="u.pdf",
            sha256="0" * 64,
            stored_path="documents/q-all.pdf",
        )
        users = (data.make_resident(small_person), data.make_resident(large_person))
    return {"small": (users[0], small), "large": (users[1], large[0])}


def pages(premises_id):
    per_premises = ["ledger", "charges", "parameters", "charts"]
    return (
        [reverse(f"portal:{name}") for name in ("dashboard", "documents", "account")]
        + [reverse(f"portal:{name}", args=[premises_id]) for name in per_premises]
        + [
            reverse("portal:ledger", args=[premises_id]) + "?period=all&page=3",
            reverse("portal:ledger", args=[premises_id]) + "?period=custom&date_from=2020-01-01"
            "&date_to=2024-12-31&kind=NAL&kind=WPL",
            reverse("portal:ledger_csv", args=[premises_id]) + "?period=last_year",
        ]
    )


def test_every_page_runs_as_many_queries_for_many_premises_and_rows_as_for_one(
    odra, small_and_large, django_assert_max_num_queries
):
    small_user, small_premises = small_and_large["small"]
    large_user, large_premises = small_and_large["large"]
    small_client, large_client = logged_in(odra, small_user), logged_in(odra, large_user)
    for client in (small_client, large_client):
        assert client.get("/").status_code == 200  # the session's first touch is written once

    for small_url, large_url in zip(
        pages(small_premises.pk), pages(large_premises.pk), strict=True
    ):
        with CaptureQueriesContext(connection) as small_queries:
            assert small_client.get(small_url).status_code == 200, small_url
        with django_assert_max_num_queries(len(small_queries)):
            response = large_client.get(large_url)
        assert response.status_code == 200, large_url
        print(small_url, len(small_queries))
        [print("   ", q["sql"][:150]) for q in small_queries]

    dashboard = large_client.get("/").content.decode()
    assert dashboard.count('class="card"') == 3


def explain(queryset) -> str:
    """The plan with sequential scans priced out: shows which index can serve it."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    try:
        return queryset.explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")


def test_portal_reads_are_served_by_indexes(odra, in_schema, small_and_large):
    from ebok import selectors

    user, premises = small_and_large["large"]
    with in_schema(odra):
        entries = selectors.ledger(premises, date_from=date(2020, 1, 1), date_to=date(2020, 12, 31))
        plans = {
            "ledger": explain(entries),
            "totals": explain(entries.order_by().values("premises_id")),
            "premises": explain(selectors.current_premises(user)),
            "documents": explain(selectors.documents(user)),
        }
    assert "ledger_premises_posted" in plans["ledger"]
    assert "Seq Scan on ebok_ledger_entry" not in plans["totals"]
    for name, plan in plans.items():
        assert "Seq Scan" not in plan, (name, plan)
