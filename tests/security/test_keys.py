"""Key management (ASVS 1.6.x, 2.8.2, 2.10.x, 6.4.x): secrets from vault-mounted
files, rotatable key rings, TOTP keys encrypted at rest, deploy checks."""

import importlib
import subprocess
import sys
from binascii import hexlify
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from connectors.secrets import decrypt_secrets, encrypt_secrets
from ebok.accounts import two_factor
from ebok.accounts.models import User
from ebok.keys.keyring import CONNECTOR_SECRETS, OTP_KEYS, keys_of
from ebok.keys.models import EncryptedTOTPDevice
from tenants.models import ConnectorSettings, OperatorAuditEvent
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_staff
from tests.support.processes import ROOT, process_env


def new_key() -> str:
    return Fernet.generate_key().decode()


def raw_column(schema: str, column: str, table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(f'SELECT {column} FROM "{schema}".{table} ORDER BY id')  # noqa: S608
        return [row[0] for row in cur.fetchall()]


def settings_in_a_process(env: dict, expression: str) -> subprocess.CompletedProcess:
    script = f"import django; django.setup(); from django.conf import settings as s; {expression}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_secret_settings_come_from_vault_mounted_files(tmp_path):
    files = {
        "SECRET_KEY": "f" * 20 + "file-mounted-secret-key-0123456789",
        "REDIS_URL": "redis://:redis-pass@127.0.0.1:6379/8",
        "DATABASE_PASSWORD": "db-pass-from-vault",
        "CONNECTOR_SECRET_KEYS": f"{new_key()}\n{new_key()}\n",
        "OTP_KEY_ENCRYPTION_KEYS": new_key(),
        "EMAIL_HOST_PASSWORD": "smtp-pass-from-vault",
    }
    env = process_env()
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
        env.pop(name, None)
        env[f"{name}_FILE"] = str(tmp_path / name)
    result = settings_in_a_process(
        env,
        "print(s.SECRET_KEY); print(s.REDIS_URL); print(s.DATABASES['default']['PASSWORD']); "
        "print(','.join(s.CONNECTOR_SECRET_KEYS)); print(','.join(s.OTP_KEY_ENCRYPTION_KEYS)); "
        "print(s.EMAIL_HOST_PASSWORD)",
    )
    assert result.stdout.splitlines() == [
        files["SECRET_KEY"],
        files["REDIS_URL"],
        files["DATABASE_PASSWORD"],
        ",".join(files["CONNECTOR_SECRET_KEYS"].split()),
        files["OTP_KEY_ENCRYPTION_KEYS"],
        files["EMAIL_HOST_PASSWORD"],
    ], result.stderr

    both = settings_in_a_process({**env, "SECRET_KEY": "x" * 50}, "print(s.SECRET_KEY)")
    assert both.returncode != 0 and "Set SECRET_KEY or SECRET_KEY_FILE, not both" in both.stderr


@pytest.mark.parametrize(
    "name, value",
    [
        ("SECRET_KEY", "change-me-to-50-random-characters"),
        ("SECRET_KEY", "dev-only-insecure-key-" + "x" * 40),
        ("CONNECTOR_SECRET_KEYS", "change-me"),
    ],
)
def test_production_refuses_published_example_and_development_secrets(name, value):
    env = process_env(DJANGO_ENV="production", SECRET_KEY="q7#Lw9!vR2$mZ8@kT4^wN6&pB3*cF5" * 2)
    env[name] = value
    result = settings_in_a_process(env, "print(s.SECRET_KEY)")
    assert result.returncode != 0
    assert f"{name} holds a published development or example value" in result.stderr


def test_production_deploy_check_wants_own_keys_and_a_scanner_or_an_explicit_off():
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="q7#Lw9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        DEBUG="0",
        CONNECTOR_SECRET_KEYS="",
        OTP_KEY_ENCRYPTION_KEYS="",
        DOCUMENT_KEYS="",
        PASSWORD_PEPPERS="",
        ANTIVIRUS_URL="",
    )
    check = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"]
    bare = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
    assert bare.returncode != 0
    for expected in (
        "CONNECTOR_SECRET_KEYS is not set",
        "OTP_KEY_ENCRYPTION_KEYS is not set",
        "DOCUMENT_KEYS is not set",
        "PASSWORD_PEPPERS is not set",
    ):
        assert expected in bare.stderr
    assert "keys.E004" in bare.stderr and "ANTIVIRUS_URL is not set" in bare.stderr

    env.update(CONNECTOR_SECRET_KEYS="not-a-key", OTP_KEY_ENCRYPTION_KEYS=new_key())
    env.update(ANTIVIRUS_URL="http://clamd")
    wrong = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
    assert "CONNECTOR_SECRET_KEYS: key 1 is not a Fernet key" in wrong.stderr
    assert "ANTIVIRUS_URL must look like tcp://host:3310" in wrong.stderr

    env.update(CONNECTOR_SECRET_KEYS=new_key(), DOCUMENT_KEYS=new_key(), ANTIVIRUS_URL="off")
    env.update(PASSWORD_PEPPERS=new_key())
    good = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert "keys." not in good.stderr


