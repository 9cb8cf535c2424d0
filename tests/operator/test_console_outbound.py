"""The operator console refuses a ZSI-REST address outside the allow list (ASVS 5.2.6)."""

from django_tenants.utils import schema_exists

from tenants.models import Cooperative
from tests.operator.test_console import (  # noqa: F401 - fixtures
    _forget_cached_cooperatives,
    console,
    onboarding_data,
    operator,
)


def test_onboarding_refuses_a_zsi_address_outside_the_allow_list_and_creates_nothing(
    console,  # noqa: F811
    settings,
):
    console.cookies["django_language"] = "en"
    # Even a metadata address someone put on the host list stays refused.
    settings.ZSI_REST_ALLOWED_HOSTS = [*settings.ZSI_REST_ALLOWED_HOSTS, "169.254.169.254"]
    for url, message in (
        ("https://zsi.lazur.example.com/api", "is not an allowed ZSI host"),
        ("http://169.254.169.254/latest", "an IP address is accepted only inside"),
    ):
        data = onboarding_data(config=f'{{"url": "{url}", "token": "tajny-token"}}')
        response = console.post("/cooperatives/new/", data)
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].non_field_errors())
        assert message in response.content.decode()
    assert not Cooperative.objects.filter(code="LAZUR").exists() and not schema_exists("lazur")
