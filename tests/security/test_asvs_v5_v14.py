"""ASVS V5–V14 requirements not shown elsewhere: what the code never does (evaluate
strings, start a shell, use weak or home-made cryptography, load another origin's
files), the ciphers' behaviour, audit records, last-resort error handlers, cookies,
files, outbound TLS, cross-origin requests and the pins of the dependencies."""

import ast
import base64
import importlib
import io
import json
import re
import ssl
import threading
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework import serializers

from connectors.registry import ConnectorError
from connectors.zsi_rest import Client as ZsiRestClient
from ebok.accounts import audit, services, two_factor
from ebok.accounts.models import User
from ebok.files import document_attachment
from ebok.keys import ciphers
from ebok.keys.keyring import CONNECTOR_SECRETS, KeyringError, keys_of
from ebok.models import AuditEvent, Document
from ebok.panel.services import update_cooperative_settings
from tests.panel.conftest import logged_in
from tests.support import data, otp
from tests.support.tls import Authority

ROOT = Path(settings.BASE_DIR)
APPS = ("ebok", "tenants", "connectors", "platform")


def _python_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _our_scripts() -> list[Path]:
    """The browser code written for the site (vendored libraries are pinned files)."""
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("static/**/*.js"))
        if "vendor" not in path.parts
    ]


def _templates() -> list[Path]:
    return [path for app in (*APPS, "monitoring") for path in sorted((ROOT / app).rglob("*.html"))]


def _called_names(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                names.add(f"{func.value.id}.{func.attr}")
    return names


def _imported(tree) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def anna(odra, in_schema):
    with in_schema(odra):
        return data.make_resident(data.make_person("AV1", "Wiśniewska", "Zofia"))


# --- V5 Validation, sanitisation and encoding ----------------------------------------------


def _subclasses(base) -> set:
    found = set()
    for sub in base.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_model_form_and_serializer_names_its_fields():
    """Mass assignment (5.1.2): a field added to a model never becomes writable by itself."""
    for app in APPS[:3]:
        for path in (ROOT / app).rglob("*.py"):
            if path.stem in ("forms", "serializers") or path.parent.name in ("forms", "views"):
                importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    ours = [
        cls
        for base in (forms.ModelForm, serializers.ModelSerializer)
        for cls in _subclasses(base)
        if cls.__module__.split(".")[0] in APPS[:3]
    ]
    assert ours, "no model form or serializer found"
    for cls in ours:
        meta = getattr(cls, "Meta", None)
        if meta is None:
            continue
        assert not hasattr(meta, "exclude"), f"{cls.__qualname__} excludes instead of listing"
        assert isinstance(meta.fields, list | tuple), f"{cls.__qualname__}: fields {meta.fields!r}"


def test_no_python_code_evaluates_strings():
    for path, tree in _python_sources():
        called = _called_names(tree) & {"eval", "exec", "compile", "__import__"}
        assert not called, f"{path.relative_to(ROOT)} calls {called}"


def test_no_shell_is_started_and_only_development_tools_start_processes():
    """Nothing a request, a package or a file name carries reaches an OS command: no
    shell anywhere, and processes only from the development launcher (fixed lists)."""
    starting = set()
    for path, tree in _python_sources():
        called = _called_names(tree)
        assert not called & {"os.system", "os.popen", "os.execv", "os.execvp", "os.spawnv"}, path
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, path
        if "subprocess" in _imported(tree):
            starting.add(str(path.relative_to(ROOT)))
    assert starting == {"platform/services.py", "platform/demo.py"}


def test_no_format_string_is_taken_from_data():
    """``str.format`` only on literals of the code (or psycopg's ``sql.SQL``)."""
    for path, tree in _python_sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("format", "format_map"):
                continue
            receiver = node.func.value
            literal = isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)
            sql = isinstance(receiver, ast.Call) and ast.unparse(receiver.func) == "sql.SQL"
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if not (literal or sql):
                # The one exception: demo.py's notes, literals of its own table of accounts.
                assert where.startswith("platform/demo.py"), f"{where}: {ast.unparse(node)}"


