"""The deployment rehearsed without containers (ASVS 1.14.4): the process roles of
deploy/entrypoint.sh run for real with production settings, one stack for the module.

The Dockerfile's collectstatic step, then the ``migrate`` role and ``manage
onboard_cooperative`` / ``manage create_staff``; then ``web`` (gunicorn with
deploy/gunicorn.conf.py), ``worker`` and ``beat``, with nginx in front started from
deploy/nginx.conf and deploy/nginx-tls.conf (tests/support/nginx.py). PostgreSQL (with
deploy/postgres/pg_hba.conf) and Redis (with the compose file's ACL) accept only TLS and
the app verifies them (tests/deploy/conftest.py). Every check goes through nginx over
HTTPS, or reads what the processes stored. PgBouncer and the containers themselves
(accounts, read-only filesystems, networks) are not part of it: see
docs/security/DEPLOYMENT.md.
"""

import re
import ssl
import subprocess
import time
from contextlib import ExitStack
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace

import httpx
import psycopg
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from cryptography.fernet import Fernet

from tests.support.backend_tls import database_url, redis_url
from tests.support.nginx import DOMAIN, nginx_proxy
from tests.support.otp import code_from_key
from tests.support.processes import ROOT, VENV_BIN, free_port, running
from tests.support.tls import wait_for_port

HOST = f"odra.{DOMAIN}"
NAME = "Spółdzielnia Mieszkaniowa „ODRA” w Oławie"
DATABASE = "ebok_rehearsal"
ADMIN, ADMIN_EMAIL = "kierownik", "kierownik@odra.example"
# A second account, only for the failed login: the admin's success resets its counter.
VIEWER = "ksiegowa"
NEW_PASSWORD = "Kasztanowa-aleja-przy-stawie-2026!"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ROLES = ("web", "worker", "beat")


def entrypoint(*args: str) -> list[str]:
    return ["sh", str(ROOT / "deploy" / "entrypoint.sh"), *args]


