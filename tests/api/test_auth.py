"""Tokens: obtaining, expiry, revocation, the first-login gate, account kinds and
tenant isolation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_otp.oath import totp

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.keys.models import EncryptedTOTPDevice as TOTPDevice
from ebok.models import ApiToken, AuditEvent, LoginRecord
from ebok.panel.services import update_cooperative_settings
from tests.api.conftest import error_of, token_for
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident

RESIDENT_ONLY = ["premises/", "documents/"]
STAFF_ONLY = [("POST", "staff/persons/search/"), ("GET", "staff/sync-runs/")]


def login(api, login_name, password=RESIDENT_PASSWORD, **extra):
    return api.post("auth/token/", {"login": login_name, "password": password, **extra}, token="")


def test_token_with_login_and_password(household, odra_api, odra, in_schema, settings):
    response = login(odra_api, "res.o1")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires"}
    expires = parse_datetime(body["expires"])
    expected = timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    assert abs((expires - expected).total_seconds()) < 60
    assert odra_api.as_(body["token"]).get("me/").json()["login"] == "res.o1"
    with in_schema(odra):
        # Only the hash is stored; the login is on record like a portal login.
        assert not ApiToken.objects.filter(key_hash=body["token"]).exists()
        assert LoginRecord.objects.filter(user=household["anna"]).exists()
        assert AuditEvent.objects.filter(action="api.token_issued", target_login="res.o1").exists()


def test_wrong_password_unknown_login_and_blocked_account_get_the_same_401(
    household, odra_api, odra, in_schema
):
    with in_schema(odra):
        services.block_account(user=household["piotr"], reason="misuse")
    answers = [
        login(odra_api, "res.o1", "wrong-password-123"),
        login(odra_api, "nobody.1234"),
        login(odra_api, "res.o3"),  # blocked, with the right password
    ]
    assert {response.status_code for response in answers} == {401}
    assert len({response.content for response in answers}) == 1
    assert error_of(answers[0])["code"] == "invalid_credentials"
    assert answers[0]["WWW-Authenticate"] == "Bearer"


def test_repeated_failures_lock_the_login_out_in_the_error_shape(household, odra_api):
    for _ in range(4):
        assert login(odra_api, "res.o1", "wrong-password-123").status_code == 401
    locked = login(odra_api, "res.o1", "wrong-password-123")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert error_of(locked)["code"] == "locked_out"
    assert int(locked["Retry-After"]) > 0
    # Even the right password is refused while locked out.
    assert login(odra_api, "res.o1").status_code == 429


@pytest.mark.parametrize(
    "body",
    [{}, {"login": "res.o1"}, {"login": 5, "password": "x"}, {"login": "a" * 65, "password": "x"}],
)
def test_invalid_token_request_is_400_naming_the_fields(household, odra_api, body):
    response = odra_api.post("auth/token/", body, token="")
    assert response.status_code == 400
    assert error_of(response)["fields"]


def test_a_stale_authorization_header_does_not_stop_a_new_login(household, odra_api):
    response = odra_api.post(
        "auth/token/", {"login": "res.o1", "password": RESIDENT_PASSWORD}, token="stale"
    )
    assert response.status_code == 201


def test_delete_revokes_only_the_token_of_the_request(household, odra_api, odra, in_schema):
    with in_schema(odra):
        other = token_for(household["anna"])
    api = odra_api.as_(household["anna_token"])
    assert api.delete("auth/token/").status_code == 204
    refused = api.get("me/")
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "authentication_failed"
    assert odra_api.as_(other).get("me/").status_code == 200


def test_expired_token_is_refused(household, odra_api, odra, in_schema):
    with in_schema(odra):
        ApiToken.objects.filter(user=household["anna"]).update(expires_at=timezone.now())
    assert odra_api.as_(household["anna_token"]).get("me/").status_code == 401


def test_missing_or_malformed_authorization_is_401(household, odra_api):
    assert error_of(odra_api.get("me/", token=""))["code"] == "not_authenticated"
    malformed = odra_api.client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer a b")
    assert malformed.status_code == 401
    assert odra_api.get("me/", token="not-a-token").status_code == 401


@pytest.mark.parametrize(
    "end",
    [
        lambda user: services.regenerate_password(user=user),
        lambda user: services.block_account(user=user, reason="misuse"),
        lambda user: services.erase_account(
            user=user, request_reference="W/1/2026", request_date=timezone.localdate()
        ),
    ],
    ids=["regenerated", "blocked", "erased"],
)
def test_every_token_ends_with_the_account_lifecycle(household, odra_api, odra, in_schema, end):
    with in_schema(odra):
        second = token_for(household["anna"])
        end(household["anna"])
        assert not ApiToken.objects.filter(user_id=household["anna"].pk).exists()
    for token in (household["anna_token"], second):
        assert odra_api.as_(token).get("premises/").status_code == 401
    assert odra_api.as_(household["piotr_token"]).get("premises/").status_code == 200


def test_token_of_one_cooperative_is_refused_on_another(household, warta_api, warta, in_schema):
    with in_schema(warta):
        # The same login exists in WARTA too: still not the same account.
        make_resident(make_person("O1", "Kowalska", "Anna"))
    response = warta_api.as_(household["anna_token"]).get("premises/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert warta_api.as_(household["admin_token"]).get("staff/sync-runs/").status_code == 401


# --- First login over the API ----------------------------------------------------------


@pytest.fixture
def newcomer(household, odra, in_schema):
    """A resident granted access by staff: issued password, rules not accepted."""
    with in_schema(odra):
        issued = services.grant_access(person_source_id="O2")
        return issued.user, issued.password, token_for(issued.user)


GATED = [
    "me/",
    "premises/",
    "premises/1/",
    "premises/1/ledger/",
    "premises/1/charges/",
    "premises/1/parameters/",
    "premises/1/readings/",
    "documents/",
    "documents/1/file",
]


def test_issued_password_must_be_replaced_before_any_data(newcomer, odra_api, odra):
    _, _, token = newcomer
    api = odra_api.as_(token)
    for path in GATED:
        response = api.get(path)
        assert response.status_code == 403, path
        error = error_of(response)
        assert error["code"] == "password_change_required"
        assert error["version"] == odra.rules_version


def test_first_login_over_the_api(newcomer, odra_api, odra):
    user, issued_password, token = newcomer
    api = odra_api.as_(token)
    wrong = api.post("me/password/", {"current": "nope", "new": "Nowe-hasło-do-e-BOK-2026"})
    assert wrong.status_code == 400
    assert "current" in error_of(wrong)["fields"]
    weak = api.post("me/password/", {"current": issued_password, "new": "short"})
    assert "new" in error_of(weak)["fields"]

    changed = api.post(
        "me/password/", {"current": issued_password, "new": "Nowe-hasło-do-e-BOK-2026"}
    )
    assert changed.status_code == 201
    assert api.get("me/").status_code == 401  # every earlier token ended
    api = odra_api.as_(changed.json()["token"])

    for path in GATED:
        error = error_of(api.get(path))
        assert error["code"] == "rules_acceptance_required"
        assert error["version"] == odra.rules_version
    stale = api.post("me/rules/", {"version": odra.rules_version + 1})
    assert stale.status_code == 400
    assert "version" in error_of(stale)["fields"]
    accepted = api.post("me/rules/", {"version": odra.rules_version})
    assert accepted.status_code == 200
    assert accepted.json()["pending_steps"] == []
    premises = api.get("premises/").json()
    assert [p["source_id"] for p in premises] == ["L1"]
    assert login(odra_api, user.login, "Nowe-hasło-do-e-BOK-2026").status_code == 201


def test_a_pending_account_may_still_revoke_its_token(newcomer, odra_api):
    assert odra_api.as_(newcomer[2]).delete("auth/token/").status_code == 204


def test_new_rules_version_gates_the_api_again(household, odra_api, odra, in_schema):
    with in_schema(odra):
        update_cooperative_settings(odra, values={"rules_text": "Nowy regulamin."})
    api = odra_api.as_(household["anna_token"])
    error = error_of(api.get("premises/"))
    assert (error["code"], error["version"]) == ("rules_acceptance_required", odra.rules_version)
    assert api.post("me/rules/", {"version": odra.rules_version}).status_code == 200
    assert api.get("premises/").status_code == 200


def test_cooperative_contact_data_and_rules_are_public(household, odra_api, odra):
    body = odra_api.get("cooperative/", token="").json()
    assert body["name"] == odra.name
    assert body["contact_phone"] == "71 303 93 58"
    assert body["rules_version"] == odra.rules_version
    assert body["rules_text"].startswith("1. Spółdzielnia")


# --- Kinds of accounts ------------------------------------------------------------------


@pytest.mark.parametrize("path", RESIDENT_ONLY + ["premises/1/ledger/", "documents/1/file"])
def test_staff_tokens_cannot_use_residents_endpoints(household, odra_api, path):
    response = odra_api.as_(household["admin_token"]).get(path)
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "path"), STAFF_ONLY)
def test_resident_tokens_cannot_use_staff_endpoints(household, odra_api, method, path):
    resident = odra_api.as_(household["anna_token"])
    response = resident.post(path, {"q": "a"}) if method == "POST" else resident.get(path)
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_me_describes_the_account(household, odra_api):
    body = odra_api.as_(household["viewer_token"]).get("me/").json()
    assert body["kind"] == "staff"
    assert body["role"] == "viewer"
    assert body["pending_steps"] == []


def test_staff_with_an_authenticator_needs_the_one_time_code(household, odra_api, odra, in_schema):
    with in_schema(odra):
        device = TOTPDevice.objects.create(user=household["admin"], name="phone", confirmed=True)
    assert login(odra_api, "admin").status_code == 401
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):0{device.digits}d}"
    assert login(odra_api, "admin", otp=code).status_code == 201
    assert login(odra_api, "admin", otp=code).status_code == 401  # never twice


def test_operator_accounts_of_the_platform_are_not_api_users(household, odra_api, odra, in_schema):
    with in_schema(odra):
        User.objects.create_user("platform.op", RESIDENT_PASSWORD, kind=User.Kind.OPERATOR)
    assert login(odra_api, "platform.op").status_code == 401
