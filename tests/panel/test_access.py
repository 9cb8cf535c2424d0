"""Who may open which page of the staff console."""

from django.urls import URLPattern, get_resolver

from ebok.accounts.models import User
from ebok.panel import urls as panel_urls
from tests.support import otp
from tests.support.data import RESIDENT_PASSWORD, make_resident

SAMPLE_ARGS = {"source_id": "O1", "pk": "1"}
# the login steps
OPEN_VIEWS = {
    "login",
    "logout",
    "otp_verify",
    "otp_setup",
    "security_key_login_options",
    "security_key_login",
}


def panel_paths():
    """Every URL of the console, with sample arguments."""
    paths = []
    for pattern in panel_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        for name, value in SAMPLE_ARGS.items():
            route = route.replace(f"<str:{name}>", value).replace(f"<int:{name}>", value)
        paths.append((pattern.name, f"/panel/{route}"))
    return paths


def test_every_view_of_the_console_names_the_role_it_needs():
    resolver = get_resolver("ebok_platform.urls_tenant")
    for name, path in panel_paths():
        view = resolver.resolve(path).func
        if name in OPEN_VIEWS:
            continue
        assert getattr(view, "panel_role", None) in User.Role.values, name


def test_a_resident_gets_404_on_every_panel_url(resident_client):
    client, _user = resident_client
    for name, path in panel_paths():
        if name == "logout":
            continue  # logging out is not a page of the console
        assert client.get(path).status_code == 404, path
        assert client.post(path).status_code == 404, path


def test_anonymous_visitors_go_to_the_panels_own_login(odra_client):
    for name, path in panel_paths():
        response = odra_client.get(path)
        if name == "login":
            assert response.status_code == 200
        elif name == "logout":
            assert response.status_code == 405
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith("/panel/login/?next="), path


def test_the_panel_login_refuses_a_residents_credentials_like_a_wrong_password(
    odra, odra_client, in_schema, people
):
    with in_schema(odra):
        make_resident(people["nowak"], login="nowak")
    as_resident = odra_client.post(
        "/panel/login/", {"username": "nowak", "password": RESIDENT_PASSWORD}
    )
    wrong = odra_client.post("/panel/login/", {"username": "nowak", "password": "x" * 14})
    assert as_resident.status_code == wrong.status_code == 200
    assert as_resident.context["form"].errors == wrong.context["form"].errors
    assert "_auth_user_id" not in odra_client.session


def test_staff_log_in_and_must_first_replace_an_issued_password(odra, odra_client, in_schema):
    from ebok.accounts.services import create_staff

    with in_schema(odra):
        issued = create_staff(login="nowa.osoba", role="viewer")
    response = odra_client.post(
        "/panel/login/", {"username": "nowa.osoba", "password": issued.password}
    )
    assert response.status_code == 302
    # First the authenticator (mandatory for staff), then the new password.
    assert odra_client.get("/panel/people/")["Location"].startswith("/panel/otp/setup/")
    assert len(otp.enrol_through_the_page(odra_client, odra.schema_name, "nowa.osoba")) == 10
    assert odra_client.get("/panel/people/")["Location"] == "/panel/password/"
    new = "Kasztanowa-aleja-2026!"
    response = odra_client.post(
        "/panel/password/", {"current": issued.password, "new": new, "confirm": new}
    )
    assert response.status_code == 302
    assert odra_client.get("/panel/people/").status_code == 200  # this session stays
    with in_schema(odra):
        assert not User.objects.get(login="nowa.osoba").must_change_password


READ_ONLY = ["/panel/people/?q=Kowal", "/panel/people/O1/", "/panel/sync/", "/panel/audit/"]
ADMIN_ONLY = ["/panel/staff/", "/panel/settings/", "/panel/connector/"]


def test_a_viewer_reads_but_cannot_grant_or_change_anything(staff_client, people, odra, in_schema):
    client, _viewer = staff_client("viewer")
    for path in READ_ONLY:
        assert client.get(path).status_code == 200, path
    for path in ADMIN_ONLY:
        assert client.get(path).status_code == 403, path
    assert client.post("/panel/people/O1/grant/").status_code == 403
    with in_schema(odra):
        resident = make_resident(people["nowak"])
        assert not User.objects.filter(person_source_id="O1").exists()
    for action in ("regenerate", "block", "unblock", "erase"):
        assert client.post(f"/panel/accounts/{resident.pk}/{action}/").status_code == 403
    assert client.post("/panel/sync/start/").status_code == 403
    page = client.get("/panel/people/O3/").content.decode()
    assert "/regenerate/" not in page and "/block/" not in page


def test_an_operator_manages_residents_but_cannot_change_staff(staff_client, odra, in_schema):
    client, _operator = staff_client("operator")
    _admin_client, admin = staff_client("admin")
    for path in ADMIN_ONLY:
        assert client.get(path).status_code == 403, path
    new_staff = {"login": "intruz", "role": "admin", "display_name": ""}
    assert client.post("/panel/staff/", new_staff).status_code == 403
    assert client.post(f"/panel/staff/{admin.pk}/", {"role": "viewer"}).status_code == 403
    for action in ("regenerate", "block", "unblock"):
        assert client.post(f"/panel/accounts/{admin.pk}/{action}/").status_code == 403
    with in_schema(odra):
        admin.refresh_from_db()
        assert admin.role == "admin" and admin.blocked_at is None
        assert not User.objects.filter(login="intruz").exists()


def test_an_admin_manages_staff_but_never_loses_the_last_admin(staff_client, odra, in_schema):
    client, admin = staff_client("admin")
    new_staff = {"login": "Ewa.Nowak", "role": "viewer", "email": "ewa@odra.example"}
    response = client.post("/panel/staff/", new_staff)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    with in_schema(odra):
        ewa = User.objects.get(login="ewa.nowak")
    assert ewa.kind == "staff" and ewa.role == "viewer" and ewa.must_change_password
    assert ewa.email == "ewa@odra.example"
    assert response.context["password"] in response.content.decode()

    client.post(f"/panel/staff/{ewa.pk}/", {"role": "operator"})
    client.post(f"/panel/staff/{admin.pk}/", {"role": "viewer"})
    with in_schema(odra):
        assert User.objects.get(pk=ewa.pk).role == "operator"
        assert User.objects.get(pk=admin.pk).role == "admin"  # the last admin stays one
    response = client.post(f"/panel/accounts/{admin.pk}/block/", {"reason": "other"}, follow=True)
    assert response.status_code == 200
    with in_schema(odra):
        assert User.objects.get(pk=admin.pk).blocked_at is None
