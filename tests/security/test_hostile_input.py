"""Hostile input on every form and API field: very long strings, NUL bytes, SQL and
template injection, invalid UTF-8, huge, negative and non-numeric numbers. Each
gets a 4xx or a form error, never a 500, and nothing is written. Also: request
body limits, and downloads served as attachments that are never sniffed."""

import json
from datetime import date
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import get_resolver

from ebok.accounts import services
from ebok.accounts.models import User
from tests.support import data, otp

BACKEND = "ebok.accounts.backends.AccountBackend"

LONG = "ż" * 100_000
NUL = "abc\x00def"
SQL = "' OR '1'='1'; DROP TABLE accounts_user; --"
TEMPLATE = "{{ settings.SECRET_KEY }}{% debug %}{{ request.user.password }}"
XSS = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
HUGE = "9" * 400
FLOATY = "1e309"
CRLF = "x\r\nSet-Cookie: pwned=1"
TRAVERSAL = "../../../../etc/passwd"
# Values a field should refuse (too long, NUL, out of range) and values it should treat
# as plain text (injections): both are sent; neither may cause a 500 or a write.
CORPUS = [LONG, NUL, SQL, TEMPLATE, XSS, HUGE, "-1", "0", "abc", FLOATY, CRLF, TRAVERSAL, ""]
PAGES = ["-1", "0", "abc", HUGE, FLOATY, "1.5", "%00", "1&page=2"]
JSON_VALUES = [*CORPUS, 10**400, -1, 1.5e308, None, [], {"$ne": 1}, ["a"] * 1000]

# Tables whose rows a refused request must leave exactly as they were.
TENANT_TABLES = ["accounts_user", "ebok_api_token", "ebok_erasure_record"]
PUBLIC_TABLES = ["tenants_cooperative", "tenants_domain"]


def snapshot(cooperative) -> dict:
    found = {}
    with connection.cursor() as cursor:
        for schema, tables in ((cooperative.schema_name, TENANT_TABLES), ("public", PUBLIC_TABLES)):
            for table in tables:
                cursor.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                    f'FROM "{schema}"."{table}" t'
                )
                found[f"{schema}.{table}"] = cursor.fetchone()[0]
    return found


def _form_error_or_refusal(response) -> bool:
    if response.status_code != 200:
        return 300 <= response.status_code < 500
    form = response.context.get("form") if response.context is not None else None
    return form is not None and form.is_bound and bool(form.errors)


def check(response, where: str, *, post: bool):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if post:
        assert _form_error_or_refusal(response), f"{where}: accepted ({response.status_code})"
    if not getattr(response, "streaming", False):
        body = response.content.decode("utf-8", "replace")
        assert "<script>alert(1)</script>" not in body, f"{where}: echoed unescaped"
        assert settings.SECRET_KEY not in body, f"{where}: rendered a template"


# --- Who sends it ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_hashing_and_rates(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    rates = {"ip": "100000/min", "token": "100000/min", "login": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    settings.AXES_ENABLED = False  # lockout has its own tests; here it would hide the forms


@pytest.fixture
def home(odra, in_schema):
    with in_schema(odra):
        h = data.household()
        data.add_ledger(h["m1"], "H1", date(2026, 1, 10), debit="10.00")
        h["doc"] = data.add_document("HD1", premises=h["m1"], title="Zawiadomienie")
        data.mark_fresh()
        h["anna"] = data.make_resident(h["kowalska"])
        h["admin"] = data.make_staff("admin.hostile", role="admin")
        h["anna_token"] = services.issue_api_token(h["anna"])[0]
        h["admin_token"] = services.issue_api_token(h["admin"])[0]
        code = otp.code_for(otp.enrol(h["admin"]))
    h["resident"] = Client(HTTP_HOST="odra.localhost")
    with in_schema(odra):
        h["resident"].force_login(h["anna"], backend=BACKEND)
        h["staff"] = Client(HTTP_HOST="odra.localhost")
        h["staff"].force_login(h["admin"], backend=BACKEND)
    otp.pass_second_factor(h["staff"], code)
    h["anonymous"] = Client(HTTP_HOST="odra.localhost")
    return h


