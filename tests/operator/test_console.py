"""The platform operators' console on the apex host."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from ebok.accounts.models import User
from ebok.models import AuditEvent
from tenants.middleware import forget_cached_hosts
from tenants.models import ConnectorSettings, Cooperative, Domain, OperatorAuditEvent
from tests.support import otp
from tests.support.data import make_person

PASSWORD = "Operator-platformy-2026"
BACKEND = "ebok.accounts.backends.AccountBackend"


@pytest.fixture(autouse=True)
def _forget_cached_cooperatives():
    yield
    forget_cached_hosts()


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("operator.jan", PASSWORD, display_name="Jan")


@pytest.fixture
def console(apex_client, operator):
    apex_client.force_login(operator, backend=BACKEND)
    otp.pass_second_factor(apex_client, otp.code_for(otp.enrol(operator)), "/otp/")
    return apex_client


def onboarding_data(**changes):
    return {
        "code": "LAZUR",
        "name": "Spółdzielnia Mieszkaniowa „Lazur”",
        "domain": "",
        "connector": "zsi-rest",
        "config": '{"url": "https://zsi.lazur.example/api", "token": "tajny-token"}',
        "schedule": "every 2h",
        "enabled": "on",
        "admin_login": "admin.lazur",
        "admin_name": "Ewa Lazur",
        **changes,
    }


def test_only_operators_log_in_and_others_get_404(apex_client, operator):
    assert apex_client.get("/")["Location"] == "/login/?next=/"
    User.objects.create_user("ktos", PASSWORD, kind=User.Kind.RESIDENT)
    refused = apex_client.post("/login/", {"username": "ktos", "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in apex_client.session
    response = apex_client.post("/login/", {"username": "operator.jan", "password": PASSWORD})
    assert response["Location"] == "/"
    # The second factor is mandatory: first the authenticator, then the console.
    assert apex_client.get("/")["Location"] == "/otp/setup/?next=%2F"
    assert len(otp.enrol_through_the_page(apex_client, "public", "operator.jan", "/otp/setup/"))
    assert apex_client.get("/").status_code == 200
    assert OperatorAuditEvent.objects.filter(action="login.succeeded", actor_login="operator.jan")

    resident = Client(HTTP_HOST="localhost")
    resident.force_login(User.objects.get(login="ktos"), backend=BACKEND)
    for path in ("/", "/cooperatives/new/", "/audit/"):
        assert resident.get(path).status_code == 404


def test_the_onboarding_form_creates_a_working_cooperative(console, operator):
    response = console.post("/cooperatives/new/", onboarding_data())
    assert response.status_code == 200, response.context["form"].errors
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    cooperative = Cooperative.objects.get(code="LAZUR")
    assert schema_exists("lazur")
    assert Domain.objects.get(tenant=cooperative).domain == "lazur.localhost"
    row = ConnectorSettings.objects.get(cooperative=cooperative)
    assert (row.connector, row.schedule, row.enabled) == ("zsi-rest", "every 2h", True)
    assert row.config == {"url": "https://zsi.lazur.example/api"}  # the token is encrypted
    assert "tajny-token" not in row.encrypted_secrets
    event = OperatorAuditEvent.objects.get(action="cooperative.onboarded")
    assert (event.actor_login, event.cooperative_code) == ("operator.jan", "LAZUR")
    assert "tajny-token" not in str(event.details) and password not in str(event.details)

    # The first administrator logs in on the new host with the password shown once.
    staff = Client(HTTP_HOST="lazur.localhost")
    login = staff.post("/panel/login/", {"username": "admin.lazur", "password": password})
    assert login["Location"] == "/panel/"
    otp.enrol_through_the_page(staff, "lazur", "admin.lazur")
    assert staff.get("/panel/people/")["Location"] == "/panel/password/"
    new = "Lazurowe-okna-2026!"
    staff.post("/panel/password/", {"current": password, "new": new, "confirm": new})
    assert staff.get("/panel/staff/").status_code == 200  # an admin of LAZUR
    with schema_context("lazur"):
        created = AuditEvent.objects.get(action="staff.created")
    assert created.actor_login == "operator:operator.jan"


def test_a_refused_onboarding_leaves_nothing_behind(console):
    console.get("/")  # the apex host's own (public) tenant is made on its first request
    before = Cooperative.objects.count(), Domain.objects.count()
    for data in (
        onboarding_data(code="ODRA"),
        onboarding_data(domain="warta.localhost"),
        onboarding_data(config="[1, 2]"),
        onboarding_data(config='{"url": "https://x.example"}'),  # the token is required
        onboarding_data(schedule="czasem"),
        onboarding_data(admin_login="a b"),
    ):
        response = console.post("/cooperatives/new/", data)
        assert response.status_code == 200 and response.context["form"].errors, data
    assert (Cooperative.objects.count(), Domain.objects.count()) == before
    assert not schema_exists("lazur") and not OperatorAuditEvent.objects.filter(
        action="cooperative.onboarded"
    )


def test_suspend_makes_the_host_answer_503_and_resume_brings_it_back(console, odra, odra_client):
    assert console.post("/cooperatives/ODRA/suspend/", {"reason": ""}).status_code == 302
    assert odra_client.get("/login/").status_code == 200  # no reason, no suspension
    console.post("/cooperatives/ODRA/suspend/", {"reason": "unpaid invoice"})
    response = odra_client.get("/login/")
    assert response.status_code == 503
    assert "e-BOK jest chwilowo niedostępny" in response.content.decode()
    assert "unpaid invoice" in console.get("/").content.decode()
    console.post("/cooperatives/ODRA/resume/")
    assert odra_client.get("/login/").status_code == 200
    actions = list(
        OperatorAuditEvent.objects.filter(cooperative_code="ODRA").values_list("action", "details")
    )
    assert ("cooperative.suspended", {"reason": "unpaid invoice"}) in actions
    assert ("cooperative.resumed", {}) in actions
    assert console.post("/cooperatives/NIEMA/resume/").status_code == 404


def test_the_list_shows_sync_health_but_no_residents_data(console, odra, warta, in_schema):
    now = timezone.now()
    ConnectorSettings.objects.create(
        cooperative=odra,
        connector="zsi-file",
        last_success_at=now - timedelta(hours=3),
        last_failure_at=now - timedelta(hours=1),
        last_error="rozrachunki.csv, line 7: not a date",
        data_as_of=timezone.localdate() - timedelta(days=2),
    )
    ConnectorSettings.objects.create(
        cooperative=warta,
        connector="zsi-rest",
        last_success_at=now,
        data_as_of=timezone.localdate(),
    )
    with in_schema(odra):
        make_person("O77", "Wyjątkowonazwisko", "Zofia", email="zofia@example.pl")
    console.cookies["django_language"] = "en"
    response = console.get("/")
    health = {row.cooperative.code: row for row in response.context["health"]}
    assert (health["ODRA"].status, health["ODRA"].data_age_days) == ("failing", 2)
    assert (health["WARTA"].status, health["WARTA"].data_age_days) == ("ok", 0)
    page = response.content.decode()
    assert "rozrachunki.csv, line 7: not a date" in page and "2 days old" in page
    assert "Wyjątkowonazwisko" not in page and "zofia@example.pl" not in page
    assert console.get("/audit/").status_code == 200
