"""Fixtures of the API tests: a household in ODRA with ready accounts and tokens."""

from dataclasses import dataclass, field
from datetime import date

import pytest
from django.test import Client

from ebok.accounts import services
from tenants.middleware import forget_cached_hosts
from tests.support import data

# Throttling has its own tests; everywhere else it must not get in the way.
GENEROUS_RATES = {"ip": "100000/min", "token": "100000/min", "login": "100000/min"}


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": GENEROUS_RATES}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is what production uses (and the live-server tests); here it would only
    # make every account of every fixture slow to create.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_host_cache():
    # A cooperative changed by a test (then rolled back) must not outlive it in the cache.
    forget_cached_hosts()
    yield
    forget_cached_hosts()


@dataclass
class Api:
    """A client of one cooperative's host that speaks JSON with a bearer token."""

    host: str
    token: str | None = None
    client: Client = field(init=False)

    def __post_init__(self):
        self.client = Client(HTTP_HOST=self.host)

    def _headers(self, token, headers):
        token = self.token if token is None else token
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return {**extra, **headers}

    def get(self, path, params=None, *, token=None, **headers):
        return self.client.get(f"/api/v1/{path}", params or {}, **self._headers(token, headers))

    def post(self, path, body=None, *, token=None, **headers):
        return self.client.post(
            f"/api/v1/{path}",
            body if body is not None else {},
            content_type="application/json",
            **self._headers(token, headers),
        )

    def delete(self, path, *, token=None, **headers):
        return self.client.delete(f"/api/v1/{path}", **self._headers(token, headers))

    def as_(self, token) -> "Api":
        return Api(self.host, token)


def token_for(user) -> str:
    return services.issue_api_token(user)[0]


def error_of(response) -> dict:
    """The error body, after checking it has the API's one shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture
def odra_api(odra) -> Api:
    return Api("odra.localhost")


@pytest.fixture
def warta_api(warta) -> Api:
    return Api("warta.localhost")


@pytest.fixture
def household(odra, in_schema):
    """ODRA: Kowalska holds M1 (with Kowalski) and garage G1; Nowak holds M2 and
    held M3 until 2024. Ready resident accounts, staff of every role, tokens."""
    with in_schema(odra):
        h = data.household()
        m1, m2, m3 = h["m1"], h["m2"], h["m3"]
        data.add_ledger(m1, "Z1", date(2026, 1, 1), kind="BO", debit="100.00")
        data.add_ledger(
            m1, "Z2", date(2026, 1, 10), component="EKSPL", debit="155.20", due_on=date(2026, 1, 15)
        )
        data.add_ledger(m1, "Z3", date(2026, 1, 20), kind="WPL", credit="100.00")
        data.add_ledger(m2, "Z4", date(2026, 1, 10), debit="20.00")
        data.add_ledger(m3, "Z5", date(2024, 1, 10), debit="10.00")
        data.add_charge(m1, "EKSPL", "Eksploatacja", "48.50", "3.20", "155.20")
        data.add_charge(m2, "REM", "Fundusz remontowy", "48.50", "1.00", "48.50")
        data.add_parameter(m1, "OSOBY", "Liczba osób", "3", "os.")
        data.add_parameter(m2, "OSOBY", "Liczba osób", "1", "os.")
        data.add_reading(m1, "ZW-1", date(2026, 6, 30), "12.345")
        data.add_reading(m2, "ZW-2", date(2026, 6, 30), "99.000")
        h["doc_m1"] = data.add_document("D1", premises=m1, title="Zawiadomienie M1")
        h["doc_m2"] = data.add_document("D2", premises=m2, title="Zawiadomienie M2")
        h["doc_m3"] = data.add_document("D3", premises=m3, title="Zawiadomienie M3")
        h["doc_all"] = data.add_document("D4", kind="UCH", title="Uchwała", content=b"%PDF-1.4 u")
        data.mark_fresh()
        h["anna"] = data.make_resident(h["kowalska"])
        h["piotr"] = data.make_resident(h["nowak"])
        h["admin"] = data.make_staff("admin", role="admin")
        h["operator"] = data.make_staff("operator", role="operator")
        h["viewer"] = data.make_staff("viewer", role="viewer")
        for name in ("anna", "piotr", "admin", "operator", "viewer"):
            h[f"{name}_token"] = token_for(h[name])
    return h
