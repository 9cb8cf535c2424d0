"""Two-factor authentication: mandatory for staff and operators, optional for residents."""

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.keys.models import EncryptedTOTPDevice as TOTPDevice
from ebok.models import AuditEvent
from tenants.models import OperatorAuditEvent
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The API's login throttle has its own tests; other tests' logins must not count here.
    rates = {"ip": "100000/min", "token": "100000/min", "login": "100000/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def staff(odra, in_schema):
    with in_schema(odra):
        return make_staff("kasia.otp", role="admin")


def password_login(client, login, path="/panel/login/"):
    response = client.post(path, {"username": login, "password": RESIDENT_PASSWORD})
    assert response.status_code == 302, response
    return response


def test_staff_enrol_at_first_login_and_nothing_opens_before(odra, odra_client, in_schema, staff):
    password_login(odra_client, staff.login)
    for path in ("/panel/people/", "/panel/audit/", "/panel/staff/", "/panel/password/"):
        assert odra_client.get(path)["Location"].startswith("/panel/otp/setup/?next="), path
    page = odra_client.get("/panel/otp/setup/")
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, inline, no script
    assert "<script" not in html
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert "img-src 'self' data:" in page["Content-Security-Policy"]
    assert "no-store" in page["Cache-Control"]
    with in_schema(odra):
        device = TOTPDevice.objects.get(user=staff, confirmed=False)
    secret = page.context["secret"]
    assert secret in html and otp.code_from_key(secret) == otp.code_for(device)

    wrong = odra_client.post("/panel/otp/setup/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    time.sleep(1.1)  # django-otp's throttle after a failure
    codes = otp.enrol_through_the_page(odra_client, odra.schema_name, staff.login)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert odra_client.get("/panel/people/").status_code == 200
    with in_schema(odra):
        stored = set(StaticToken.objects.values_list("token", flat=True))
        assert not stored & set(codes)  # only keyed hashes of the codes are kept
        actions = list(AuditEvent.objects.filter(target_login=staff.login).values_list("action"))
    assert ("otp.enrolment_failed",) in actions and ("otp.enabled",) in actions


def test_every_later_login_asks_for_the_code_and_a_password_alone_cannot_enrol_another(
    odra, in_schema, staff
):
    with in_schema(odra):
        device = otp.enrol(staff)
    client = Client(HTTP_HOST="odra.localhost")
    password_login(client, staff.login)
    assert client.get("/panel/people/")["Location"] == "/panel/otp/?next=%2Fpanel%2Fpeople%2F"
    # The enrolment page does not offer a new authenticator to a password-only session.
    assert client.get("/panel/otp/setup/")["Location"] == "/panel/otp/"
    with in_schema(odra):
        assert TOTPDevice.objects.filter(user=staff).count() == 1
    wrong = client.post("/panel/otp/", {"code": "123456"})
    assert wrong.status_code == 200
    with in_schema(odra):
        code = otp.code_for(device)
    # Right after a failure even the right code waits (django-otp's growing delay).
    assert client.post("/panel/otp/", {"code": code}).status_code == 200
    time.sleep(1.1)
    response = client.post("/panel/otp/", {"code": code, "next": "/panel/audit/"})
    assert response["Location"] == "/panel/audit/"
    assert client.get("/panel/audit/").status_code == 200
    # A used code never verifies another session.
    other = Client(HTTP_HOST="odra.localhost")
    password_login(other, staff.login)
    assert other.post("/panel/otp/", {"code": code}).status_code == 200
    with in_schema(odra):
        failed = AuditEvent.objects.filter(action="otp.failed", target_login=staff.login)
        assert failed.count() == 3


def test_a_recovery_code_works_once(odra, odra_client, in_schema, staff):
    password_login(odra_client, staff.login)
    codes = otp.enrol_through_the_page(odra_client, odra.schema_name, staff.login)
    later = Client(HTTP_HOST="odra.localhost")
    password_login(later, staff.login)
    assert later.post("/panel/otp/", {"code": codes[3].upper()})["Location"] == "/panel/"
    again = Client(HTTP_HOST="odra.localhost")
    password_login(again, staff.login)
    assert again.post("/panel/otp/", {"code": codes[3]}).status_code == 200
    with in_schema(odra):
        used = AuditEvent.objects.get(action="otp.recovery_code_used", target_login=staff.login)
    assert used.details == {"remaining": 9}


def test_recovery_codes_carry_120_random_bits_and_work_as_shown_or_without_dashes(
    odra, odra_client, in_schema, staff
):
    password_login(odra_client, staff.login)
    codes = otp.enrol_through_the_page(odra_client, odra.schema_name, staff.login)
    letters = [code.replace("-", "") for code in codes]
    # 24 base32 letters = 120 bits each (ASVS 2.6.3: at least 112), all different.
    assert all(re.fullmatch(r"[a-z2-7]{24}", code) for code in letters), codes
    assert all(re.fullmatch(r"([a-z2-7]{4}-){5}[a-z2-7]{4}", code) for code in codes), codes
    assert len(set(letters)) == len(codes) == 10
    for typed in (codes[0], letters[1].upper(), " ".join(codes[2].split("-"))):
        later = Client(HTTP_HOST="odra.localhost")
        password_login(later, staff.login)
        assert later.post("/panel/otp/", {"code": typed})["Location"] == "/panel/", typed
    with in_schema(odra):
        stored = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert len(stored) == 7 and not stored & {*codes, *letters}


def test_recovery_codes_outlive_a_secret_key_rotation_while_the_old_key_is_a_fallback(
    odra, odra_client, in_schema, staff, settings
):
    password_login(odra_client, staff.login)
    codes = otp.enrol_through_the_page(odra_client, odra.schema_name, staff.login)
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "k" * 50 + "-rotated", [old]

    def second_step(code):
        client = Client(HTTP_HOST="odra.localhost")
        password_login(client, staff.login)
        return client.post("/panel/otp/", {"code": code})

    assert second_step(codes[0])["Location"] == "/panel/"
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired: its codes with it
    assert second_step(codes[1]).status_code == 200
    with in_schema(odra):
        assert StaticToken.objects.filter(device__user=staff).count() == 9


def test_next_after_verification_stays_on_this_host(odra, in_schema, staff):
    with in_schema(odra):
        device = otp.enrol(staff)
        code = otp.code_for(device)
    client = Client(HTTP_HOST="odra.localhost")
    password_login(client, staff.login)
    response = client.post("/panel/otp/", {"code": code, "next": "https://evil.example/"})
    assert response["Location"] == "/panel/"


def test_regenerating_a_staff_password_resets_their_authenticator(odra, in_schema, staff):
    with in_schema(odra):
        otp.enrol(staff)
        admin = make_staff("szef.otp", role="admin")
        services.regenerate_password(user=staff, actor=admin)
        assert not TOTPDevice.objects.filter(user=staff).exists()
        event = AuditEvent.objects.get(action="otp.reset", target_login=staff.login)
        assert event.actor_login == "szef.otp"


def test_operators_need_the_second_factor_in_the_console_and_the_admin(apex_client, db):
    operator = User.objects.create_superuser("op.otp", RESIDENT_PASSWORD)
    password_login(apex_client, "op.otp", "/login/")
    assert apex_client.get("/audit/")["Location"].startswith("/otp/setup/")
    # The Django admin on the apex host refuses a session without the second factor.
    assert apex_client.get("/admin/")["Location"].startswith("/admin/login/")
    otp.enrol_through_the_page(apex_client, "public", "op.otp", "/otp/setup/")
    assert apex_client.get("/audit/").status_code == 200
    assert apex_client.get("/admin/").status_code == 200
    assert OperatorAuditEvent.objects.filter(action="otp.enabled", actor_login=operator.login)


def test_an_operator_who_lost_the_authenticator_is_reset_on_the_server_and_enrols_again(
    apex_client, db
):
    """ASVS 2.5.7: operators are created on the server (createsuperuser); a lost
    authenticator is reset there too, audited, and they enrol again at next sign-in."""
    operator = User.objects.create_superuser("op.lost", RESIDENT_PASSWORD)
    otp.enrol(operator)
    with pytest.raises(CommandError, match="No platform operator"):
        call_command("reset_operator_authenticator", "--login", "nikt", "--reason", "x")
    out = StringIO()
    call_command(
        "reset_operator_authenticator", "--login", "op.lost", "--reason", "phone lost", stdout=out
    )
    assert "1 device(s) removed" in out.getvalue()
    event = OperatorAuditEvent.objects.get(action="otp.reset")
    assert event.details == {"operator": "op.lost", "reason": "phone lost", "devices": 1}
    password_login(apex_client, "op.lost", "/login/")
    assert apex_client.get("/audit/")["Location"].startswith("/otp/setup/")


def _token(client, login, **extra):
    return client.post(
        "/api/v1/auth/token/",
        {"login": login, "password": RESIDENT_PASSWORD, **extra},
        content_type="application/json",
    )


def test_staff_api_tokens_need_the_code_and_residents_only_once_they_turned_it_on(
    odra, odra_client, in_schema, staff
):
    assert _token(odra_client, staff.login).status_code == 401  # not enrolled yet
    assert _token(odra_client, staff.login, otp="123456").status_code == 401
    with in_schema(odra):
        device = otp.enrol(staff)
        code = otp.code_for(device)
        resident = make_resident(make_person("P2F", "Dwuetapowa"))
    assert _token(odra_client, staff.login).status_code == 401
    assert _token(odra_client, staff.login, otp=code).status_code == 201
    assert _token(odra_client, resident.login).status_code == 201
    with in_schema(odra):
        resident_device = otp.enrol(resident)
        resident_code = otp.code_for(resident_device)
    assert _token(odra_client, resident.login).status_code == 401
    assert _token(odra_client, resident.login, otp=resident_code).status_code == 201


def test_a_resident_turns_two_factor_on_and_off(odra, in_schema):
    with in_schema(odra):
        resident = make_resident(make_person("P3F", "Ostrożna"))
    client = Client(HTTP_HOST="odra.localhost")
    password_login(client, resident.login, "/login/")
    account = client.get("/konto/").content.decode()
    assert "/konto/dwuetapowa/" in account
    otp.enrol_through_the_page(client, odra.schema_name, resident.login, "/konto/dwuetapowa/")
    assert client.get("/").status_code == 200  # this session is verified by the enrolment

    later = Client(HTTP_HOST="odra.localhost")
    password_login(later, resident.login, "/login/")
    assert later.get("/")["Location"].startswith("/login/kod/?next=")
    assert later.get("/konto/")["Location"].startswith("/login/kod/")
    with in_schema(odra):
        code = otp.code_for(TOTPDevice.objects.get(user=resident))
    assert later.post("/login/kod/", {"code": code})["Location"] == "/"
    assert later.get("/").status_code == 200

    assert later.post("/konto/dwuetapowa/wylacz/", {"code": "000000"})["Location"] == "/konto/"
    with in_schema(odra):
        assert TOTPDevice.objects.filter(user=resident, confirmed=True).exists()
    time.sleep(1.1)
    with in_schema(odra):
        code = otp.code_for(TOTPDevice.objects.get(user=resident))
    later.post("/konto/dwuetapowa/wylacz/", {"code": code})
    with in_schema(odra):
        assert not TOTPDevice.objects.filter(user=resident).exists()
        assert AuditEvent.objects.filter(action="otp.disabled", target_login=resident.login)
    fresh = Client(HTTP_HOST="odra.localhost")
    password_login(fresh, resident.login, "/login/")
    assert fresh.get("/").status_code == 200


@pytest.mark.parametrize(
    ("area", "login_path", "account_path", "renew_path", "verify_path"),
    [
        ("panel", "/panel/login/", "/panel/account/", "/panel/otp/recovery-codes/", "/panel/otp/"),
        ("portal", "/login/", "/konto/", "/konto/dwuetapowa/kody/", "/login/kod/"),
    ],
)
def test_new_recovery_codes_replace_the_old_ones_and_are_shown_once(
    odra, in_schema, area, login_path, account_path, renew_path, verify_path
):
    with in_schema(odra):
        user = (
            make_staff("renew.staff", role="viewer")
            if area == "panel"
            else make_resident(make_person("PRC", "Odnowiona"))
        )
    client = Client(HTTP_HOST="odra.localhost")
    password_login(client, user.login, login_path)
    setup = "/panel/otp/setup/" if area == "panel" else "/konto/dwuetapowa/"
    old = otp.enrol_through_the_page(client, odra.schema_name, user.login, setup)
    assert renew_path in client.get(account_path).content.decode()

    assert client.get(renew_path).status_code == 405  # a change: POST only
    shown = client.post(renew_path)
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    new = shown.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    with in_schema(odra):
        assert AuditEvent.objects.filter(
            action="otp.recovery_codes_renewed", target_login=user.login
        ).exists()

    def second_step(code):
        later = Client(HTTP_HOST="odra.localhost")
        password_login(later, user.login, login_path)
        return later.post(verify_path, {"code": code})

    assert second_step(old[0]).status_code == 200  # refused: the old codes are gone
    time.sleep(1.1)  # django-otp's throttle after that failure
    assert second_step(new[0]).status_code == 302


def test_new_recovery_codes_need_a_verified_session_with_an_authenticator(odra, in_schema, staff):
    half = Client(HTTP_HOST="odra.localhost")
    password_login(half, staff.login)
    # Password only: to the second step first, nothing made.
    assert half.post("/panel/otp/recovery-codes/")["Location"].startswith("/panel/otp/setup/")
    with in_schema(odra):
        resident = make_resident(make_person("PNA", "Bezkodowa"))
    without = Client(HTTP_HOST="odra.localhost")
    password_login(without, resident.login, "/login/")
    assert without.post("/konto/dwuetapowa/kody/").status_code == 404
    with in_schema(odra):
        assert not StaticToken.objects.filter(device__user__in=[resident, staff]).exists()
