"""The connector interface and the registry that finds connectors by name.

A connector is a small plugin (compare the Singer/Airbyte source protocol:
spec, check, read with state):

* ``name`` and ``config_schema`` (a JSON-schema-like dict; ``secret`` marks
  properties stored encrypted),
* ``check(config)`` → ``CheckResult``: can we reach the source, are the
  credentials good?
* ``read(config, state)`` → the next ``IncomingPackage`` or ``None``.

``config`` is the cooperative's configuration with its secrets decrypted;
``state`` is a ``SourceState`` (what was applied last, where files live).

Built-in connectors register themselves; another Python distribution adds one
through the entry point group ``ebok.connectors``::

    [project.entry-points."ebok.connectors"]
    acme-sql = "acme_ebok.connector:AcmeConnector"
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ebok.connectors"


class ConnectorError(Exception):
    """The source could not be read (unreachable, credentials, protocol)."""


@dataclass
class CheckResult:
    ok: bool
    message: str


@dataclass
class SourceState:
    cooperative_code: str
    schema_name: str
    last_number: int | None = None
    last_as_of: dt.date | None = None
    stored_documents: Path | None = None  # where already delivered PDFs are kept


@dataclass
class IncomingPackage:
    """A package ready to apply (a ZIP file or a folder on local disk)."""

    path: Path
    source: str
    extra: dict = field(default_factory=dict)

    def finish(self, outcome: str, report: str) -> None:  # pragma: no cover - default
        """Called after the package was applied, skipped or rejected."""


class Connector:
    name: str = ""
    config_schema: dict = {"type": "object", "properties": {}}

    def check(self, config: dict) -> CheckResult:
        raise NotImplementedError

    def read(self, config: dict, state: SourceState) -> IncomingPackage | None:
        raise NotImplementedError

    @classmethod
    def secret_fields(cls) -> list[str]:
        props = cls.config_schema.get("properties", {})
        return [key for key, prop in props.items() if prop.get("secret")]

    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """Problems of ``config`` against the schema (required keys and types)."""
        problems = []
        props = cls.config_schema.get("properties", {})
        for key in cls.config_schema.get("required", []):
            if config.get(key) in (None, ""):
                problems.append(f"{key} is required")
        for key, value in config.items():
            if key not in props:
                problems.append(f"{key} is not a setting of {cls.name}")
            elif props[key].get("type") == "string" and not isinstance(value, str):
                problems.append(f"{key} must be a string")
        return problems


_registry: dict[str, type[Connector]] = {}


def register(connector: type[Connector]) -> type[Connector]:
    _registry[connector.name] = connector
    return connector


def _load_entry_points(eps=None) -> None:
    eps = entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps
    for ep in eps:
        if ep.name in _registry:
            continue
        try:
            connector = ep.load()
        except Exception:  # a broken plugin must not stop the built-in ones
            logger.exception("Cannot load connector entry point %s", ep.name)
            continue
        if not (isinstance(connector, type) and issubclass(connector, Connector)):
            logger.error("Entry point %s is not a Connector subclass", ep.name)
            continue
        if connector.name != ep.name:
            logger.warning("Entry point %s names connector %s", ep.name, connector.name)
        _registry[ep.name] = connector


def available_connectors(eps=None) -> dict[str, type[Connector]]:
    import connectors.zsi_file  # noqa: F401 - registers itself
    import connectors.zsi_rest  # noqa: F401 - registers itself

    _load_entry_points(eps)
    return dict(_registry)


def get_connector(name: str) -> Connector:
    found = available_connectors().get(name)
    if found is None:
        raise ConnectorError(f"Unknown connector {name!r}.")
    return found()
