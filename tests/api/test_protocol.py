"""One error shape for every failure, throttling, the schema and its docs page."""

import json
import re
import uuid

import pytest
from drf_spectacular.validation import validate_schema

from tests.api.conftest import error_of

AUTHENTICATED_ERRORS = {"401", "403", "429"}


def _ip() -> str:
    # Throttle counters live in Redis beyond a test: each test its own address.
    number = uuid.uuid4().int
    return f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"


@pytest.mark.parametrize(
    ("call", "status", "code"),
    [
        (lambda api: api.delete("premises/"), 405, "method_not_allowed"),
        (lambda api: api.get("premises/", HTTP_ACCEPT="text/html"), 406, "not_acceptable"),
        (
            lambda api: api.client.post(
                "/api/v1/auth/token/", "login=a", content_type="text/plain"
            ),
            415,
            "unsupported_media_type",
        ),
        (
            lambda api: api.client.post(
                "/api/v1/auth/token/", "{not json", content_type="application/json"
            ),
            400,
            "parse_error",
        ),
        (lambda api: api.post("auth/token/", ["login", "password"]), 400, "invalid"),
        (lambda api: api.get("no/such/endpoint"), 404, "not_found"),
        (lambda api: api.get("premises", token=""), 404, "not_found"),
        (lambda api: api.get("premises/1%0A/ledger/"), 404, "not_found"),
    ],
    ids=["405", "406", "415", "malformed-json", "json-list", "unknown-path", "no-slash", "newline"],
)
def test_every_failure_has_the_one_error_shape(household, odra_api, call, status, code):
    response = call(odra_api.as_(household["anna_token"]))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == code


def test_error_messages_follow_the_language(household, odra_api):
    polish = error_of(odra_api.get("me/", token=""))["message"]
    english = error_of(odra_api.get("me/", token="", HTTP_ACCEPT_LANGUAGE="en"))["message"]
    assert english == "Authentication credentials were not provided."
    assert polish != english


def test_throttled_per_token(household, odra_api, settings):
    rates = {"ip": "1000/min", "token": "3/min", "login": "1000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    anna = odra_api.as_(household["anna_token"])
    ip = _ip()
    for _ in range(3):
        assert anna.get("me/", REMOTE_ADDR=ip).status_code == 200
    throttled = anna.get("me/", REMOTE_ADDR=ip)
    assert throttled.status_code == 429
    assert error_of(throttled)["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # Another token from the same address is counted apart.
    assert odra_api.as_(household["piotr_token"]).get("me/", REMOTE_ADDR=ip).status_code == 200


def test_throttled_per_address_whatever_the_token(household, odra_api, settings):
    rates = {"ip": "3/min", "token": "1000/min", "login": "1000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ip = _ip()
    for name in ("anna", "piotr", "admin"):
        assert (
            odra_api.as_(household[f"{name}_token"]).get("me/", REMOTE_ADDR=ip).status_code == 200
        )
    assert odra_api.as_(household["viewer_token"]).get("me/", REMOTE_ADDR=ip).status_code == 429
    assert odra_api.get("cooperative/", token="", REMOTE_ADDR=ip).status_code == 429
    assert odra_api.as_(household["viewer_token"]).get("me/", REMOTE_ADDR=_ip()).status_code == 200


def test_token_requests_are_throttled_per_address(household, odra_api, settings):
    rates = {"ip": "1000/min", "token": "1000/min", "login": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ip = _ip()
    body = {"login": "nobody", "password": "x"}
    assert [odra_api.post("auth/token/", body, REMOTE_ADDR=ip).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]


@pytest.fixture
def schema(odra_api):
    response = odra_api.get("schema/", token="")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_public_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_a_bad_token_does_not_hide_the_schema(household, odra_api):
    assert odra_api.get("schema/", token="stale").status_code == 200


def test_every_operation_is_described_with_its_errors(schema):
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 24
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        assert path.startswith("/api/v1/"), label
        assert operation.get("summary") and operation.get("tags"), label
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), label
        assert "429" in responses, label
        for code, response in responses.items():
            assert response.get("description") or code.startswith("2"), label
            if code[0] in "45":
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", label
        if {"bearerAuth": []} in operation.get("security", []):
            assert set(responses) >= AUTHENTICATED_ERRORS, label
        if "{" in path:
            assert "404" in responses, label
        if "requestBody" in operation or any(
            p["in"] == "query" and p["name"] != "page" for p in operation.get("parameters", [])
        ):
            assert "400" in responses, label
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "fields"}
    assert "version" in error["properties"]


def test_money_and_dates_are_described_as_strings(schema):
    premises = schema["components"]["schemas"]["Premises"]["properties"]
    assert premises["balance"]["type"] == "string"
    assert premises["balance"]["format"] == "decimal"
    assert premises["as_of"]["format"] == "date"
    assert premises["refreshed_at"]["format"] == "date-time"


def test_docs_page_is_served_from_our_own_files_under_the_csp(odra_api):
    page = odra_api.get("docs/", token="")
    assert page.status_code == 200
    html = page.content.decode()
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # No inline script or style, no other origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and "style=" not in html
    assert "http" not in html.replace("http-equiv", "")
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
    for asset in assets:
        response = odra_api.client.get(asset.replace("&amp;", "&"))
        assert response.status_code == 200, asset
    script = next(a for a in assets if "script" in a)
    assert "/api/v1/schema/" in odra_api.client.get(script.replace("&amp;", "&")).content.decode()


def test_api_messages_are_polish_by_default(household, odra_api):
    response = odra_api.post("auth/token/", {"login": "nobody", "password": "x"}, token="")
    assert error_of(response)["message"] == (
        "Błędny login lub hasło albo konto nie może się zalogować."
    )
    english = odra_api.post(
        "auth/token/", {"login": "nobody", "password": "x"}, token="", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert error_of(english)["message"] == "Wrong login or password, or the account may not log in."
