"""Stored secrets encrypted by Vault's Transit engine (ASVS 6.4.2, decision 0783), against
a local server of the Transit HTTP API over TLS (tests/support/vault_transit.py)."""

import socket
import subprocess
import sys
from binascii import hexlify

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import Client

from connectors.secrets import decrypt_secrets, encrypt_secrets
from connectors.services import ConfigurationError, configure_connector
from ebok.accounts import two_factor
from ebok.accounts.models import User
from ebok.keys.models import EncryptedTOTPDevice
from ebok.keys.transit import TransitError
from tenants.models import ConnectorSettings, OperatorAuditEvent
from tests.security.test_keys import raw_column
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_staff
from tests.support.processes import ROOT, process_env
from tests.support.vault_transit import TOKEN, transit_backend


@pytest.fixture
def vault(settings, tmp_path):
    with transit_backend(settings, tmp_path) as server:
        yield server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_totp_enrolment_and_verification_work_with_the_key_in_vault(vault, odra, in_schema):
    with in_schema(odra):
        staff = make_staff("transit.staff", role="admin")
    client = Client(HTTP_HOST="odra.localhost")
    login = client.post("/panel/login/", {"username": staff.login, "password": RESIDENT_PASSWORD})
    assert login.status_code == 302, login
    otp.enrol_through_the_page(client, odra.schema_name, staff.login)

    with in_schema(odra):
        device = EncryptedTOTPDevice.objects.get(user=staff, confirmed=True)
        [stored] = raw_column(odra.schema_name, "encrypted_key", "keys_encryptedtotpdevice")
        assert stored.startswith("vault:v1:")
        assert hexlify(device.bin_key).decode() not in stored.lower()
        decrypts_before = [call for call in vault.calls if call[0] == "decrypt"]
        assert two_factor.check_code(staff, otp.code_for(device)) == device
        # Each verification asks Vault for the TOTP key; the app holds no key of its own.
        assert len([call for call in vault.calls if call[0] == "decrypt"]) > len(decrypts_before)
        assert all(name == "ebok-totp-keys" for _op, name, _n in vault.calls)


def _fernet_secrets(odra, warta, in_schema) -> dict:
    """Connector secrets of two cooperatives and a TOTP key in ODRA's and the public
    schema, encrypted by the default Fernet backend; returns what each must decrypt to."""
    plain = {}
    for coop in (odra, warta):
        token = f"zsi-token-of-{coop.code}"
        ConnectorSettings.objects.update_or_create(
            cooperative=coop,
            defaults={
                "connector": "zsi-rest",
                "config": {"url": "https://zsi.example/api"},
                "encrypted_secrets": encrypt_secrets({"token": token}),
            },
        )
        plain[coop.code] = token
    with in_schema(odra):
        staff = make_staff("migrating.staff")
        plain["staff"] = (staff, otp.enrol(staff).bin_key)
    operator = User.objects.create_user("migrating.op", RESIDENT_PASSWORD, kind=User.Kind.OPERATOR)
    plain["operator"] = (operator, otp.enrol(operator).bin_key)
    return plain


def _stored(odra) -> list[str]:
    """Every stored encrypted value (a connector without secrets stores "")."""
    columns = (
        raw_column("public", "encrypted_secrets", "tenants_connectorsettings")
        + raw_column(odra.schema_name, "encrypted_key", "keys_encryptedtotpdevice")
        + raw_column("public", "encrypted_key", "keys_encryptedtotpdevice")
    )
    return [value for value in columns if value]


def _assert_everything_opens(plain, odra, in_schema) -> None:
    for code in ("ODRA", "WARTA"):
        row = ConnectorSettings.objects.get(cooperative__code=code)
        assert decrypt_secrets(row.encrypted_secrets) == {"token": plain[code]}
    staff, staff_key = plain["staff"]
    with in_schema(odra):
        device = EncryptedTOTPDevice.objects.get(user=staff)
        assert device.bin_key == staff_key
        assert two_factor.check_code(staff, otp.code_for(device)) == device
    operator, operator_key = plain["operator"]
    assert EncryptedTOTPDevice.objects.get(user=operator).bin_key == operator_key


