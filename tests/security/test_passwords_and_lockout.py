"""Password policy, issued-password expiry and login throttling."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from ebok.accounts import services
from ebok.accounts.models import User
from ebok.accounts.passwords import ISSUED_PASSWORD_ALPHABET
from ebok.models import AuditEvent
from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident


@pytest.fixture
def person(odra, in_schema):
    with in_schema(odra):
        yield make_person("P100", "Wiśniewska", "Ewa", email="ewa@example.pl")


def test_argon2id_hashes_passwords_with_the_owasp_profile(odra, in_schema, person):
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    assert hasher.algorithm == "argon2pep"  # Argon2id under the pepper (decision 0814)
    with in_schema(odra):
        user = make_resident(person)
    encoded = user.password
    assert encoded.startswith("argon2pep$")
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in encoded


def test_issued_password_is_long_random_and_stored_only_as_argon2(odra, in_schema, person):
    with in_schema(odra):
        issued = services.grant_access(person_source_id="P100")
        user = User.objects.get(pk=issued.user.pk)
        assert len(issued.password) >= 12
        assert set(issued.password) <= set(ISSUED_PASSWORD_ALPHABET)
        assert not set(issued.password) & set("0Oo1lIi")
        assert identify_hasher(user.password).algorithm == "argon2pep"
        assert issued.password not in user.password
        assert user.must_change_password
        events = AuditEvent.objects.filter(target_login=user.login)
        assert events.exists()
        assert issued.password not in str(list(events.values()))


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        ("krótkie-11z", "too short"),
        ("password1234", "too common"),
        ("x" * 129, "too long"),
    ],
)
def test_weak_new_passwords_are_refused(odra, in_schema, person, new, problem):
    with in_schema(odra):
        user = make_resident(person)
        with pytest.raises(ValidationError) as error, translation.override("en"):
            services.change_password(user=user, current=RESIDENT_PASSWORD, new=new)
        assert problem in str(error.value)
        user.refresh_from_db()
        assert user.check_password(RESIDENT_PASSWORD)


def test_long_passphrase_without_composition_rules_is_accepted(odra, in_schema, person):
    with in_schema(odra):
        user = make_resident(person)
        passphrase = "bardzo długie hasło bez cyfr i znaków, ale z sensem " + "ą" * 14
        assert len(passphrase) >= 64
        services.change_password(user=user, current=RESIDENT_PASSWORD, new=passphrase)
        user.refresh_from_db()
        assert user.check_password(passphrase)
        assert not user.must_change_password


def test_issued_password_unused_for_14_days_stops_working(odra, in_schema, person, odra_client):
    with in_schema(odra):
        issued = services.grant_access(person_source_id="P100")
        User.objects.filter(pk=issued.user.pk).update(
            password_issued_at=timezone.now() - timedelta(days=15)
        )
    response = odra_client.post(
        "/login/", {"username": issued.user.login, "password": issued.password}
    )
    assert response.status_code == 200  # the form again, no session
    assert "_auth_user_id" not in odra_client.session


def test_issued_password_within_14_days_logs_in(odra, in_schema, person, odra_client):
    with in_schema(odra):
        issued = services.grant_access(person_source_id="P100")
        User.objects.filter(pk=issued.user.pk).update(
            password_issued_at=timezone.now() - timedelta(days=13)
        )
    response = odra_client.post(
        "/login/", {"username": issued.user.login, "password": issued.password}
    )
    assert response.status_code == 302


def _attempt(client, login, password, ip):
    return client.post("/login/", {"username": login, "password": password}, REMOTE_ADDR=ip)


def test_lockout_by_login_and_address_spares_other_addresses(odra, in_schema, person, odra_client):
    with in_schema(odra):
        user = make_resident(person)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(odra_client, user.login, "wrong-password-123", "203.0.113.10")
    locked = _attempt(odra_client, user.login, RESIDENT_PASSWORD, "203.0.113.10")
    assert locked.status_code == 429
    # The resident, from their own address, still gets in.
    assert _attempt(odra_client, user.login, RESIDENT_PASSWORD, "198.51.100.20").status_code == 302
    with in_schema(odra):
        failures = AuditEvent.objects.filter(action="login.failed", target_login=user.login)
        assert failures.count() >= settings.AXES_FAILURE_LIMIT
        assert "wrong-password-123" not in str(list(failures.values()))


def test_lockout_in_one_cooperative_does_not_lock_the_same_login_elsewhere(
    odra, warta, in_schema, odra_client, warta_client
):
    with in_schema(odra):
        make_resident(make_person("P1", "Zieliński"), login="wspolny.login")
    with in_schema(warta):
        make_resident(make_person("P1", "Zieliński"), login="wspolny.login")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _attempt(odra_client, "wspolny.login", "wrong-password-123", "203.0.113.10")
    assert (
        _attempt(warta_client, "wspolny.login", RESIDENT_PASSWORD, "203.0.113.10").status_code
        == 302
    )