# Every form of the tenant host: (who, path, fields). Ids are those of the household.
FORMS = [
    ("anonymous", "/login/", ["username", "password"]),
    ("anonymous", "/panel/login/", ["username", "password"]),
    ("resident", "/haslo/", ["current", "new", "confirm"]),
    ("resident", "/regulamin/", ["version", "accept"]),
    ("resident", "/konto/dwuetapowa/", ["code"]),
    ("resident", "/konto/potwierdz/", ["password", "next"]),
    ("resident", "/i18n/setlang/", ["language", "next"]),
    ("staff", "/panel/password/", ["current", "new", "confirm"]),
    ("staff", "/panel/reauth/", ["password", "code", "next"]),
    ("staff", "/panel/account/keys/register/", ["name", "credential"]),
    ("resident", "/konto/klucze/zapisz/", ["name", "credential"]),
    ("staff", "/panel/people/", ["q"]),
    ("staff", "/panel/audit/", ["login", "action", "date_from", "date_to"]),
    ("staff", "/panel/accounts/{anna}/block/", ["reason", "note"]),
    ("staff", "/panel/accounts/{anna}/erase/", ["request_date", "request_reference", "confirm"]),
    ("staff", "/panel/staff/", ["login", "display_name", "role"]),
    ("staff", "/panel/staff/{admin}/", ["role"]),
    (
        "staff",
        "/panel/settings/",
        [
            "contact_room",
            "contact_address",
            "contact_phone",
            "contact_email",
            "contact_hours",
            "rules_text",
            "accent_color",
            "remove_logo",
        ],
    ),
]
# Every filter and search (GET): (who, path, parameters).
QUERIES = [
    ("resident", "/lokale/{m1}/rozrachunki/", ["period", "date_from", "date_to", "kind", "page"]),
    ("resident", "/lokale/{m1}/rozrachunki.csv", ["period", "date_from", "date_to", "kind"]),
    ("resident", "/lokale/{m1}/rozrachunki.pdf", ["period", "date_from", "date_to", "kind"]),
    ("resident", "/lokale/{m1}/wykresy/", ["year"]),
    ("resident", "/dokumenty/", ["kind", "page"]),
    ("staff", "/panel/people/", ["search", "page"]),
    ("staff", "/panel/audit/", ["search", "page"]),
    ("staff", "/panel/audit/export.csv", ["search"]),
    ("staff", "/panel/sync/", ["since"]),
    ("staff", "/panel/sync/progress/", ["since"]),
]
# Every API body: (token, path, fields).
API_BODIES = [
    (None, "auth/token/", ["login", "password", "otp"]),
    ("anna", "me/password/", ["current", "new"]),
    ("anna", "me/rules/", ["version"]),
    ("admin", "staff/persons/O3/grant/", ["confirm_after_erasure"]),
    ("admin", "staff/persons/O1/block/", ["reason", "note"]),
    ("admin", "staff/persons/O1/erase/", ["reference", "request_date"]),
]
API_QUERIES = [
    ("anna", "premises/{m1}/ledger/", ["from", "to", "kind", "page"]),
    ("anna", "documents/", ["kind", "page"]),
    ("admin", "staff/sync-runs/", ["page"]),
]
# Searches: POSTs that only read, their words in the body, the page number in the URL.
API_SEARCHES = [("admin", "staff/persons/search/", ["q"])]
# Path segments that take any text: hostile values go there too.
TEXT_SEGMENTS = [
    ("staff", "/panel/people/{}/"),
    ("admin", "/api/v1/staff/persons/{}/"),
    ("admin", "/api/v1/staff/persons/{}/block/"),
]


def _ids(home) -> dict:
    return {"anna": home["anna"].pk, "admin": home["admin"].pk, "m1": home["m1"].pk}


def test_every_form_refuses_hostile_values(odra, home):
    before = snapshot(odra)
    for who, template, fields in FORMS:
        path = template.format(**_ids(home))
        for value in CORPUS:
            response = home[who].post(path, {field: value for field in fields})
            if path == "/i18n/setlang/":  # a redirect that sets nothing for an unknown language
                assert response.status_code == 302 and "django_language" not in response.cookies
                continue
            check(response, f"{who} POST {path} {value[:20]!r}", post=True)
    assert snapshot(odra) == before


def test_every_filter_and_page_number_survives_hostile_values(odra, home):
    before = snapshot(odra)
    for who, template, params in QUERIES:
        path = template.format(**_ids(home))
        for value in [*CORPUS, *PAGES]:
            if value is LONG:
                value = LONG[:3000]  # a URL, not a body: still far past any field's length
            response = home[who].get(path, {param: value for param in params})
            check(response, f"{who} GET {path} {value[:20]!r}", post=False)
            assert response.status_code in (200, 302, 400, 404), (path, value[:20])
    assert snapshot(odra) == before