def test_api_answers_are_plain_json_whatever_a_callback_parameter_asks(odra_client):
    for query in ("?callback=alert", "?jsonp=alert", "?format=jsonp&callback=alert"):
        response = odra_client.get(f"/api/v1/cooperative/{query}")
        assert response["Content-Type"].startswith("application/json"), query
        body = response.content.decode()
        assert body.startswith("{") and "alert(" not in body, query
        json.loads(body)


def test_sessions_and_signed_cookies_hold_json_never_pickles(odra_client, anna):
    assert settings.SESSION_SERIALIZER == "django.contrib.sessions.serializers.JSONSerializer"
    response = odra_client.post(
        "/login/", {"username": anna.login, "password": data.RESIDENT_PASSWORD}
    )
    assert response.status_code == 302
    session = odra_client.session
    # What the store writes decodes as signed JSON, nothing a pickle could hide in.
    assert session.decode(session.encode(dict(session))) == dict(session)
    device = response.cookies[settings.DEVICE_COOKIE_NAME].value
    payload = device.split(":")[0]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["login"]
    banned = {"pickle", "marshal", "shelve", "dill", "yaml"}
    for path, tree in _python_sources():
        assert not {name.split(".")[0] for name in _imported(tree)} & banned, path


def test_the_browser_code_evaluates_no_strings(odra_client):
    scripts = _our_scripts()
    assert len(scripts) >= 5
    for path in scripts:
        source = path.read_text(encoding="utf-8")
        for banned in (r"\beval\s*\(", r"new\s+Function\b", r"set(Timeout|Interval)\(\s*['\"`]"):
            assert not re.search(banned, source), f"{path.relative_to(ROOT)}: {banned}"
    assert "unsafe-eval" not in odra_client.get("/login/")["Content-Security-Policy"]


# --- V6 Stored cryptography --------------------------------------------------------------------


