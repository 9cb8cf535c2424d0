"""The deployment's backends over TLS, shared by the modules of tests/deploy."""

import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.backend_tls import tls_postgres_server, tls_redis_server
from tests.support.tls import Authority


@pytest.fixture(scope="module")
def pki():
    # Not under pytest's own temporary folder: the postgres user must reach it.
    folder = Path(tempfile.mkdtemp(prefix="ebok-backend-tls-"))
    folder.chmod(0o755)
    yield SimpleNamespace(
        folder=folder,
        ca=Authority.create(folder / "ca"),
        other=Authority.create(folder / "other", "Someone else's CA"),
    )
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_postgres(pki):
    with tls_postgres_server(pki.folder, pki.ca) as port:
        yield port


@pytest.fixture(scope="module")
def tls_redis(pki):
    with tls_redis_server(pki.ca) as port:
        yield port
