"""ASVS level-2 requirements of chapters V1–V4 that no other test shows on its own:
deserialisation, TLS to the ZSI server, segregation by host, client-side technology,
password handling (truncation, Unicode, no expiry, password managers, salts, PBKDF2),
recovery, TOTP lifetime and algorithm, session tokens and directory listings."""

import hashlib
import hmac
import re
import struct
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.models import AuditEvent
from tests.api.conftest import Api
from tests.panel.conftest import logged_in
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "ebok", ROOT / "tenants", ROOT / "connectors", ROOT / "platform"]


@pytest.fixture
def fast_hashing(settings):
    """For tests where the hash function is not what is being shown."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def person(odra, in_schema):
    with in_schema(odra):
        return make_person("V100", "Zielińska", "Maria")


def portal_login(client: Client, login: str, password: str):
    return client.post("/login/", {"username": login, "password": password})


# --- V1 Architecture -------------------------------------------------------------------------


def test_nothing_a_client_sends_is_unpickled(odra_client):
    from ebok_platform.celery import app

    assert settings.SESSION_SERIALIZER == "django.contrib.sessions.serializers.JSONSerializer"
    assert list(app.conf.accept_content) == ["json"] and app.conf.task_serializer == "json"
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] == [
        "rest_framework.parsers.JSONParser"
    ]
    pickled = odra_client.post(
        "/api/v1/auth/token/", b"\x80\x04K\x01.", content_type="application/x-python-serialize"
    )
    assert pickled.status_code == 415


def test_the_operator_console_and_the_admin_answer_only_on_the_apex_host(odra_client, apex_client):
    for path in ("/admin/login/", "/cooperatives/new/", "/audit/", "/otp/setup/"):
        assert odra_client.get(path).status_code == 404, path
    assert apex_client.get("/admin/login/").status_code == 200
    assert apex_client.get("/cooperatives/new/").status_code == 302  # to the console's login
    for path in ("/panel/login/", "/api/v1/cooperative/", "/haslo/"):
        assert apex_client.get(path).status_code == 404, path


def test_pages_use_no_plugins_and_the_policy_forbids_them(odra_client, apex_client):
    templates = [p for source in SOURCES for p in source.rglob("templates/**/*.html")]
    assert len(templates) > 20
    for template in templates:
        text = template.read_text(encoding="utf-8").lower()
        for tag in ("<object", "<embed", "<applet"):
            assert tag not in text, f"{template}: {tag}"
        for src in re.findall(r"<script[^>]*\ssrc=\"([^\"]*)\"", text):
            assert src.startswith("{% static"), f"{template}: script from {src}"
    for client, path in ((odra_client, "/login/"), (odra_client, "/panel/login/")):
        assert "object-src 'none'" in client.get(path)["Content-Security-Policy"]
    assert "object-src 'none'" in apex_client.get("/login/")["Content-Security-Policy"]


def test_no_server_secret_reaches_a_page_or_a_script(odra_client, apex_client):
    secrets_of_the_server = [
        settings.SECRET_KEY,
        *settings.CONNECTOR_SECRET_KEYS,
        *settings.OTP_KEY_ENCRYPTION_KEYS,
        *settings.DOCUMENT_KEYS,
    ]
    assert all(secrets_of_the_server)
    sent = [
        odra_client.get(path).content.decode()
        for path in ("/login/", "/panel/login/", "/kontakt/", "/api/v1/schema/")
    ]
    sent.append(apex_client.get("/login/").content.decode())
    for static in ("accounts", "panel", "portal", "api"):
        for found in Path(finders.find(static)).rglob("*.js"):
            sent.append(found.read_text(encoding="utf-8"))
    assert len(sent) > 8
    for text in sent:
        for secret in secrets_of_the_server:
            assert secret not in text


# --- V2 Authentication -----------------------------------------------------------------------


def test_a_password_is_never_truncated_or_stripped(odra, in_schema, person, odra_client):
    password = "  " + ("długie hasło bez skracania " * 5)[:122] + "zx  "
    assert len(password) == 128
    with in_schema(odra):
        user = make_resident(person)
        services.change_password(user=user, current=RESIDENT_PASSWORD, new=password)
        user.refresh_from_db()
        assert user.check_password(password)
        for near in (password[:-1], password.strip(), password[:72], password[:-1] + "y"):
            assert not user.check_password(near)
    assert (
        portal_login(Client(HTTP_HOST="odra.localhost"), user.login, password.strip()).status_code
        == 200
    )
    assert portal_login(odra_client, user.login, password).status_code == 302


def test_any_printable_unicode_is_a_password_even_emoji_and_spaces(odra, in_schema, person):
    password = "🏠 mój dom 住宅 — שלום   ñandú ✓ 12"
    with in_schema(odra):
        user = make_resident(person)
        services.change_password(user=user, current=RESIDENT_PASSWORD, new=password)
    client = Client(HTTP_HOST="odra.localhost")
    assert portal_login(client, user.login, password.replace("🏠", "🏡")).status_code == 200
    assert portal_login(client, user.login, password)["Location"] == "/"


def test_a_password_never_expires_and_an_earlier_one_may_be_chosen_again(
    odra, in_schema, person, fast_hashing
):
    years_ago = timezone.now() - timedelta(days=5 * 365)
    with in_schema(odra):
        user = make_resident(person)
        User.objects.filter(pk=user.pk).update(
            date_joined=years_ago, last_login=years_ago, password_issued_at=None
        )
    client = Client(HTTP_HOST="odra.localhost")
    assert portal_login(client, user.login, RESIDENT_PASSWORD)["Location"] == "/"
    assert client.get("/").status_code == 200
    with in_schema(odra):
        user.refresh_from_db()
        other = "zupełnie inne hasło na chwilę"
        services.change_password(user=user, current=RESIDENT_PASSWORD, new=other)
        services.change_password(user=user, current=other, new=RESIDENT_PASSWORD)
        user.refresh_from_db()
        assert user.check_password(RESIDENT_PASSWORD) and not user.must_change_password


def test_password_fields_let_password_managers_fill_and_paste(
    odra, in_schema, person, fast_hashing
):
    with in_schema(odra):
        resident = make_resident(person)
        staff = make_staff("v.staff", role="viewer")
    pages = [
        (Client(HTTP_HOST="odra.localhost"), "/login/"),
        (Client(HTTP_HOST="odra.localhost"), "/panel/login/"),
        (logged_in(odra, resident, in_schema), "/haslo/"),
        (logged_in(odra, staff, in_schema), "/panel/password/"),
    ]
    seen = 0
    for client, path in pages:
        html = client.get(path).content.decode()
        for field in re.findall(r"<input[^>]*type=\"password\"[^>]*>", html):
            seen += 1
            assert re.search(r'autocomplete="(current|new)-password"', field), (path, field)
            assert not re.search(r"on(paste|copy|drop|cut)=|readonly", field), (path, field)
    assert seen == 1 + 1 + 3 + 3
    for static in ("accounts", "panel", "portal"):
        for script in Path(finders.find(static)).rglob("*.js"):
            text = script.read_text(encoding="utf-8")
            assert not re.search(r"['\"](paste|drop)['\"]|onpaste", text), script


def test_every_hash_has_its_own_random_salt_of_over_128_bits():
    hasher = get_hasher()
    assert hasher.algorithm == "argon2pep"  # Argon2id under the pepper (decision 0814)
    hashes = [make_password("to samo hasło dla wszystkich") for _ in range(3)]
    salts = [hasher.decode(encoded)["salt"] for encoded in hashes]
    assert len(set(salts)) == 3 and len(set(hashes)) == 3
    for salt in salts:
        # Django's salt: 22 characters of [a-zA-Z0-9], log2(62) * 22 ≈ 131 bits.
        assert re.fullmatch(r"[A-Za-z0-9]{22}", salt)


def test_pbkdf2_hashes_take_a_million_iterations_and_turn_into_argon2id_at_login(
    odra, in_schema, person
):
    pbkdf2 = get_hasher("pbkdf2_sha256")
    assert pbkdf2.iterations >= 1_000_000
    assert identify_hasher(make_password("x")).algorithm == "argon2pep"
    with in_schema(odra):
        user = make_resident(person)
        User.objects.filter(pk=user.pk).update(
            password=make_password(RESIDENT_PASSWORD, hasher="pbkdf2_sha256")
        )
    assert (
        portal_login(Client(HTTP_HOST="odra.localhost"), user.login, RESIDENT_PASSWORD)["Location"]
        == "/"
    )
    with in_schema(odra):
        user.refresh_from_db()
        assert user.password.startswith("argon2pep$") and "$argon2id$" in user.password


def test_there_are_no_password_hints_or_secret_questions(odra_client, apex_client):
    pattern = re.compile(r"hint|question|secret_answer|security_answer|podpowied|pytanie")
    for model in apps.get_models():
        for field in model._meta.get_fields():
            assert not pattern.search(field.name), f"{model.__name__}.{field.name}"
    for client, path in ((odra_client, "/login/"), (odra_client, "/panel/login/")):
        inputs = set(re.findall(r'<input[^>]*name="([^"]+)"', client.get(path).content.decode()))
        assert inputs - {"next"} == {"csrfmiddlewaretoken", "username", "password"}, path
    inputs = set(
        re.findall(r'<input[^>]*name="([^"]+)"', apex_client.get("/login/").content.decode())
    )
    assert inputs - {"next"} == {"csrfmiddlewaretoken", "username", "password"}


def test_recovery_issues_a_new_password_and_never_shows_the_current_one(
    odra, in_schema, person, fast_hashing
):
    chosen = "moje własne hasło, którego nikt nie zna"
    with in_schema(odra):
        resident = make_resident(person, password=chosen)
        staff = make_staff("v.operator", role="operator")
    office = logged_in(odra, staff, in_schema)
    response = office.post(f"/panel/accounts/{resident.pk}/regenerate/")
    assert response.status_code == 200
    issued = response.context["password"]
    assert issued and issued != chosen
    pages = [response.content.decode(), office.get(f"/panel/people/{person.source_id}/").content]
    assert all(chosen not in str(page) for page in pages)
    with in_schema(odra):
        resident.refresh_from_db()
        assert chosen not in resident.password and not resident.check_password(chosen)
        assert resident.check_password(issued) and resident.must_change_password
        assert chosen not in str(list(AuditEvent.objects.values()))


@pytest.fixture
def authenticator(odra, in_schema, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # each check here stands on its own
    with in_schema(odra):
        staff = make_staff("v.totp", role="viewer")
        yield otp.enrol(staff)


def test_a_totp_code_lives_one_step_either_side_and_then_expires(
    authenticator, odra, in_schema, monkeypatch
):
    now = 1_800_000_015  # the middle of a 30-second step
    monkeypatch.setattr(
        "django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=lambda: now)
    )

    def code_at(moment: int) -> str:
        totp = TOTP(authenticator.bin_key, authenticator.step, authenticator.t0, 6)
        totp.time = moment
        return f"{totp.token():06d}"

    assert (authenticator.step, authenticator.tolerance) == (30, 1)
    with in_schema(odra):
        for moment in (now - 60, now + 60, now - 3600):
            assert not authenticator.verify_token(code_at(moment)), moment
        assert authenticator.verify_token(code_at(now - 30))
        assert not authenticator.verify_token(code_at(now - 30))  # and only once


def test_totp_codes_are_rfc_6238_hmac_sha1_of_a_random_160_bit_key(
    authenticator, odra, in_schema, monkeypatch
):
    now = 1_800_000_015
    monkeypatch.setattr(
        "django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=lambda: now)
    )
    key = authenticator.bin_key
    assert len(key) == 20
    with in_schema(odra):
        other = otp.enrol(make_staff("v.totp2", role="viewer"))
        assert other.bin_key != key
        # RFC 6238 / RFC 4226, computed here without django-otp.
        digest = hmac.new(key, struct.pack(">Q", now // 30), hashlib.sha1).digest()
        offset = digest[-1] & 0x0F
        code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6
        assert authenticator.verify_token(f"{code:06d}")
        # What the set-up page gives the authenticator app says the same.
        url = authenticator.config_url
    assert {"algorithm=SHA1", "digits=6", "period=30"} <= set(url.split("?", 1)[1].split("&"))


# --- V3 Session management -------------------------------------------------------------------


def test_a_token_or_session_id_in_the_address_authenticates_nobody(
    odra, in_schema, person, fast_hashing
):
    with in_schema(odra):
        resident = make_resident(person)
        raw = services.issue_api_token(resident)[0]
    api = Api("odra.localhost")
    assert api.get("me/", token=raw).status_code == 200
    for name in ("access_token", "token", "bearer", "auth"):
        assert api.client.get(f"/api/v1/me/?{name}={raw}").status_code == 401, name
    browser = Client(HTTP_HOST="odra.localhost")
    answer = portal_login(browser, resident.login, RESIDENT_PASSWORD)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert key not in answer["Location"]
    stranger = Client(HTTP_HOST="odra.localhost")
    for name in (settings.SESSION_COOKIE_NAME, "sessionid", "session"):
        refused = stranger.get(f"/?{name}={key}")
        assert refused.status_code == 302 and refused["Location"].startswith("/login/"), name
    page = browser.get("/").content.decode()
    assert browser.get("/").status_code == 200 and key not in page


def test_session_ids_and_api_tokens_come_from_the_csprng_with_enough_entropy(
    odra, in_schema, person, fast_hashing, monkeypatch
):
    import secrets

    chosen, urlsafe = [], []
    real_choice, real_urlsafe = secrets.choice, secrets.token_urlsafe

    def spy_choice(sequence):
        chosen.append(real_choice(sequence))
        return chosen[-1]

    def spy_urlsafe(nbytes=None):
        urlsafe.append((nbytes, real_urlsafe(nbytes)))
        return urlsafe[-1][1]

    monkeypatch.setattr(secrets, "choice", spy_choice)
    monkeypatch.setattr(secrets, "token_urlsafe", spy_urlsafe)
    with in_schema(odra):
        resident = make_resident(person)
    browser = Client(HTTP_HOST="odra.localhost")
    assert portal_login(browser, resident.login, RESIDENT_PASSWORD).status_code == 302
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    # 32 characters of 36: log2(36) * 32 ≈ 165 bits, each drawn by secrets (os.urandom).
    assert re.fullmatch(r"[a-z0-9]{32}", key)
    assert key in "".join(chosen)
    answer = Api("odra.localhost").post(
        "auth/token/", {"login": resident.login, "password": RESIDENT_PASSWORD}
    )
    assert answer.status_code == 201
    assert (32, answer.json()["token"]) in urlsafe  # 256 bits


# --- V4 Access control -----------------------------------------------------------------------


def test_no_directory_is_listed_and_no_metadata_file_is_served(odra_client, apex_client):
    assert odra_client.get("/static/portal/app.js").status_code == 200  # static files are served
    paths = [
        "/static/",
        "/static/portal/",
        "/static/admin/",
        "/media/",
        "/private/",
        "/documents/",
        "/.git/",
        "/.git/config",
        "/.git/HEAD",
        "/.svn/entries",
        "/.DS_Store",
        "/static/.DS_Store",
        "/static/portal/Thumbs.db",
        "/.env",
        "/var/",
    ]
    for client in (odra_client, apex_client):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 404, path
            body = b"".join(response) if getattr(response, "streaming", False) else response.content
            assert b"Index of" not in body and b"[core]" not in body, path
