"""Environment defaults for the test run, loaded as a pytest plugin (``-p``) so
they are in place before pytest-django reads the settings."""

import os
import tempfile

_scratch = tempfile.mkdtemp(prefix="ebok-tests-")
os.environ.setdefault("TENANT_CACHE_SECONDS", "0")
os.environ.setdefault("AXES_FAILURE_LIMIT", "5")
os.environ.setdefault("PRIVATE_STORAGE_ROOT", os.path.join(_scratch, "files"))
os.environ.setdefault("CONNECTOR_ROOT", os.path.join(_scratch, "connectors"))
# The zsi-rest tests serve packages from 127.0.0.1; other tests name hosts under .example.
os.environ.setdefault("ZSI_REST_ALLOWED_HOSTS", "127.0.0.1:*,localhost:*,*.example")
os.environ.setdefault("ZSI_REST_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