def run_role(env: dict, *args: str) -> subprocess.CompletedProcess:
    """A one-shot role (migrate, manage …), as ``docker compose run`` would start it."""
    result = subprocess.run(entrypoint(*args), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def dockerfile_build_step(name: str) -> str:
    """The command of the Dockerfile's RUN instruction that runs ``manage.py <name>``."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    return re.search(rf"(?:\S+=\S+ )*python manage\.py {name}\b[^&\\\n]*", dockerfile)[0]


def app_env(folder: Path, *, database: str, redis_location: str, ports: dict) -> dict:
    """What docker-compose.yml and the Dockerfile give the app's containers, with this
    machine's paths and ports. Only the check interval and an alert threshold are
    shortened, so that beat and the worker act within the test."""
    keys = [Fernet.generate_key().decode() for _ in range(4)]
    return {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "APP_HOME": str(ROOT),
        # The Dockerfile's ENV.
        "DJANGO_ENV": "production",
        "PRIVATE_STORAGE_ROOT": str(folder / "data" / "files"),
        "CONNECTOR_ROOT": str(folder / "data" / "connectors"),
        "CELERY_BEAT_SCHEDULE_FILE": str(folder / "data" / "celerybeat-schedule"),
        # The compose file's environment of the app's containers.
        "SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "BASE_DOMAIN": DOMAIN,
        "DATABASE_URL": database,
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_location,
        "CONNECTOR_SECRET_KEYS": keys[0],
        "OTP_KEY_ENCRYPTION_KEYS": keys[1],
        "PASSWORD_PEPPERS": keys[3],
        "DOCUMENT_KEYS": keys[2],
        "ANTIVIRUS_URL": "off",  # no file is uploaded or synced here
        "ZSI_REST_ALLOWED_HOSTS": "",
        "ZSI_REST_ALLOWED_NETWORKS": "",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "GUNICORN_WORKERS": "2",
        "LOG_LEVEL": "INFO",
        # This machine: where gunicorn listens, the SMTP server, the checks' pace.
        "GUNICORN_BIND": f"127.0.0.1:{ports['web']}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(ports["smtp"]),
        "SECURITY_CHECK_SECONDS": "1",
        "ALERT_FAILED_LOGINS_ACCOUNT": "1",
    }


@pytest.fixture(scope="module")
def stack(pki, tls_postgres, tls_redis, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rehearsal")
    (folder / "data").mkdir()
    ca = pki.ca.ca_file
    with psycopg.connect(database_url(tls_postgres, ca), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    ports = {"web": free_port(), "smtp": free_port()}
    env = app_env(
        folder,
        database=database_url(tls_postgres, ca, DATABASE),
        redis_location=redis_url(tls_redis, ca),
        ports=ports,
    )
    with ExitStack() as started:
        smtp = Controller(Sink(), hostname="127.0.0.1", port=ports["smtp"])
        smtp.start()
        started.callback(smtp.stop)
        build_env = {key: env[key] for key in ("PATH", "HOME", "LANG", "DJANGO_ENV")}
        subprocess.run(
            ["sh", "-c", dockerfile_build_step("collectstatic")],
            cwd=ROOT, env=build_env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        run_role(env, "migrate")
        run_role(env, "manage", "onboard_cooperative", "--code", "ODRA", "--name", NAME)
        passwords = {}
        for login, role, email in ((ADMIN, "admin", ADMIN_EMAIL), (VIEWER, "viewer", "")):
            created = run_role(
                env, "manage", "create_staff", "--cooperative", "ODRA",
                "--login", login, "--role", role, "--email", email,
            )  # fmt: skip
            passwords[login] = re.search(r"^password: (\S+)$", created.stdout, re.M)[1]
        processes = {
            role: started.enter_context(
                running(entrypoint(role), env=env, log_name=f"rehearsal-{role}")
            )
            for role in ROLES
        }
        wait_for_port(ports["web"], processes["web"], "rehearsal-web", timeout=60)
        proxy = started.enter_context(
            nginx_proxy(folder / "nginx", ports["web"], log_name="rehearsal-nginx")
        )
        yield SimpleNamespace(
            env=env,
            folder=folder,
            proxy=proxy,
            processes=processes,
            passwords=passwords,
            database=env["DATABASE_URL"],
        )


def client(stack, host: str = HOST) -> httpx.Client:
    """A browser of ``host`` through nginx: SNI, Host and certificate check for that name."""
    context = ssl.create_default_context(cafile=str(stack.proxy["authority"].ca_file))

    def name_the_host(request):
        request.extensions["sni_hostname"] = host

    return httpx.Client(
        base_url=f"https://127.0.0.1:{stack.proxy['port']}",
        headers={"Host": host},
        verify=context,
        event_hooks={"request": [name_the_host]},
        timeout=30,
    )


def post_form(browser: httpx.Client, path: str, data: dict, host: str = HOST) -> httpx.Response:
    page = browser.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    headers = {"Origin": f"https://{host}", "Referer": f"https://{host}{path}"}
    return browser.post(path, data={"csrfmiddlewaretoken": token, **data}, headers=headers)


def rows(stack, sql: str, *params, schema: str = "public") -> list[tuple]:
    with psycopg.connect(stack.database) as conn:
        conn.execute(f"SET search_path TO {schema}")
        return conn.execute(sql, params).fetchall()


def wait_for_rows(stack, sql: str, *params, schema: str = "public", least: int = 1) -> list:
    """At least ``least`` rows of the query, once the processes wrote them."""
    timeout = 30
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(found := rows(stack, sql, *params, schema=schema)) >= least:
            return found
        time.sleep(0.3)
    raise AssertionError(f"nothing for {sql} {params} within {timeout}s")


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def assert_host_only_cookie(header: str) -> str:
    """Secure, HttpOnly, SameSite, no Domain, Path=/, and the __Host- prefix where the
    name is ours to choose; returns the name."""
    [(name, morsel)] = SimpleCookie(header).items()
    assert name.startswith("__Host-"), header
    assert morsel["path"] == "/" and not morsel["domain"], header
    if morsel["max-age"] == "0":
        return name  # a deletion: no value left to protect
    assert morsel["secure"] and morsel["httponly"], header
    # Lax, or Strict for the device cookie that only the login form reads.
    assert morsel["samesite"] in {"Lax", "Strict"}, header
    return name


@pytest.fixture(scope="module")
def failed_login(stack):
    with client(stack) as browser:
        return post_form(browser, "/panel/login/", {"username": VIEWER, "password": "x" * 16})


@pytest.fixture(scope="module")
def staff_login(stack):
    """The admin's first login through nginx: issued password, authenticator set up as a
    person would (the key beside the QR code), then a password of their own."""
    browser = client(stack)
    seen = []
    browser.event_hooks["response"] = [lambda response: seen.append(response)]
    issued = stack.passwords[ADMIN]
    answered = post_form(browser, "/panel/login/", {"username": ADMIN, "password": issued})
    assert answered.status_code == 302, answered.text
    setup = browser.get("/panel/otp/setup/")
    secret = re.search(r'<code id="otp-secret">([^<]+)</code>', setup.text)[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', setup.text)[1]
    codes = browser.post(
        "/panel/otp/setup/",
        data={"csrfmiddlewaretoken": token, "code": code_from_key(secret)},
        headers={"Origin": f"https://{HOST}"},
    )
    assert 'id="recovery-codes"' in codes.text, codes.text
    assert browser.get("/panel/people/").headers["location"] == "/panel/password/"
    changed = post_form(
        browser,
        "/panel/password/",
        {"current": issued, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302, changed.text
    people = browser.get("/panel/people/")
    browser.close()
    return SimpleNamespace(people=people, seen=seen)


def own_password(issued: str) -> dict:
    return {"current": issued, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def test_the_rehearsal_gives_the_app_every_variable_the_compose_file_does(stack):
    for role in ("migrate", *ROLES):
        assert set(COMPOSE["services"][role].get("environment") or {}) <= set(stack.env), role


def test_the_login_page_comes_over_https_with_the_security_headers_and_host_cookies(stack):
    with client(stack) as browser:
        page = browser.get("/login/")
    assert page.status_code == 200 and page.http_version == "HTTP/1.1"
    assert "ODRA" in page.text
    headers = page.headers
    assert headers.get_list("strict-transport-security") == [
        "max-age=31536000; includeSubDomains; preload"
    ]
    csp = headers["content-security-policy"]
    policy = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == policy["base-uri"] == "'none'"
    assert "unsafe" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "no-store" in headers["cache-control"]
    cookies = set_cookies(page)
    assert any(cookie.startswith("__Host-csrftoken=") for cookie in cookies), cookies
    for cookie in cookies:
        assert assert_host_only_cookie(cookie).startswith("__Host-")
        assert "SameSite=Lax" in cookie


def test_plain_http_is_redirected_to_https(stack):
    answer = httpx.get(
        f"http://127.0.0.1:{stack.proxy['http_port']}/panel/login/?next=/panel/",
        headers={"Host": HOST},
    )
    assert answer.status_code == 301
    assert answer.headers["location"] == f"https://{HOST}/panel/login/?next=/panel/"


def test_an_unknown_host_gets_no_cooperatives_page(stack):
    # A name under the certificate's wildcard reaches the app, which serves nobody there.
    with client(stack, f"nieznana.{DOMAIN}") as browser:
        unknown = browser.get("/login/")
    assert unknown.status_code == 404
    assert "ODRA" not in unknown.text and "csrfmiddlewaretoken" not in unknown.text
    # Any other name: nginx refuses the handshake, and closes plain HTTP without an answer.
    with (
        pytest.raises(httpx.ConnectError, match="UNRECOGNIZED_NAME"),
        client(stack, "odra.example.org") as browser,
    ):
        browser.get("/login/")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(
            f"http://127.0.0.1:{stack.proxy['http_port']}/", headers={"Host": "odra.example.org"}
        )


def test_a_failed_staff_login_is_answered_like_any_wrong_password_and_counted(stack, failed_login):
    assert failed_login.status_code == 200
    assert 'name="username"' in failed_login.text
    assert not any(c.startswith("__Host-sessionid=") for c in set_cookies(failed_login))
    attempts = rows(
        stack,
        "SELECT failures_since_start, ip_address FROM axes_accessattempt WHERE username = %s",
        VIEWER,
        schema="odra",
    )
    assert [(failures, str(address)) for failures, address in attempts] == [(1, "127.0.0.1")]
    audited = rows(
        stack,
        "SELECT ip_address FROM ebok_audit_event WHERE action = 'login.failed' "
        "AND target_login = %s",
        VIEWER,
        schema="odra",
    )
    assert [str(address) for (address,) in audited] == ["127.0.0.1"]


def test_beat_has_the_worker_check_the_cooperative_and_raise_an_alert(stack, failed_login):
    alerts = wait_for_rows(
        stack,
        "SELECT a.count FROM monitoring_securityalert a JOIN tenants_cooperative c "
        "ON c.id = a.cooperative_id WHERE c.code = 'ODRA' AND a.kind = %s AND a.subject = %s",
        "failed_logins_account",
        VIEWER,
    )
    assert alerts == [(1,)]


def test_a_staff_member_made_by_the_command_logs_in_with_two_factors_over_the_proxy(
    stack, staff_login
):
    assert staff_login.people.status_code == 200
    assert ADMIN in staff_login.people.text
    cookies = [cookie for response in staff_login.seen for cookie in set_cookies(response)]
    names = {assert_host_only_cookie(cookie) for cookie in cookies}
    assert {"__Host-sessionid", "__Host-csrftoken", "__Host-device"} <= names


def test_the_notices_the_web_process_queues_are_sent_by_the_worker(stack, staff_login):
    # The web process queued them after its commits; the worker mailed them and audited it.
    sent = wait_for_rows(
        stack,
        "SELECT details->>'notice' FROM ebok_audit_event WHERE action = 'notice.sent' "
        "AND target_login = %s AND details->>'notice' IN ('two_factor_enabled', "
        "'password_changed') ORDER BY details->>'notice'",
        ADMIN,
        schema="odra",
        least=2,
    )
    assert sent == [("password_changed",), ("two_factor_enabled",)]


def test_every_role_runs_with_the_umask_of_the_entrypoint_and_stores_group_only_files(stack):
    for role, process in stack.processes.items():
        pids = [process.pid, *children(process.pid)]
        for pid in pids:
            status = Path(f"/proc/{pid}/status").read_text()
            assert re.search(r"^Umask:\s+0007$", status, re.M), (role, pid)
    schedule = wait_for_files(stack.folder / "data", "celerybeat-schedule*")
    for path in schedule:
        assert oct(path.stat().st_mode & 0o777) == oct(0o660), path


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


def wait_for_files(folder: Path, pattern: str, timeout: float = 20) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := sorted(folder.glob(pattern)):
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} in {folder} within {timeout}s")
