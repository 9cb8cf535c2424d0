"""Password pepper (ASVS 2.4.5, decision 0814): an HMAC-SHA256 under a secret kept apart
from the database runs before Argon2id; peppers rotate, older hashes are redone at login."""

import base64
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.test import Client

from ebok.accounts.hashers import pepper_from, peppers
from ebok.accounts.models import User
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident, make_staff
from tests.support.processes import ROOT, process_env

PROFILE = "$argon2id$v=19$m=19456,t=2,p=1$"


def new_pepper() -> str:
    return secrets.token_urlsafe(32)


def key_id(pepper: str) -> str:
    return pepper_from(pepper, 1).key_id


@pytest.fixture
def person(odra, in_schema):
    with in_schema(odra):
        return make_person("PP1", "Pieprzowa", "Anna")


def test_a_new_password_is_stored_under_the_peppered_hasher_and_verifies(
    settings, odra, in_schema, person
):
    pepper = new_pepper()
    settings.PASSWORD_PEPPERS = [pepper]
    assert get_hasher().algorithm == "argon2pep"
    with in_schema(odra):
        user = make_resident(person)
        stored = User.objects.get(pk=user.pk)
    assert stored.password.startswith(f"argon2pep${key_id(pepper)}{PROFILE}")
    assert len(stored.password) <= User._meta.get_field("password").max_length
    assert stored.check_password(RESIDENT_PASSWORD)
    assert not stored.check_password(RESIDENT_PASSWORD + "x")


def test_the_stored_hash_does_not_verify_with_another_pepper(settings):
    pepper, other = new_pepper(), new_pepper()
    settings.PASSWORD_PEPPERS = [pepper]
    encoded = make_password(RESIDENT_PASSWORD)
    assert check_password(RESIDENT_PASSWORD, encoded)

    settings.PASSWORD_PEPPERS = [other]
    assert not check_password(RESIDENT_PASSWORD, encoded)
    # Even named as the other pepper's hash, the Argon2id input differs: no match.
    relabelled = encoded.replace(f"${key_id(pepper)}$", f"${key_id(other)}$", 1)
    assert relabelled != encoded
    assert not check_password(RESIDENT_PASSWORD, relabelled)


def test_a_hash_under_the_older_pepper_verifies_and_is_redone_under_the_new_one_at_login(
    settings, odra, in_schema
):
    old, new = new_pepper(), new_pepper()
    settings.PASSWORD_PEPPERS = [old]
    with in_schema(odra):
        staff = make_staff("pieprz.kasjer")
    before = staff.password
    assert before.startswith(f"argon2pep${key_id(old)}$")

    settings.PASSWORD_PEPPERS = [new, old]
    assert check_password(RESIDENT_PASSWORD, before)  # no setter: nothing rewritten yet
    client = Client(HTTP_HOST="odra.localhost")
    response = client.post(
        "/panel/login/", {"username": staff.login, "password": RESIDENT_PASSWORD}
    )
    assert response.status_code == 302  # on to the second factor: the password was right
    with in_schema(odra):
        staff.refresh_from_db()
    assert staff.password.startswith(f"argon2pep${key_id(new)}{PROFILE}")
    settings.PASSWORD_PEPPERS = [new]  # the old pepper can go now
    assert check_password(RESIDENT_PASSWORD, staff.password)


def test_a_plain_argon2id_hash_verifies_and_becomes_a_peppered_one_at_login(
    settings, odra, in_schema, person
):
    pepper = new_pepper()
    settings.PASSWORD_PEPPERS = [pepper]
    with in_schema(odra):
        user = make_resident(person)
        plain = make_password(RESIDENT_PASSWORD, hasher="argon2")
        User.objects.filter(pk=user.pk).update(password=plain)
    assert plain.startswith(f"argon2{PROFILE}")

    client = Client(HTTP_HOST="odra.localhost")
    response = client.post("/login/", {"username": user.login, "password": RESIDENT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    with in_schema(odra):
        user.refresh_from_db()
    assert user.password.startswith(f"argon2pep${key_id(pepper)}{PROFILE}")
    assert check_password(RESIDENT_PASSWORD, user.password)


def test_the_pepper_never_appears_in_the_hash(settings):
    pepper = new_pepper()
    settings.PASSWORD_PEPPERS = [pepper]
    secret = pepper_from(pepper, 1).secret
    encoded = make_password(RESIDENT_PASSWORD)
    summary = " ".join(str(v) for v in get_hasher().safe_summary(encoded).values())
    for form in (
        pepper,
        secret.hex(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    ):
        assert form not in encoded and form not in summary
    assert RESIDENT_PASSWORD not in encoded


def test_development_derives_the_pepper_from_secret_key_and_its_fallbacks(settings):
    settings.PASSWORD_PEPPERS = []
    settings.SECRET_KEY_FALLBACKS = ["an-earlier-development-secret-key-" + "y" * 20]
    derived = peppers()
    assert len(derived) == 2 and all(len(p.secret) >= 32 for p in derived)
    assert len({p.key_id for p in derived}) == 2
    assert check_password(RESIDENT_PASSWORD, make_password(RESIDENT_PASSWORD))


def deploy_check(**changes: str) -> subprocess.CompletedProcess:
    """``check --deploy`` of a production otherwise complete, with only ``changes`` as
    its PASSWORD_PEPPERS settings."""
    keys = ("CONNECTOR_SECRET_KEYS", "OTP_KEY_ENCRYPTION_KEYS", "DOCUMENT_KEYS")
    env = process_env(
        DJANGO_ENV="production",
        SECRET_KEY="p7#Lw9!vR2$mZ8@kT4^wN6&pB3*cF5(hJ1)dG0-sY" * 2,
        DEBUG="0",
        ANTIVIRUS_URL="off",
        **{name: Fernet.generate_key().decode() for name in keys},
    )
    env = {k: v for k, v in env.items() if not k.startswith("PASSWORD_PEPPERS")} | changes
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_deploy_check_wants_a_password_pepper_of_32_random_bytes(tmp_path):
    unset = deploy_check()
    assert unset.returncode != 0 and "keys.E007" in unset.stderr
    assert "PASSWORD_PEPPERS is not set" in unset.stderr

    short = deploy_check(PASSWORD_PEPPERS=f"{new_pepper()},{secrets.token_urlsafe(31)}")
    assert short.returncode != 0 and "keys.E007" in short.stderr
    assert "PASSWORD_PEPPERS: pepper 2 is not base64 of at least 32 random bytes" in short.stderr

    published = deploy_check(PASSWORD_PEPPERS="change-me")
    assert published.returncode != 0
    assert "PASSWORD_PEPPERS holds a published development or example value" in published.stderr

    (tmp_path / "pepper").write_text(new_pepper() + "\n")
    from_a_file = deploy_check(PASSWORD_PEPPERS_FILE=str(tmp_path / "pepper"))
    assert from_a_file.returncode == 0, from_a_file.stderr
    assert "keys." not in from_a_file.stderr
