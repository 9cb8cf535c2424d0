"""Uploaded logos are scanned by clamd when a scanner is configured (ASVS 12.4.2)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.panel.test_settings import png, save
from tests.support.clamd import EICAR, ClamdServer
from tests.support.processes import free_port


@pytest.fixture
def clamd(settings):
    with ClamdServer() as server:
        settings.ANTIVIRUS_URL = server.url
        yield server


def test_a_logo_carrying_a_virus_is_a_form_error_and_a_clean_one_is_scanned_and_kept(
    clamd, staff_client, odra
):
    client, _admin = staff_client("admin")
    infected = SimpleUploadedFile("logo.png", png() + EICAR, content_type="image/png")
    response = save(client, logo=infected)
    assert response.status_code == 200
    assert "Eicar-Test-Signature" in str(response.context["form"].errors["logo"])
    odra.refresh_from_db()
    assert not odra.logo

    clean = png()
    assert save(client, logo=SimpleUploadedFile("logo.png", clean)).status_code == 302
    assert clamd.scanned[-1] == clean
    odra.refresh_from_db()
    assert odra.logo


def test_a_logo_is_refused_while_the_scanner_is_unreachable(settings, staff_client, odra):
    settings.ANTIVIRUS_URL = f"tcp://127.0.0.1:{free_port()}"
    client, _admin = staff_client("admin")
    response = save(client, logo=SimpleUploadedFile("logo.png", png()))
    assert response.status_code == 200 and "logo" in response.context["form"].errors
    odra.refresh_from_db()
    assert not odra.logo