def _api(home, token, method, path, body=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {home[f'{token}_token']}"} if token else {}
    client = Client(HTTP_HOST="odra.localhost")
    if method == "GET":
        return client.get(f"/api/v1/{path}", params, **headers)
    return client.post(f"/api/v1/{path}", body, content_type="application/json", **headers)


def test_every_api_field_refuses_hostile_values(odra, home):
    before = snapshot(odra)
    for token, path, fields in API_BODIES:
        for value in JSON_VALUES:
            body = json.dumps({field: value for field in fields})
            response = _api(home, token, "POST", path, body)
            where = f"POST {path} {str(value)[:20]!r}"
            assert 400 <= response.status_code < 500, f"{where}: {response.status_code}"
            assert set(response.json()) == {"error"}, where
    for token, template, params in API_QUERIES:
        path = template.format(**_ids(home))
        for value in [*CORPUS[1:], *PAGES]:
            response = _api(home, token, "GET", path, **{param: value for param in params})
            assert response.status_code in (200, 400, 404), (path, value[:20], response.status_code)
    for token, path, fields in API_SEARCHES:
        for value in [*JSON_VALUES, *PAGES]:
            response = _api(home, token, "POST", path, json.dumps(dict.fromkeys(fields, value)))
            assert response.status_code in (200, 400), (path, str(value)[:20], response.status_code)
        for value in PAGES:
            words = json.dumps(dict.fromkeys(fields, "Kowal"))
            response = _api(home, token, "POST", f"{path}?page={quote(value)}", words)
            assert response.status_code in (200, 400, 404), (path, value[:20], response.status_code)
    assert snapshot(odra) == before


def test_hostile_text_in_path_segments(odra, home):
    before = snapshot(odra)
    for who, template in TEXT_SEGMENTS:
        for value in [SQL, TEMPLATE, XSS, NUL, HUGE, TRAVERSAL, LONG[:2000], CRLF]:
            path = template.format(quote(value, safe=""))
            if who == "admin":
                response = _api(home, "admin", "POST" if "block" in path else "GET", path[8:], "{}")
            else:
                response = home[who].get(path)
            assert response.status_code in (400, 404), (path[:60], response.status_code)
    assert snapshot(odra) == before


def test_invalid_utf8_in_bodies_and_query_strings(odra, home):
    before = snapshot(odra)
    raw = b"username=\xff\xfe\xc3\x28&password=\xed\xa0\x80"
    for who, path in (("anonymous", "/login/"), ("anonymous", "/panel/login/")):
        response = home[who].generic(
            "POST", path, raw, content_type="application/x-www-form-urlencoded"
        )
        check(response, f"raw POST {path}", post=True)
    response = home["staff"].generic(
        "POST",
        "/panel/staff/",
        b"login=\xff\xfe&role=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    check(response, "raw POST /panel/staff/", post=True)
    for who, path in (("staff", "/panel/people/"), ("resident", "/dokumenty/")):
        for query in ("q=%FF%FE%C3%28&page=%ED%A0%80", "page=\xff\xfe"):
            response = home[who].get(path, QUERY_STRING=query)
            check(response, f"GET {path}?{query}", post=False)
    for body in (b'{"login": "\xff\xfe", "password": "x"}', b"\xef\xbb\xbf{\xff}", b"\x00" * 64):
        client = Client(HTTP_HOST="odra.localhost")
        response = client.generic(
            "POST", "/api/v1/auth/token/", body, content_type="application/json"
        )
        assert response.status_code == 400, (body, response.status_code)
    response = home["staff"].get("/panel/people/%FF%FE/")
    assert response.status_code == 404
    assert snapshot(odra) == before


# --- Body limits ------------------------------------------------------------------------------


def test_request_bodies_over_the_limits_are_refused(odra, home):
    before = snapshot(odra)
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = home["anonymous"].post("/login/", {"username": too_big, "password": "x"})
    assert response.status_code == 400
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert home["anonymous"].post("/login/", fields).status_code == 400
    response = _api(home, None, "POST", "auth/token/", json.dumps({"login": too_big}))
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"error"}
    assert snapshot(odra) == before


def test_a_logo_over_its_limit_is_a_form_error(odra, home):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 600_000, "image/png")
    response = home["staff"].post(
        "/panel/settings/", {"rules_text": "Regulamin", "accent_color": "#123456", "logo": big}
    )
    assert response.status_code == 200 and response.context["form"].errors["logo"]


def test_the_proxy_limits_request_bodies_too():
    nginx = (settings.BASE_DIR / "deploy" / "nginx.conf").read_text()
    assert "client_max_body_size 3m;" in nginx


# --- Downloads --------------------------------------------------------------------------------


