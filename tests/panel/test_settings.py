"""The cooperative's settings, connector schedule and branding, by its admins."""

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from connectors.services import configure_connector
from ebok.models import AuditEvent
from tenants.models import ConnectorSettings, Cooperative

CONTACT = {
    "contact_room": "pok. nr 5",
    "contact_address": "ul. 1 Maja 22, 55-200 Oława",
    "contact_phone": "71 303 93 58",
    "contact_email": "czynsze@odra.example",
    "contact_hours": "pon.–pt. 7:00–15:00",
    "accent_color": "#0B5CAD",
}


def png(size=(120, 40), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def save(client, **fields):
    cooperative = Cooperative.objects.get(code="ODRA")
    data = {**CONTACT, "rules_text": cooperative.rules_text, **fields}
    return client.post("/panel/settings/", data)


def test_contact_data_and_a_new_rules_text_which_residents_must_accept_again(
    staff_client, odra, in_schema
):
    client, admin = staff_client("admin")
    version = odra.rules_version
    assert save(client).status_code == 302
    odra.refresh_from_db()
    assert odra.contact_room == "pok. nr 5" and odra.accent_color == "#0b5cad"
    assert odra.rules_version == version  # the same text is not a new version

    assert save(client, rules_text="Nowy regulamin e-BOK.").status_code == 302
    odra.refresh_from_db()
    assert (odra.rules_text, odra.rules_version) == ("Nowy regulamin e-BOK.", version + 1)
    with in_schema(odra):
        event = AuditEvent.objects.filter(action="cooperative.settings_changed").first()
    assert event.actor_login == admin.login
    assert event.details == {
        "fields": ["rules_text", "rules_version"],
        "rules_version": version + 1,
    }


def test_the_accent_colour_must_be_a_hex_colour_and_reaches_the_theme(staff_client, odra):
    client, _admin = staff_client("admin")
    for bad in ("red", "#12345", "#1234567", "#12345g", "url(x)"):
        response = save(client, accent_color=bad)
        assert response.status_code == 200 and "accent_color" in response.context["form"].errors
    save(client, accent_color="#FFCC00")
    css = client.get("/branding/theme.css")
    assert css["Content-Type"].startswith("text/css")
    assert "--accent: #ffcc00;" in css.content.decode()
    assert "--accent-contrast: #000000;" in css.content.decode()


def test_the_logo_is_a_checked_image_kept_privately_and_served_by_a_view(
    staff_client, odra, odra_client
):
    client, _admin = staff_client("admin")
    assert odra_client.get("/branding/logo.png").status_code == 404
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = save(client, logo=fake)
    assert response.status_code == 200 and "logo" in response.context["form"].errors

    logo = SimpleUploadedFile("logo.gif", png(size=(1600, 400)), content_type="image/gif")
    assert save(client, logo=logo).status_code == 302
    odra.refresh_from_db()
    stored = Path(settings.PRIVATE_STORAGE_ROOT) / "odra" / odra.logo.name
    assert stored.is_file() and odra.logo.name.startswith("branding/logo-")

    served = odra_client.get("/branding/logo.png")  # anonymous: the login page shows it too
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("attachment")
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.format == "PNG" and image.size == (800, 200)  # re-encoded, bounded
    assert b"/branding/logo.png" in client.get("/panel/people/").content

    assert save(client, remove_logo="on").status_code == 302
    odra.refresh_from_db()
    assert not odra.logo
    assert odra_client.get("/branding/logo.png").status_code == 404


def test_admins_edit_the_schedule_and_see_the_connector_without_its_secrets(
    staff_client, odra, in_schema, tmp_path
):
    client, admin = staff_client("admin")
    assert b"No connector" in client.get("/panel/connector/", HTTP_ACCEPT_LANGUAGE="en").content
    row, _check = configure_connector(
        odra,
        connector="zsi-rest",
        config={"url": "https://zsi.example/api", "token": "sekretny-token-123"},
        schedule="daily 02:30",
    )
    page = client.get("/panel/connector/").content.decode()
    assert "https://zsi.example/api" in page and "sekretny-token-123" not in page

    response = client.post("/panel/connector/", {"schedule": "co godzinę"})
    assert response.status_code == 200 and "schedule" in response.context["form"].errors
    assert client.post("/panel/connector/", {"schedule": "every 2h"}).status_code == 302
    row = ConnectorSettings.objects.get(pk=row.pk)
    assert (row.schedule, row.enabled) == ("every 2h", False)
    assert row.next_run_at is not None
    with in_schema(odra):
        event = AuditEvent.objects.get(action="connector.schedule_changed")
    assert event.details == {"schedule": "every 2h", "enabled": False}
    assert event.actor_login == admin.login
