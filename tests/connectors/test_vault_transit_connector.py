"""The zsi-rest connector with its token encrypted by Vault Transit (decision 0783)."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from connectors.services import configure_connector, connector_config, run_sync
from ebok.models import Balance
from tenants.models import ConnectorSettings
from tests.connectors.test_connectors import ZsiRestServer, rest_config
from tests.support.vault_transit import transit_backend
from tests.support.zsi import full_package


@pytest.fixture
def vault(coop, settings, tmp_path):
    with transit_backend(settings, tmp_path) as server:
        yield server
    # This folder's rows are committed: no later test should meet a Vault ciphertext.
    ConnectorSettings.objects.filter(cooperative=coop).delete()


def test_a_token_stored_by_vault_transit_still_authenticates_the_rest_connector(
    coop, vault, tmp_path, fingerprint
):
    package = full_package(tmp_path / "p1", premises=3, code=coop.code)
    with ZsiRestServer(package, token="zsi-token-kept-in-vault") as server:  # noqa: S106
        configure_connector(coop, connector="zsi-rest", config=rest_config(server))
        with connection.cursor() as cur:
            cur.execute(
                "SELECT encrypted_secrets, config::text FROM tenants_connectorsettings "
                "WHERE cooperative_id = %s",
                [coop.pk],
            )
            stored, public_config = cur.fetchone()
        assert stored.startswith("vault:v1:")
        assert "zsi-token-kept-in-vault" not in stored + public_config
        assert ("encrypt", "ebok-connector-secrets", 1) in vault.calls
        row = ConnectorSettings.objects.get(cooperative=coop)
        assert connector_config(row)["token"] == "zsi-token-kept-in-vault"

        summary = run_sync(coop, trigger="manual", wait=True)
        assert summary.outcome == "applied", summary.message
        with schema_context(coop.schema_name):
            assert Balance.objects.count() == 3

        # Vault refuses (the token revoked): the sync fails saying why and applies nothing.
        state = fingerprint()
        vault.token = "hvs.revoked"
        summary = run_sync(coop, trigger="manual", wait=True)
    assert summary.outcome == "failed"
    assert "Vault Transit" in summary.message and "permission denied" in summary.message
    assert fingerprint() == state