def _is_safe_download(response, content_type: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_downloads_are_attachments_never_sniffed(odra, home):
    _is_safe_download(
        home["resident"].get(f"/dokumenty/{home['doc'].pk}/pobierz/"), "application/pdf"
    )
    m1 = home["m1"].pk
    _is_safe_download(home["resident"].get(f"/lokale/{m1}/rozrachunki.pdf"), "application/pdf")
    _is_safe_download(home["resident"].get(f"/lokale/{m1}/rozrachunki.csv"), "text/csv")
    _is_safe_download(
        _api(home, "anna", "GET", f"documents/{home['doc'].pk}/file"), "application/pdf"
    )
    _is_safe_download(home["staff"].get("/panel/audit/export.csv"), "text/csv")


def test_the_corpus_covers_every_input_of_the_tenant_host():
    """A new form, filter or API body must be added to this corpus (or listed as
    taking no input): the test fails on a route it does not know."""
    covered = {template.split("{")[0] for _who, template, _f in FORMS + QUERIES}
    api_inputs = API_BODIES + API_QUERIES + API_SEARCHES
    covered |= {"/api/v1/" + path.split("{")[0] for _t, path, _f in api_inputs}
    covered |= {template.split("{")[0] for _who, template in TEXT_SEGMENTS}
    no_input = {  # pages without fields, or covered by the isolation sweep's empty POSTs
        "healthz",
        "panel:home",
        "panel:logout",
        "panel:otp_verify",
        "panel:otp_setup",
        "panel:otp_recovery_codes",
        "panel:grant",
        "panel:regenerate",
        "panel:unblock",
        "panel:sync_start",
        "panel:sync_run",
        "panel:connector",
        "panel:person",
        "panel:account",
        "panel:end_session",
        "panel:end_other_sessions",
        "panel:revoke_token",
        "panel:security_key_login_options",
        "panel:security_key_login",
        "panel:security_key_add",
        "panel:security_key_options",
        "panel:security_key_remove",
        "branding:theme",
        "branding:logo",
        "api:me",
        "api:cooperative",
        "api:premises",
        "api:premises-detail",
        "api:charges",
        "api:parameters",
        "api:readings",
        "api:document-file",
        "api:regenerate",
        "api:unblock",
        "api:sync-runs",
        "api:sync-run",
        "api:sync-now",
        "api:schema",
        "api:docs",
        "api/v1/",
        "portal:dashboard",
        "portal:logout",
        "portal:logged_out",
        "portal:otp_verify",
        "portal:otp_disable",
        "portal:otp_recovery_codes",
        "portal:account",
        "portal:logout_everywhere",
        "portal:end_session",
        "portal:revoke_token",
        "portal:security_key_login_options",
        "portal:security_key_login",
        "portal:security_key_add",
        "portal:security_key_options",
        "portal:security_key_remove",
        "portal:charges",
        "portal:parameters",
        "portal:document",
        "portal:contact",
    }
    from tests.security.test_isolation_enumerated import routes

    for route in routes(settings.ROOT_URLCONF):
        prefix = "/" + route.template.split("{")[0]
        assert route.name in no_input or prefix in covered, f"{route.name}: not in the corpus"
    assert get_resolver(settings.ROOT_URLCONF)  # the same resolver the site uses


def test_operator_console_forms_refuse_hostile_values(apex_client, db, odra):
    operator = User.objects.create_superuser("op.hostile", data.RESIDENT_PASSWORD)
    apex_client.force_login(operator, backend=BACKEND)
    otp.pass_second_factor(apex_client, otp.code_for(otp.enrol(operator)), "/otp/")
    before = snapshot(odra)
    fields = ["code", "name", "domain", "connector", "config", "schedule", "admin_login"]
    for value in CORPUS:
        response = apex_client.post("/cooperatives/new/", {field: value for field in fields})
        check(response, f"onboard {value[:20]!r}", post=True)
    for value in (LONG, NUL, "", "   "):  # a reason too long, with a NUL, or none
        assert apex_client.post("/cooperatives/ODRA/suspend/", {"reason": value}).status_code == 302
    for page in PAGES:
        assert apex_client.get("/audit/", {"page": page}).status_code == 200
    assert snapshot(odra) == before


# --- 500s this corpus found, each fixed where it arose --------------------------------------


def test_a_sync_since_beyond_the_calendar_is_ignored(home):
    """Was a 500: ``since`` of 400 digits overflowed datetime.fromtimestamp."""
    for value in (HUGE, "²"):  # "²".isdigit() is True, int("²") is not a number
        assert home["staff"].get("/panel/sync/", {"since": value}).status_code == 200
        progress = home["staff"].get("/panel/sync/progress/", {"since": value})
        assert progress.json() == {"state": "waiting"}


def test_a_nul_byte_in_a_path_is_a_bad_request(home):
    """Was a 500: the path parameter reached PostgreSQL, which refuses NUL in text."""
    assert home["staff"].get("/panel/people/O1%00/").status_code == 400
    response = _api(home, "admin", "GET", "staff/persons/O1%00/")
    assert response.status_code == 400


def test_an_api_body_over_the_limit_is_a_413_in_the_error_shape(home):
    """Was a 500: Django's RequestDataTooBig went through the API's catch-all."""
    body = json.dumps({"login": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = _api(home, None, "POST", "auth/token/", body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