def test_totp_keys_are_stored_encrypted_and_codes_still_verify(
    staff_client_for_enrolment, odra, in_schema
):
    client, staff = staff_client_for_enrolment
    otp.enrol_through_the_page(client, odra.schema_name, staff.login)
    with in_schema(odra):
        device = EncryptedTOTPDevice.objects.get(user=staff, confirmed=True)
        key = device.bin_key
        assert not PlainTOTPDevice.objects.exists()
        [stored] = raw_column(odra.schema_name, "encrypted_key", "keys_encryptedtotpdevice")
        assert len(key) == 20
        assert hexlify(key).decode() not in stored.lower()
        assert stored.startswith("gAAAA")  # a Fernet token (version byte 0x80)
        assert two_factor.check_code(staff, otp.code_for(device)) == device


@pytest.fixture
def staff_client_for_enrolment(odra, in_schema):
    from django.test import Client

    with in_schema(odra):
        staff = make_staff("keys.staff", role="admin")
    client = Client(HTTP_HOST="odra.localhost")
    response = client.post(
        "/panel/login/", {"username": staff.login, "password": RESIDENT_PASSWORD}
    )
    assert response.status_code == 302, response
    return client, staff


def test_the_migration_encrypts_existing_plain_keys_in_each_schema(odra, in_schema):
    migration = importlib.import_module("ebok.keys.migrations.0002_encrypt_existing_totp_keys")
    with in_schema(odra):
        staff = make_staff("plain.staff")
        plain = PlainTOTPDevice.objects.create(user=staff, name="authenticator", last_t=7)
        key = plain.bin_key
        migration.encrypt_existing_keys(apps, SimpleNamespace(connection=connection))
        assert not PlainTOTPDevice.objects.exists()
        moved = EncryptedTOTPDevice.objects.get(user=staff)
        assert (moved.bin_key, moved.name, moved.confirmed, moved.last_t) == (
            key,
            "authenticator",
            True,
            7,
        )
        [stored] = raw_column(odra.schema_name, "encrypted_key", "keys_encryptedtotpdevice")
        assert plain.key not in stored.lower()
        assert two_factor.check_code(staff, otp.code_for(moved)) == moved


