"""Done when: import a package, grant access to a person, get a token, list the
premises and the ledger, and the balances equal the package's SALDA.CSV.

Everything after the two commands goes over HTTP to a real gunicorn; the
commands themselves run as the operator would run them (subprocesses).
"""

import csv
import io
import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from django.db import connection

from tenants.services import onboard_cooperative
from tests.support.processes import ROOT, process_env, web_server

pytestmark = [pytest.mark.live, pytest.mark.django_db]

CODE = "APIACCEPT"
HOST = "apiaccept.localhost"
NEW_PASSWORD = "Moje-własne-hasło-2026"


def manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def read_csv(package: zipfile.ZipFile, name: str, encoding: str) -> list[dict]:
    text = package.read(name).decode(encoding)
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


@pytest.fixture(scope="module")
def package(django_db_setup, django_db_blocker, tmp_path_factory):
    """A generated package imported into a cooperative of this module, and what it says."""
    with django_db_blocker.unblock():
        onboard_cooperative(code=CODE, name="SM Odbiór")
        connection.set_schema_to_public()
    path = tmp_path_factory.mktemp("zsi") / f"{CODE}_1.zip"
    manage("generate_zsi_package", str(path), "--code", CODE, "--premises", "8", "--years", "1")
    assert manage("import_package", "--cooperative", CODE, str(path)).startswith("applied")
    with zipfile.ZipFile(path) as archive:
        header = dict(
            line.split("=", 1)
            for line in archive.read("NAGLOWEK.TXT").decode("ascii").splitlines()
            if "=" in line and not line.startswith("PLIK=")
        )
        encoding = header["KODOWANIE"]
        balances = {
            row["ID_LOKALU"]: amount(row["SALDO"])
            for row in read_csv(archive, "SALDA.CSV", encoding)
        }
        titles = read_csv(archive, "TYTULY.CSV", encoding)
    today = date.today().isoformat()
    held: dict[str, set[str]] = {}
    for title in titles:
        if title["OD"] <= today and (not title["DO"] or title["DO"] >= today):
            held.setdefault(title["ID_OSOBY"], set()).add(title["ID_LOKALU"])
    # The person holding the most premises: the most to compare.
    person = max(sorted(held), key=lambda source_id: len(held[source_id]))
    return {
        "as_of": header["STAN_NA"],
        "balances": balances,
        "person": person,
        "premises": held[person],
    }


def test_balances_over_http_equal_the_packages_salda(package):
    granted = manage("grant_access", "--cooperative", CODE, "--person", package["person"])
    credentials = dict(line.split(": ", 1) for line in granted.splitlines() if ": " in line)

    with (
        web_server() as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": HOST}) as api,
    ):
        issued = api.post(
            "/api/v1/auth/token/",
            json={"login": credentials["login"], "password": credentials["password"]},
        )
        assert issued.status_code == 201
        auth = {"Authorization": f"Bearer {issued.json()['token']}"}
        assert api.get("/api/v1/premises/", headers=auth).json()["error"]["code"] == (
            "password_change_required"
        )
        changed = api.post(
            "/api/v1/me/password/",
            json={"current": credentials["password"], "new": NEW_PASSWORD},
            headers=auth,
        )
        assert changed.status_code == 201
        auth = {"Authorization": f"Bearer {changed.json()['token']}"}
        version = api.get("/api/v1/cooperative/").json()["rules_version"]
        assert (
            api.post("/api/v1/me/rules/", json={"version": version}, headers=auth).status_code
            == 200
        )

        premises = api.get("/api/v1/premises/", headers=auth).json()
        assert {p["source_id"] for p in premises} == package["premises"]
        for item in premises:
            expected = package["balances"][item["source_id"]]
            assert Decimal(item["balance"]) == expected, item["source_id"]
            assert item["balance"] == f"{expected:.2f}"  # a decimal string, two places
            assert item["as_of"] == package["as_of"]
            assert item["refreshed_at"]

            entries, url = [], f"/api/v1/premises/{item['id']}/ledger/"
            while url:
                page = api.get(url, headers=auth).json()
                entries += page["results"]
                # Links name the cooperative's host; this client reaches it by address.
                url = urlsplit(page["next"])._replace(scheme="", netloc="").geturl() or None
            up_to_as_of = [e for e in entries if e["posted_on"] <= package["as_of"]]
            ledger_sum = sum(Decimal(e["debit"]) - Decimal(e["credit"]) for e in up_to_as_of)
            assert ledger_sum == expected, item["source_id"]
            assert Decimal(up_to_as_of[-1]["running_balance"]) == expected