def _flipped(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


def test_a_changed_byte_anywhere_in_a_stored_secret_fails_the_same_way(settings):
    """Fernet checks its HMAC before decrypting: a changed IV, ciphertext, padding or tag
    is one error, so no answer tells a padding error from another (6.2.1, 8.3.7)."""
    settings.SECRETS_BACKEND = ciphers.FERNET
    token = ciphers.encrypt(CONNECTOR_SECRETS, b'{"token": "sekretny-token"}')
    assert ciphers.decrypt(CONNECTOR_SECRETS, token) == b'{"token": "sekretny-token"}'
    length = len(base64.urlsafe_b64decode(token))
    messages = set()
    for index in (0, 5, 9, 20, 30, length - 40, length - 33, length - 1):
        with pytest.raises(KeyringError) as refused:
            ciphers.decrypt(CONNECTOR_SECRETS, _flipped(token, index))
        messages.add(str(refused.value))
    assert messages == {"Stored connector secrets cannot be decrypted with CONNECTOR_SECRET_KEYS."}


def test_only_proven_libraries_and_strong_algorithms_are_used():
    """No home-made cipher, no hazmat primitives, no ECB/DES/RC4/Blowfish/PKCS#1 v1.5,
    no MD5 or SHA-1 (6.2.2, 6.2.5). Hashes are SHA-256, HMACs Django's ``salted_hmac``
    with SHA-256, encryption Fernet (cryptography) or Vault Transit, passwords Argon2id."""
    weak = re.compile(r"\b(md5|sha1|ECB|DES|TripleDES|Blowfish|ARC4|RC4|PKCS1v15)\b", re.I)
    for path, tree in _python_sources():
        imported = _imported(tree)
        where = path.relative_to(ROOT)
        assert not {i for i in imported if i.startswith("cryptography.hazmat")}, where
        assert not {i.split(".")[0] for i in imported} & {"Crypto", "Cryptodome", "pyDes"}, where
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith(("md5", "sha1")):
                raise AssertionError(f"{where}:{node.lineno} uses {node.attr}")
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert not weak.fullmatch(name), f"{where}:{node.lineno} names {name}"
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("salted_hmac"):
                algorithm = {k.arg: ast.unparse(k.value) for k in node.keywords}.get("algorithm")
                assert algorithm == "'sha256'", f"{where}:{node.lineno}"
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "hashlib.new":
                raise AssertionError(f"{where}:{node.lineno}: hashlib.new hides the algorithm")
    from ebok.accounts.hashers import Argon2idHasher

    assert Argon2idHasher.algorithm == "argon2"


def test_every_encryption_has_a_fresh_random_iv_under_the_first_configured_key(settings):
    """Fernet: AES-128-CBC with a random 128-bit IV per message and HMAC-SHA256 over
    version, time, IV and ciphertext (6.2.3, 6.2.6); the key is the first of the
    purpose's configured list, the others still decrypt (6.2.4)."""
    settings.SECRETS_BACKEND = ciphers.FERNET
    current, older = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CONNECTOR_SECRET_KEYS = [current, older]
    assert keys_of(CONNECTOR_SECRETS) == [current, older]
    tokens = [ciphers.encrypt(CONNECTOR_SECRETS, b"the same secret") for _ in range(200)]
    raw = [base64.urlsafe_b64decode(token) for token in tokens]
    assert {r[0] for r in raw} == {0x80}  # Fernet version byte
    assert len({r[9:25] for r in raw}) == len(raw), "an IV was used twice"
    assert len(set(tokens)) == len(tokens)
    assert Fernet(current).decrypt(tokens[0].encode()) == b"the same secret"
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure: not under the old key
        Fernet(older).decrypt(tokens[0].encode())
    by_older = Fernet(older).encrypt(b"written before the rotation").decode()
    assert ciphers.decrypt(CONNECTOR_SECRETS, by_older) == b"written before the rotation"


def test_a_password_hashed_by_an_older_hasher_is_rehashed_at_login(settings, odra, in_schema):
    """Hashers are a list, the first one wanted: a login upgrades an older hash (6.2.4)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",  # stands for the current one
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    with in_schema(odra):
        user = data.make_resident(data.make_person("AV2", "Stara", "Hanna"))
        old = make_password(data.RESIDENT_PASSWORD, hasher="pbkdf2_sha256")
        User.objects.filter(pk=user.pk).update(password=old)
    client = Client(HTTP_HOST="odra.localhost")
    response = client.post("/login/", {"username": user.login, "password": data.RESIDENT_PASSWORD})
    assert response.status_code == 302
    with in_schema(odra):
        user.refresh_from_db()
    assert user.password.startswith("md5$") and user.password != old


def test_secrets_come_from_the_csprng_and_random_only_spreads_start_times():
    """``random`` (not a CSPRNG) appears only in the test-package generator and the
    sync's start jitter; every secret comes from ``secrets`` or ``os.urandom`` (6.3.1)."""
    users = {}
    for path, tree in _python_sources():
        if "random" in _imported(tree):
            users[str(path.relative_to(ROOT))] = _called_names(tree)
    assert set(users) == {"connectors/zsi/generator.py", "connectors/services.py"}
    assert {n for n in users["connectors/services.py"] if n.startswith("random.")} == {
        "random.uniform"
    }
    sources = {
        "ebok/accounts/passwords.py": "secrets.choice",  # issued passwords
        "ebok/accounts/services.py": "secrets.token_urlsafe",  # API tokens
        "ebok/keys/models.py": "os.urandom",  # TOTP keys
        "ebok/accounts/security_keys.py": "secrets.token_bytes",  # WebAuthn challenges
        "ebok/accounts/device_cookies.py": "secrets.token_hex",  # device cookie nonces
    }
    for file, call in sources.items():
        assert call in _called_names(ast.parse((ROOT / file).read_text())), file
    assert "secrets.token_bytes" in _called_names(
        ast.parse((ROOT / "ebok/accounts/two_factor.py").read_text())
    )  # recovery codes


# --- V7 Errors and logging -------------------------------------------------------------------


@pytest.fixture
def audit_admin(odra, in_schema):
    with in_schema(odra):
        data.household()
        admin = data.make_staff("admin.asvs", role="admin")
    client = logged_in(odra, admin, in_schema)
    client.defaults["REMOTE_ADDR"] = "127.0.0.1"  # the proxy, trusted by default
    return client


def test_an_audit_event_holds_time_action_actor_target_address_and_details(
    odra, in_schema, audit_admin
):
    assert "127.0.0.1/32" in settings.TRUSTED_PROXIES
    before = timezone.now()
    response = audit_admin.get("/panel/people/O3/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 200
    with in_schema(odra):
        event = AuditEvent.objects.filter(action=audit.READ).latest("id")
    assert before <= event.at <= timezone.now()
    assert (event.actor_login, event.target_login) == ("admin.asvs", "")
    assert event.ip_address == "203.0.113.7"  # the client, as the trusted proxy named it
    assert event.details == {"view": "panel.person", "person": "O3"}


def test_times_are_stored_in_utc_and_shown_in_warsaw_time(odra, in_schema, audit_admin):
    assert settings.USE_TZ and settings.TIME_ZONE == "Europe/Warsaw"
    with in_schema(odra):
        event = AuditEvent.objects.create(action="asvs.clock", actor_login="zegar")
        with connection.cursor() as cursor:
            cursor.execute("SHOW TIME ZONE")
            assert cursor.fetchone()[0] == "UTC"
            cursor.execute(
                "SELECT at AT TIME ZONE 'UTC' FROM ebok_audit_event WHERE id = %s", [event.id]
            )
            stored = cursor.fetchone()[0]
    assert event.at.utcoffset().total_seconds() == 0
    assert stored == event.at.replace(tzinfo=None)
    page = audit_admin.get("/panel/audit/").content.decode()
    local = timezone.localtime(event.at).strftime("%d.%m.%Y %H:%M:%S")
    assert local in page
    assert event.at.astimezone(UTC).strftime("%d.%m.%Y %H:%M:%S") not in page


def test_an_unexpected_error_ends_in_the_last_resort_handlers_without_details(
    monkeypatch, odra, anna, in_schema
):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail 8f3a")

    client = Client(HTTP_HOST="odra.localhost", raise_request_exception=False)
    monkeypatch.setattr("ebok.api.views.me.CooperativeSerializer", broken)
    response = client.get("/api/v1/cooperative/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "8f3a" not in response.content.decode()

    monkeypatch.setattr("ebok.portal.views.documents.render", broken)
    with in_schema(odra):
        client.force_login(anna, backend="ebok.accounts.backends.AccountBackend")
    page = client.get("/kontakt/")
    assert page.status_code == 500
    assert "8f3a" not in page.content.decode() and "Traceback" not in page.content.decode()


# --- V8 Data protection ----------------------------------------------------------------------


def test_requests_carry_only_the_few_cookies_and_hidden_fields_the_site_needs(odra_client, anna):
    allowed_cookies = {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
        settings.DEVICE_COOKIE_NAME,
    }
    page = odra_client.get("/login/")
    hidden = set(re.findall(r'type="hidden" name="([^"]+)"', page.content.decode()))
    hidden |= set(re.findall(r'name="([^"]+)"[^>]*type="hidden"', page.content.decode()))
    assert hidden <= {"csrfmiddlewaretoken", "next"}
    odra_client.post("/login/", {"username": anna.login, "password": data.RESIDENT_PASSWORD})
    odra_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert set(odra_client.cookies) <= allowed_cookies
    assert settings.DEVICE_COOKIE_NAME in odra_client.cookies


def test_the_browser_code_keeps_nothing_in_the_browsers_storage():
    for path in _our_scripts():
        source = path.read_text(encoding="utf-8")
        for banned in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches."):
            assert banned not in source, f"{path.relative_to(ROOT)} uses {banned}"


# --- V9 Communication ------------------------------------------------------------------------


class _ZsiOverTls:
    """An HTTPS server on 127.0.0.1 with a certificate of its own test CA, recording
    the Authorization header of each request that got through the handshake."""

    def __init__(self, folder: Path, names: list[str]):
        self.authority = Authority.create(folder)
        cert, key = self.authority.issue("zsi", names)
        self.authorizations: list[str] = []
        seen = self.authorizations

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                seen.append(self.headers.get("Authorization", ""))
                body = b'{"packages": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _zsi_get(url: str):
    return ZsiRestClient(url, "token-of-odra", timeout=5, retries=0, backoff=0).get("/packages")


def test_the_zsi_client_verifies_the_certificate_and_sends_its_token_only_then(
    tmp_path, monkeypatch
):
    """9.2.1, 9.2.3: an untrusted certificate or one for another name ends the
    connection before the request, so the token never leaves; a trusted one gets it."""
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with _ZsiOverTls(tmp_path / "good", ["localhost"]) as zsi:
        url = f"https://localhost:{zsi.port}/zsi"
        with pytest.raises(ConnectorError, match="CERTIFICATE_VERIFY_FAILED"):
            _zsi_get(url)  # the system CAs do not know the test CA
        assert zsi.authorizations == []
        monkeypatch.setenv("SSL_CERT_FILE", str(zsi.authority.ca_file))
        assert _zsi_get(url) == {"packages": []}
        assert zsi.authorizations == ["Bearer token-of-odra"]
    with _ZsiOverTls(tmp_path / "other", ["zsi.other.example"]) as zsi:
        monkeypatch.setenv("SSL_CERT_FILE", str(zsi.authority.ca_file))
        with pytest.raises(ConnectorError, match="CERTIFICATE_VERIFY_FAILED"):
            _zsi_get(f"https://localhost:{zsi.port}/zsi")  # trusted CA, wrong name
        assert zsi.authorizations == []


# --- V10 Malicious code, V12 Files -----------------------------------------------------------


def test_pages_and_scripts_load_only_the_sites_own_files(odra_client):
    """No CDN, no analytics, no remote code (10.2.1, 12.3.6): the CSP lets a page
    fetch only from its own host, and no template or script names another one."""
    csp = odra_client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    for name in ("default-src", "script-src", "style-src", "font-src", "connect-src"):
        assert directives[name] == "'self'", (name, directives[name])
    assert directives["img-src"] == "'self' data:"
    remote = re.compile(r"""(src|href|action)\s*=\s*["'](https?:)?//|url\(\s*["']?(https?:)?//""")
    for path in _templates() + _our_scripts():
        text = path.read_text(encoding="utf-8")
        assert not remote.search(text), f"{path.relative_to(ROOT)} names another origin"
    for path in _our_scripts():
        for call in re.findall(r"fetch\(\s*([^,)]+)", path.read_text(encoding="utf-8")):
            assert "//" not in call, f"{path.relative_to(ROOT)}: fetch({call})"


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, format="PNG")
    return out.getvalue()


def test_a_new_logo_replaces_the_old_file_under_a_name_the_server_made(
    odra, in_schema, django_capture_on_commit_callbacks
):
    """One logo per cooperative (12.1.3); the uploaded file's name, a URL or a path
    here, is never used (12.3.3)."""
    root = Path(settings.PRIVATE_STORAGE_ROOT) / odra.schema_name
    names = ("http://evil.example/x.png", "../../../etc/passwd.png")
    stored = []
    for name, colour in zip(names, ("red", "blue"), strict=True):
        with in_schema(odra):
            upload = SimpleUploadedFile(name, _png(colour), content_type="image/png")
            with django_capture_on_commit_callbacks(execute=True):  # the old file goes then
                update_cooperative_settings(odra, values={}, logo=upload)
        odra.refresh_from_db()
        stored.append(odra.logo.name)
    for name in stored:
        assert re.fullmatch(r"branding/logo-[0-9a-f]{16}(_\w+)?\.png", name), name
    # Other tests' logos may lie beside them; this test's first one is gone.
    assert not (root / stored[0]).exists() and (root / stored[1]).is_file()


def test_a_stored_path_outside_the_cooperatives_folder_is_a_404(odra, in_schema):
    """12.3.2: the storage refuses a path that leaves the schema's folder."""
    with in_schema(odra):
        for path in ("../../../etc/passwd", "/etc/passwd", "../warta/documents/x.pdf"):
            document = Document(stored_path=path, sha256="0" * 64, file_name="x.pdf")
            with pytest.raises(Http404):
                document_attachment(document)


def test_private_files_live_outside_the_static_files_and_are_not_served_from_there(
    odra, in_schema, odra_client
):
    """12.4.1, 12.5.1: documents and logos are stored per schema outside everything
    WhiteNoise serves; under /static/ only collected files answer."""
    private = Path(settings.PRIVATE_STORAGE_ROOT).resolve()
    static_roots = [Path(settings.STATIC_ROOT).resolve()]
    static_roots += [Path(str(d)).resolve() for d in getattr(settings, "STATICFILES_DIRS", [])]
    for root in static_roots:
        assert not private.is_relative_to(root) and not root.is_relative_to(private)
    with in_schema(odra):
        document = data.add_document("AVD1")
        stored = Path(default_storage.path(document.stored_path))
    assert stored.is_relative_to(private / odra.schema_name)
    relative = stored.relative_to(private)
    for path in (
        f"/static/{relative}",
        f"/static/{document.stored_path}",
        "/static/../platform/settings.py",
        "/static/%2e%2e/platform/settings.py",
        "/static/",
        "/static/admin/",
    ):
        response = odra_client.get(path)
        assert response.status_code == 404, path
    assert odra_client.get("/static/portal/app.js").status_code == 200


# --- V11 Business logic ----------------------------------------------------------------------


def test_a_code_is_checked_with_the_accounts_devices_locked(odra, in_schema, anna):
    """11.1.6: two requests with one code cannot both pass between check and use."""
    with in_schema(odra):
        device = otp.enrol(anna)
        with CaptureQueriesContext(connection) as queries:
            assert two_factor.check_code(anna, otp.code_for(device)) is not None
    sql = [q["sql"] for q in queries.captured_queries]
    locked = next(i for i, q in enumerate(sql) if "totpdevice" in q and "FOR UPDATE" in q)
    spent = next(i for i, q in enumerate(sql) if q.startswith("UPDATE") and "last_t" in q)
    assert locked < spent


# --- V13 API, V14 Configuration --------------------------------------------------------------


def test_a_token_in_the_query_string_opens_nothing(odra, in_schema, anna):
    with in_schema(odra):
        token = services.issue_api_token(anna)[0]
    client = Client(HTTP_HOST="odra.localhost")
    for name in ("token", "access_token", "auth", "authorization", "api_key"):
        response = client.get("/api/v1/me/", {name: token})
        assert response.status_code == 401, name
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_no_cross_origin_access_is_granted(odra_client):
    evil = {"HTTP_ORIGIN": "https://evil.example"}
    preflight = {**evil, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
    answers = [
        odra_client.get("/api/v1/cooperative/", **evil),
        odra_client.options("/api/v1/auth/token/", **preflight),
        odra_client.get("/login/", **evil),
        odra_client.options("/login/", **preflight),
    ]
    for response in answers:
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_the_origin_header_grants_nothing_and_a_foreign_one_is_refused(odra, anna):
    client = Client(HTTP_HOST="odra.localhost", enforce_csrf_checks=True)
    own = {"HTTP_ORIGIN": "http://odra.localhost"}
    assert client.get("/", **own).status_code == 302  # still sent to the login page
    assert client.get("/api/v1/me/", **own).status_code == 401
    client.get("/login/")
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    credentials = {"username": anna.login, "password": data.RESIDENT_PASSWORD}
    credentials["csrfmiddlewaretoken"] = csrf
    foreign = client.post("/login/", credentials, HTTP_ORIGIN="https://evil.example")
    assert foreign.status_code == 403
    assert client.post("/login/", credentials, **own).status_code == 302


def test_every_dependency_is_pinned_and_installed_from_the_package_index_only():
    """14.2.4: constraints.txt pins every package to one version; the image installs
    with it from PyPI (no other index, no VCS or URL requirements)."""
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9._\[\],-]+==[A-Za-z0-9.+!-]+", line), line
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "pip install -c constraints.txt" in dockerfile
    for banned in ("--index-url", "--extra-index-url", "--trusted-host", "git+", "http://"):
        assert banned not in dockerfile, banned
    for requirement in (
        (ROOT / "pyproject.toml")
        .read_text()
        .split("dependencies = [")[1]
        .split("]")[0]
        .splitlines()
    ):
        assert "@" not in requirement and "git+" not in requirement, requirement