@pytest.fixture
def secrets_everywhere(odra, warta, in_schema, settings):
    """Connector secrets of two cooperatives and authenticators in ODRA's and the
    public schema, all encrypted under the "old" keys."""
    # Keys the schemas other tests left behind were encrypted with stay in the rings.
    earlier = SimpleNamespace(connector=keys_of(CONNECTOR_SECRETS), otp=keys_of(OTP_KEYS))
    old = SimpleNamespace(connector=new_key(), otp=new_key())
    settings.CONNECTOR_SECRET_KEYS = [old.connector, *earlier.connector]
    settings.OTP_KEY_ENCRYPTION_KEYS = [old.otp, *earlier.otp]
    for coop in (odra, warta):
        ConnectorSettings.objects.update_or_create(
            cooperative=coop,
            defaults={
                "connector": "zsi-rest",
                "config": {"url": "https://zsi.example/api"},
                "encrypted_secrets": encrypt_secrets({"token": f"token-of-{coop.code}"}),
            },
        )
    with in_schema(odra):
        staff = make_staff("rotating.staff")
        staff_key = otp.enrol(staff).bin_key
    operator = User.objects.create_user("rotating.op", RESIDENT_PASSWORD, kind=User.Kind.OPERATOR)
    operator_key = otp.enrol(operator).bin_key
    return SimpleNamespace(
        old=old,
        earlier=earlier,
        staff=staff,
        staff_key=staff_key,
        operator=operator,
        operator_key=operator_key,
    )


def _snapshot(odra) -> tuple:
    return (
        raw_column("public", "encrypted_secrets", "tenants_connectorsettings"),
        raw_column(odra.schema_name, "encrypted_key", "keys_encryptedtotpdevice"),
        raw_column("public", "encrypted_key", "keys_encryptedtotpdevice"),
    )


def test_rotation_re_encrypts_every_secret_so_the_old_keys_can_go(
    secrets_everywhere, odra, warta, in_schema, settings
):
    state = secrets_everywhere
    new = SimpleNamespace(connector=new_key(), otp=new_key())
    settings.CONNECTOR_SECRET_KEYS = [new.connector, state.old.connector, *state.earlier.connector]
    settings.OTP_KEY_ENCRYPTION_KEYS = [new.otp, state.old.otp, *state.earlier.otp]
    before = _snapshot(odra)

    call_command("rotate_secrets", "--dry-run")
    assert _snapshot(odra) == before
    call_command("rotate_secrets")

    settings.CONNECTOR_SECRET_KEYS = [new.connector]
    settings.OTP_KEY_ENCRYPTION_KEYS = [new.otp]
    for coop in (odra, warta):
        row = ConnectorSettings.objects.get(cooperative=coop)
        assert decrypt_secrets(row.encrypted_secrets) == {"token": f"token-of-{coop.code}"}
    with in_schema(odra):
        device = EncryptedTOTPDevice.objects.get(user=state.staff)
        assert device.bin_key == state.staff_key
        assert two_factor.check_code(state.staff, otp.code_for(device)) == device
    device = EncryptedTOTPDevice.objects.get(user=state.operator)
    assert device.bin_key == state.operator_key
    assert two_factor.check_code(state.operator, otp.code_for(device)) == device
    event = OperatorAuditEvent.objects.filter(action="keys.rotated").first()
    assert event.details["connector_secrets"] >= 2 and event.details["otp_keys"] >= 2


def test_rotation_without_the_old_key_is_a_clear_error_and_changes_nothing(
    secrets_everywhere, odra, settings
):
    before = _snapshot(odra)
    settings.CONNECTOR_SECRET_KEYS = [new_key()]
    settings.OTP_KEY_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CommandError) as error:
        call_command("rotate_secrets")
    message = str(error.value)
    assert "connector secrets of ODRA" in message and "connector secrets of WARTA" in message
    assert f"TOTP device {EncryptedTOTPDevice.objects.get().pk} in public" in message
    assert "Nothing was changed" in message
    assert _snapshot(odra) == before
    assert not OperatorAuditEvent.objects.filter(action="keys.rotated").exists()

    settings.CONNECTOR_SECRET_KEYS = ["not-a-fernet-key"]
    with pytest.raises(CommandError, match="CONNECTOR_SECRET_KEYS: key 1 is not a Fernet key"):
        call_command("rotate_secrets")
    assert _snapshot(odra) == before