def _assert_no_plaintext(stored: list[str], plain) -> None:
    text = "\n".join(stored).lower()
    for value in (plain["ODRA"], plain["WARTA"], plain["staff"][1], plain["operator"][1]):
        needle = value.lower() if isinstance(value, str) else hexlify(value).decode()
        assert needle not in text


def test_rotation_moves_fernet_values_to_transit_then_rewraps_after_a_key_rotation(
    odra, warta, in_schema, settings, tmp_path
):
    plain = _fernet_secrets(odra, warta, in_schema)
    assert all(value.startswith("gAAAA") for value in _stored(odra))

    with transit_backend(settings, tmp_path) as vault:
        # Before the migration the Fernet values still open: the token says its backend.
        _assert_everything_opens(plain, odra, in_schema)
        call_command("rotate_secrets")
        moved = _stored(odra)
        assert len(moved) >= 4 and all(value.startswith("vault:v1:") for value in moved)
        _assert_no_plaintext(moved, plain)
        _assert_everything_opens(plain, odra, in_schema)
        # Set-based: one encrypt request per purpose, however many values.
        assert ("encrypt", "ebok-connector-secrets", 2) in vault.calls
        assert [c for c in vault.calls if c[0] == "encrypt" and c[1] == "ebok-totp-keys"][-1][
            2
        ] >= 2

        vault.rotate("ebok-connector-secrets")
        vault.rotate("ebok-totp-keys")
        vault.calls.clear()
        call_command("rotate_secrets")
        rewrapped = _stored(odra)
        assert all(value.startswith("vault:v2:") for value in rewrapped)
        _assert_no_plaintext(rewrapped, plain)
        # Rewrapped inside Vault: no plaintext came back to the application.
        assert {operation for operation, _name, _n in vault.calls} == {"rewrap"}
        # The old key version can now be retired and everything still opens.
        vault.engine.min_decryption_version.update(
            {"ebok-connector-secrets": 2, "ebok-totp-keys": 2}
        )
        _assert_everything_opens(plain, odra, in_schema)
    event = OperatorAuditEvent.objects.filter(action="keys.rotated").first()
    assert event.details["backend"] == "vault-transit" and event.details["otp_keys"] >= 2


def test_rotation_with_a_wrong_token_or_without_vault_fails_clearly_and_changes_nothing(
    odra, warta, in_schema, settings, tmp_path
):
    plain = _fernet_secrets(odra, warta, in_schema)
    before = _stored(odra)
    with transit_backend(settings, tmp_path) as vault:
        settings.VAULT_TOKEN = "hvs.someone-elses-token"
        with pytest.raises(CommandError) as refused:
            call_command("rotate_secrets")
        assert "permission denied (HTTP 403)" in str(refused.value)
        assert vault.url in str(refused.value)
        assert _stored(odra) == before

        settings.VAULT_TOKEN = TOKEN
        call_command("rotate_secrets")
        migrated = _stored(odra)
        vault.engine.min_decryption_version["ebok-totp-keys"] = 2  # v1 retired too early
        with pytest.raises(CommandError) as unreadable:
            call_command("rotate_secrets")
        operator_device = EncryptedTOTPDevice.objects.get(user=plain["operator"][0])
        assert f"TOTP device {operator_device.pk} in public" in str(unreadable.value)
        assert "Nothing was changed" in str(unreadable.value)
        assert _stored(odra) == migrated

    settings.VAULT_ADDR = f"https://127.0.0.1:{closed_port()}"
    with pytest.raises(
        CommandError, match=r"Vault Transit at https://127\.0\.0\.1:\d+ .*no answer"
    ):
        call_command("rotate_secrets")
    assert _stored(odra) == migrated
    assert OperatorAuditEvent.objects.filter(action="keys.rotated").count() == 1


