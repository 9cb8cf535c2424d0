"""Login, the first-login steps, password change, logout and "log out everywhere"."""

from ebok.accounts.models import User
from ebok.models import AuditEvent
from tenants.middleware import forget_cached_hosts
from tests.portal.conftest import logged_in
from tests.support import data

NEW_PASSWORD = "Kasztany-spadają-w-październiku"


def log_in(client, login, password=data.RESIDENT_PASSWORD):
    return client.post("/login/", {"username": login, "password": password})


def test_login_page_explains_lost_passwords_with_the_rent_departments_contact(odra_client):
    page = odra_client.get("/login/").content.decode()
    assert "Nie pamiętasz hasła?" in page
    for detail in (
        "pok. nr 3",
        "ul. 1 Maja 22, 55-200 Oława",
        "71 303 93 58",
        "czynsze@odra.example",
        "pon.–pt. 8:00–15:00",
    ):
        assert detail in page
    assert '<label for="id_username">Login</label>' in page
    assert '<label for="id_password">Hasło</label>' in page


def test_first_login_forces_password_change_then_rules_then_dashboard(odra, in_schema, odra_client):
    with in_schema(odra):
        person = data.make_person("F1", "Nowicka", "Ewa")
        user = data.make_resident(person, login="nowicka.1234", ready=False)
    response = log_in(odra_client, "nowicka.1234")
    assert response.status_code == 302
    assert odra_client.get("/").url == "/haslo/"
    for url in ("/dokumenty/", "/kontakt/", "/konto/", "/regulamin/"):
        assert odra_client.get(url).url == "/haslo/", url  # nothing else is reachable

    page = odra_client.get("/haslo/").content.decode()
    assert "Pierwsze logowanie" in page
    assert "Moje lokale" not in page  # no menu until the steps are done
    changed = odra_client.post(
        "/haslo/",
        {"current": data.RESIDENT_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.url == "/"
    assert odra_client.get("/").url == "/regulamin/"  # same session, still logged in
    assert odra_client.get("/dokumenty/").url == "/regulamin/"

    rules = odra_client.get("/regulamin/").content.decode()
    assert "Spółdzielnia nie posiada informacji o indywidualnym haśle." in rules
    refused = odra_client.post("/regulamin/", {"version": 1})  # box not ticked
    assert refused.status_code == 200
    accepted = odra_client.post("/regulamin/", {"version": 1, "accept": "on"})
    assert accepted.url == "/"
    assert odra_client.get("/").status_code == 200

    with in_schema(odra):
        user.refresh_from_db()
        assert not user.must_change_password
        assert user.check_password(NEW_PASSWORD)
        assert user.rules_accepted_version == 1 and user.rules_accepted_at is not None
        actions = set(
            AuditEvent.objects.filter(target_login=user.login).values_list("action", flat=True)
        )
    assert {"account.password_changed", "account.rules_accepted"} <= actions


def publish_rules(cooperative, version):
    cooperative.rules_version = version
    cooperative.save(update_fields=["rules_version"])
    forget_cached_hosts()  # web processes see it within TENANT_CACHE_SECONDS; tests at once


def test_a_new_rules_version_must_be_accepted_again(odra, in_schema, home, as_user):
    client = as_user(home["kowalska_user"])
    assert client.get("/").status_code == 200
    publish_rules(odra, 2)
    try:
        assert client.get("/").url == "/regulamin/"
        stale = client.post("/regulamin/", {"version": 1, "accept": "on"})
        assert stale.url == "/regulamin/"  # read while the rules changed: read again
        assert client.get("/").url == "/regulamin/"
        client.post("/regulamin/", {"version": 2, "accept": "on"})
        assert client.get("/").status_code == 200
    finally:
        publish_rules(odra, 1)


def test_password_change_rejects_a_wrong_current_password_and_weak_new_ones(home, as_user):
    client = as_user(home["kowalska_user"])
    wrong = client.post(
        "/haslo/", {"current": "nie-to-hasło-123", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert wrong.status_code == 200
    assert "Obecne hasło" in wrong.content.decode()
    assert wrong.context["form"].errors["current"]
    short = client.post(
        "/haslo/", {"current": data.RESIDENT_PASSWORD, "new": "krótkie", "confirm": "krótkie"}
    )
    assert short.context["form"].errors["new"]
    differ = client.post(
        "/haslo/",
        {"current": data.RESIDENT_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
    )
    assert differ.context["form"].errors["confirm"]


def test_voluntary_password_change_keeps_this_session_and_ends_the_others(odra, home, in_schema):
    user = home["kowalska_user"]
    here, elsewhere = logged_in(odra, user), logged_in(odra, user)
    response = here.post(
        "/haslo/", {"current": data.RESIDENT_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.url == "/"
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").url.startswith("/login/")


def test_log_out_everywhere_ends_the_other_sessions_only(odra, home):
    user = home["kowalska_user"]
    here, elsewhere = logged_in(odra, user), logged_in(odra, user)
    assert "Wyloguj na wszystkich innych urządzeniach" in here.get("/konto/").content.decode()
    assert here.get("/konto/wyloguj-wszedzie/").status_code == 405  # POST only
    response = here.post("/konto/wyloguj-wszedzie/")
    assert response.url == "/konto/"
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").url.startswith("/login/")


def test_logout_is_a_post_and_ends_the_session(home, odra_client):
    assert log_in(odra_client, home["kowalska_user"].login).status_code == 302
    assert odra_client.get("/logout/").status_code == 405
    assert odra_client.get("/").status_code == 200
    response = odra_client.post("/logout/")
    assert odra_client.get(response.url).url == "/login/"  # by the logged-out message
    assert odra_client.get("/").url.startswith("/login/")


def test_failed_login_says_how_to_get_a_new_password(home, odra_client):
    response = log_in(odra_client, home["kowalska_user"].login, "zle-haslo-zle-haslo")
    assert response.status_code == 200
    assert "poproś spółdzielnię o nowe" in response.content.decode()


def test_blocked_account_cannot_log_in(odra, in_schema, home, odra_client):
    from ebok.accounts import services

    with in_schema(odra):
        services.block_account(user=User.objects.get(pk=home["nowak_user"].pk), reason="misuse")
    assert log_in(odra_client, home["nowak_user"].login).status_code == 200
    assert "_auth_user_id" not in odra_client.session
