"""Documents' PDFs encrypted at rest (ASVS 6.1.1, 6.1.3; decision 0812): an import stores
only ciphertext under the plaintext's content address, the portal sends the PDF back
decrypted, rotation moves every file to the newest key, a file that does not decrypt is
a logged 404, and files stored in plaintext earlier are encrypted once by a command."""

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from connectors.services import apply_package
from connectors.zsi.generator import generate_full
from ebok.keys.documents import seal
from ebok.keys.keyring import DOCUMENTS, keys_of
from ebok.models import Document, Premises, Title
from tenants.models import OperatorAuditEvent
from tenants.subdomains import domain_for_code
from tests.connectors.conftest import connector_cooperative, reset  # noqa: F401 - a fixture
from tests.support import data

BACKEND = "ebok.accounts.backends.AccountBackend"


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def private_files(settings, tmp_path) -> Path:
    """A storage folder of this test's own: a rotation reads every file in it."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "files"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def imported(private_files, connector_cooperative, django_db_blocker, tmp_path):  # noqa: F811
    """CONN with one package applied for real (the apply commits on its own
    connection), and a resident holding a premises that has a document."""
    coop = connector_cooperative
    with django_db_blocker.unblock():
        reset(coop)
        package = generate_full(tmp_path / "p1", premises=3, years=1, seed=7, code=coop.code)
        assert apply_package(coop, package).outcome == "applied"
        with schema_context(coop.schema_name):
            document = Document.objects.filter(premises__isnull=False).order_by("pk").first()
            title = Title.objects.filter(premises_id=document.premises_id).first()
            user = data.make_resident(title.person, login="res.at-rest")
        try:
            yield coop, package, document, user
        finally:
            with schema_context(coop.schema_name):
                user.delete()
            reset(coop)
            connection.set_schema_to_public()


def portal_of(schema: str, host: str, user) -> Client:
    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        client.force_login(user, backend=BACKEND)
    return client


def download(client: Client, document: Document):
    return client.get(f"/dokumenty/{document.pk}/pobierz/")


def stored_file(schema: str, document: Document) -> Path:
    return Path(django_settings.PRIVATE_STORAGE_ROOT) / schema / document.stored_path


def test_an_imported_pdf_is_stored_encrypted_and_downloads_exactly_as_delivered(imported):
    coop, package, document, user = imported
    delivered = (package / "DOKUMENTY" / document.file_name).read_bytes()
    assert b"Zawiadomienie" in delivered  # the title text the PDF carries

    with schema_context(coop.schema_name):
        documents = list(Document.objects.all())
    assert len(documents) > 2
    for each in documents:
        stored = stored_file(coop.schema_name, each).read_bytes()
        assert not stored.startswith(b"%PDF-")
        assert b"Zawiadomienie" not in stored and b"Rady Nadzorczej" not in stored
        assert each.stored_path == f"documents/{each.sha256[:2]}/{each.sha256}.pdf"
    assert not list(stored_file(coop.schema_name, document).parent.glob(".incoming-*"))

    response = download(portal_of(coop.schema_name, domain_for_code(coop.code), user), document)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == delivered
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert document.file_name in response["Content-Disposition"]


def test_a_pdf_over_the_per_file_limit_rejects_the_package(imported, settings, tmp_path):
    coop, _package, _document, _user = imported
    settings.ZSI_MAX_DOCUMENT_BYTES = 100
    second = generate_full(tmp_path / "p2", premises=3, years=1, seed=7, code=coop.code, number=2)
    result = apply_package(coop, second)
    messages = [str(p) for p in result.problems]
    assert result.outcome == "rejected", messages
    # In Polish, the platform's default language.
    assert any(
        "DOKUMENTY/" in m and "przekracza limit rozmiaru jednego dokumentu (100 B)" in m
        for m in messages
    )


@pytest.fixture
def anna(odra, private_files, in_schema):
    """A resident of ODRA with a document of her flat stored (encrypted) in this test's folder."""
    with in_schema(odra):
        person = data.make_person("O9", "Kowalska-Nowa", "Anna")
        premises = data.make_premises("L9", number=9)
        data.give_title(person, premises)
        content = b"%PDF-1.4\n%notice of fees for L9\n%%EOF\n"
        document = data.add_document("D9", premises=premises, content=content)
        user = data.make_resident(person)
    return portal_of(odra.schema_name, "odra.localhost", user), document, content