def test_a_vault_outage_is_a_clear_error_and_stores_nothing(odra, settings, tmp_path):
    with transit_backend(settings, tmp_path):
        pass  # configured, then gone
    with pytest.raises(ConfigurationError, match="Vault Transit at .* no answer"):
        configure_connector(
            odra,
            connector="zsi-rest",
            config={"url": "https://zsi.example/api", "token": "never-stored-token"},
        )
    assert not ConnectorSettings.objects.filter(cooperative=odra).exists()
    operator = User.objects.create_user("outage.op", RESIDENT_PASSWORD, kind=User.Kind.OPERATOR)
    with pytest.raises(TransitError, match="no answer"):
        otp.enrol(operator)
    assert not EncryptedTOTPDevice.objects.filter(user=operator).exists()
    assert "never-stored-token" not in "".join(
        raw_column("public", "encrypted_secrets", "tenants_connectorsettings")
    )


def test_a_vault_outage_at_the_second_step_of_a_login_is_a_503_that_says_so(
    odra, in_schema, settings, tmp_path, caplog
):
    with transit_backend(settings, tmp_path), in_schema(odra):
        staff = make_staff("outage.staff", role="admin")
        device = otp.enrol(staff)
        code = otp.code_for(device)
    # Vault is gone now; the password step needs no key, the code step does.
    client = Client(HTTP_HOST="odra.localhost")
    login = client.post("/panel/login/", {"username": staff.login, "password": RESIDENT_PASSWORD})
    assert login.status_code == 302
    assert client.get("/panel/")["Location"].startswith("/panel/otp/")
    with caplog.at_level("ERROR", logger="ebok.security"):
        response = client.post("/panel/otp/", {"code": code})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Logowanie jest chwilowo niedostępne" in response.content.decode()
    assert any("Key service unavailable" in r.getMessage() for r in caplog.records)
    # Still only half logged in: the panel asks for the code again.
    assert client.get("/panel/")["Location"].startswith("/panel/otp/")


def test_the_token_file_of_a_vault_agent_is_read_at_each_use(vault, settings, tmp_path):
    sink = tmp_path / "vault-token"
    sink.write_text("hvs.expired-token\n")
    settings.VAULT_TOKEN, settings.VAULT_TOKEN_FILE = "", str(sink)
    with pytest.raises(TransitError, match="permission denied"):
        encrypt_secrets({"token": "x"})
    sink.write_text(TOKEN + "\n")  # the agent renewed it: no restart needed
    assert decrypt_secrets(encrypt_secrets({"token": "x"})) == {"token": "x"}


def test_production_deploy_check_accepts_transit_without_fernet_key_lists(tmp_path):
    token_file = tmp_path / "vault-token"
    token_file.write_text("hvs.deployment-token\n")
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="q7#Lw9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        DEBUG="0",
        CONNECTOR_SECRET_KEYS="",
        OTP_KEY_ENCRYPTION_KEYS="",
        PASSWORD_PEPPERS=Fernet.generate_key().decode(),
        DOCUMENT_KEYS=Fernet.generate_key().decode(),
        ANTIVIRUS_URL="off",
        SECRETS_BACKEND="vault-transit",
        VAULT_ADDR="",
        VAULT_TOKEN_FILE=str(token_file),
    )
    env.pop("VAULT_TOKEN", None)
    check = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"]

    def run(**changes) -> subprocess.CompletedProcess:
        return subprocess.run(
            check, cwd=ROOT, env={**env, **changes}, capture_output=True, text=True
        )

    missing = run()
    assert missing.returncode != 0 and "keys.E005" in missing.stderr
    assert "VAULT_ADDR is not set" in missing.stderr

    plain_http = run(VAULT_ADDR="http://vault.internal:8200")
    assert plain_http.returncode != 0 and "keys.E006" in plain_http.stderr

    unknown = run(VAULT_ADDR="https://vault.internal:8200", SECRETS_BACKEND="hsm")
    assert "SECRETS_BACKEND must be fernet or vault-transit, not 'hsm'" in unknown.stderr

    good = run(VAULT_ADDR="https://vault.internal:8200")
    assert good.returncode == 0, good.stderr
    assert "keys." not in good.stderr
