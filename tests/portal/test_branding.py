"""The cooperative's logo, set by its staff, is shown on the residents' pages."""

from tests.support.data import RESIDENT_PASSWORD, make_person, make_resident


def test_portal_shows_the_cooperative_logo_when_it_has_one(odra, odra_client, in_schema):
    with in_schema(odra):
        user = make_resident(make_person("B1", "Logo", "Lena"), rules_version=odra.rules_version)
    odra_client.post("/login/", {"username": user.login, "password": RESIDENT_PASSWORD})
    assert 'class="logo"' not in odra_client.get("/").content.decode()
    odra.logo = "branding/logo.png"
    odra.save(update_fields=["logo"])
    page = odra_client.get("/").content.decode()
    assert '<img class="logo" src="/branding/logo.png"' in page