def test_rotation_re_encrypts_every_stored_document_and_old_files_still_download(
    anna, odra, settings
):
    client, document, content = anna
    path = stored_file(odra.schema_name, document)
    old = keys_of(DOCUMENTS)
    new = new_key()
    settings.DOCUMENT_KEYS = [new, *old]

    before = path.read_bytes()
    call_command("rotate_secrets", "--dry-run")
    assert path.read_bytes() == before
    call_command("rotate_secrets")
    assert Fernet(new).decrypt(path.read_bytes()) == content
    event = OperatorAuditEvent.objects.filter(action="keys.rotated").first()
    assert event.details["documents"] == 1

    settings.DOCUMENT_KEYS = [new]  # the old key is gone
    response = download(client, document)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content

    rotated = path.read_bytes()
    call_command("rotate_secrets")  # already under the current key: left as it is
    assert path.read_bytes() == rotated


def test_rotation_stops_before_writing_when_a_document_opens_with_no_key(anna, odra, settings):
    _client, document, _content = anna
    path = stored_file(odra.schema_name, document)
    before = path.read_bytes()
    settings.DOCUMENT_KEYS = [new_key()]  # the key that encrypted it is not listed
    with pytest.raises(CommandError) as error:
        call_command("rotate_secrets")
    assert f"document {document.stored_path} in {odra.schema_name}" in str(error.value)
    assert "Nothing was changed" in str(error.value)
    assert path.read_bytes() == before
    assert not OperatorAuditEvent.objects.filter(action="keys.rotated").exists()


@pytest.mark.parametrize("tampering", ["flipped byte", "another document's file"])
def test_a_file_that_does_not_decrypt_to_its_pdf_is_a_logged_404(
    anna, odra, in_schema, caplog, tampering
):
    client, document, content = anna
    path = stored_file(odra.schema_name, document)
    if tampering == "flipped byte":
        token = bytearray(path.read_bytes())
        token[40] = ord("A") if token[40] != ord("A") else ord("B")
        path.write_bytes(bytes(token))
    else:  # a valid token, of other bytes: swapping files must not swap documents
        path.write_bytes(seal(b"%PDF-1.4\n%somebody else's notice\n"))

    with caplog.at_level(logging.WARNING, logger="ebok.security"):
        response = download(client, document)
    assert response.status_code == 404
    assert b"PDF" not in response.content and b"gAAAA" not in response.content
    [record] = [r for r in caplog.records if r.name == "ebok.security"]
    assert document.stored_path in record.getMessage()
    assert odra.schema_name in record.getMessage()


def test_the_command_encrypts_files_stored_in_plaintext_once(anna, odra, in_schema):
    client, _document, _content = anna
    content = b"%PDF-1.4\n%stored before encryption at rest\n%%EOF\n"
    with in_schema(odra):
        flat = Premises.objects.get(source_id="L9")
        earlier = data.add_document("D-OLD", premises=flat, content=content)
    path = stored_file(odra.schema_name, earlier)
    path.write_bytes(content)  # in plaintext, as the import wrote it before
    assert download(client, earlier).status_code == 404

    call_command("encrypt_stored_documents")
    encrypted = path.read_bytes()
    assert not encrypted.startswith(b"%PDF-") and b"stored before" not in encrypted
    response = download(client, earlier)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    event = OperatorAuditEvent.objects.get(action="keys.documents_encrypted")
    assert event.details["documents"] == 1 and event.details["already"] == 1

    call_command("encrypt_stored_documents")  # everything is encrypted now: nothing changes
    assert path.read_bytes() == encrypted
    assert OperatorAuditEvent.objects.filter(action="keys.documents_encrypted").count() == 1


def test_the_command_leaves_a_file_that_is_not_its_named_pdf_and_says_so(anna, odra):
    stranger = stored_file(odra.schema_name, anna[1]).parent / ("ab" + "0" * 62 + ".pdf")
    stranger.write_bytes(b"%PDF-1.4 bytes of another SHA-256")
    with pytest.raises(CommandError, match=r"documents/.*ab0{62}\.pdf in odra"):
        call_command("encrypt_stored_documents")
    assert stranger.read_bytes() == b"%PDF-1.4 bytes of another SHA-256"
