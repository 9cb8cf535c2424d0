"""HashiCorp Vault's Transit secrets engine as the cipher of stored secrets (ASVS 6.4.2,
docs/decisions/0783): the key stays in Vault, the application sends base64 plaintext
and stores the ``vault:vN:…`` ciphertext Vault returns. Every call is a batch
(``batch_input``), split into requests of ``BATCH`` items."""

import base64
import functools
import threading
from pathlib import Path

import hvac
import requests
from django.conf import settings

from ebok.keys.keyring import KeyringError

PREFIX = "vault:"
BATCH = 250
_clients = threading.local()


class TransitError(KeyringError):
    """Vault cannot be reached, refuses the token, or refuses the request."""


def configuration_problems() -> list[str]:
    """What keeps the Transit backend from working at all (``manage.py check``)."""
    problems = []
    if not settings.VAULT_ADDR:
        problems.append("VAULT_ADDR is not set (e.g. https://vault.internal:8200).")
    if not (settings.VAULT_TOKEN or settings.VAULT_TOKEN_FILE):
        problems.append("Neither VAULT_TOKEN nor VAULT_TOKEN_FILE is set.")
    if settings.VAULT_CACERT and not Path(settings.VAULT_CACERT).is_file():
        problems.append(f"VAULT_CACERT {settings.VAULT_CACERT} is not a file.")
    return problems


def _token() -> str:
    # Re-read at each use: a Vault Agent renews the token by rewriting its sink file.
    if not settings.VAULT_TOKEN_FILE:
        return settings.VAULT_TOKEN
    try:
        return Path(settings.VAULT_TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TransitError(
            f"VAULT_TOKEN_FILE {settings.VAULT_TOKEN_FILE} cannot be read ({exc.strerror})."
        ) from exc


def _client() -> hvac.Client:
    """One client (and its pooled connections) per thread and configuration."""
    if not settings.VAULT_ADDR:
        raise TransitError("SECRETS_BACKEND is vault-transit but VAULT_ADDR is not set.")
    config = (
        settings.VAULT_ADDR,
        _token(),
        settings.VAULT_CACERT or True,
        settings.VAULT_TIMEOUT_SECONDS,
    )
    if getattr(_clients, "config", None) != config:
        addr, token, verify, timeout = config
        # Every argument explicit: hvac would otherwise fall back to ~/.vault-token.
        _clients.client = hvac.Client(url=addr, token=token, verify=verify, timeout=timeout)
        _clients.config = config
    return _clients.client


def _batches(operation: str, key: str, items: list[dict], field: str) -> list[str | None]:
    """``POST /v1/<mount>/<operation>/<key>`` with ``batch_input``: each result's
    ``field``, or None for an item Vault refused (e.g. a ciphertext of another key)."""
    engine = _client().secrets.transit
    call = {
        "encrypt": engine.encrypt_data,
        "decrypt": engine.decrypt_data,
        # batch_input replaces the single ciphertext, which hvac's signature requires.
        "rewrap": functools.partial(engine.rewrap_data, ciphertext=None),
    }[operation]
    where = f"Vault Transit at {settings.VAULT_ADDR} ({operation} with key {key!r})"
    found: list[str | None] = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        try:
            response = call(name=key, batch_input=chunk, mount_point=settings.VAULT_TRANSIT_MOUNT)
            results = response["data"]["batch_results"]
        except hvac.exceptions.InvalidRequest as exc:
            # A batch with failed items answers 400 and says which in its batch_results.
            body = exc.json if isinstance(exc.json, dict) else {}
            results = (body.get("data") or {}).get("batch_results")
            if not results:
                raise TransitError(f"{where}: {_reasons(exc)}.") from exc
        except hvac.exceptions.Forbidden as exc:
            raise TransitError(
                f"{where}: permission denied (HTTP 403); check VAULT_TOKEN and its policy."
            ) from exc
        except hvac.exceptions.VaultError as exc:
            raise TransitError(f"{where}: {type(exc).__name__}: {_reasons(exc)}.") from exc
        except requests.exceptions.RequestException as exc:
            raise TransitError(f"{where}: no answer ({type(exc).__name__}).") from exc
        if len(results) != len(chunk):
            raise TransitError(f"{where}: {len(results)} results for {len(chunk)} items.")
        found.extend(None if result.get("error") else result[field] for result in results)
    return found


def _reasons(exc: hvac.exceptions.VaultError) -> str:
    return "; ".join(exc.errors or []) or "no reason given"


def encrypt(key: str, plaintexts: list[bytes]) -> list[str]:
    items = [{"plaintext": base64.b64encode(p).decode("ascii")} for p in plaintexts]
    ciphertexts = _batches("encrypt", key, items, "ciphertext")
    if None in ciphertexts:
        raise TransitError(f"Vault Transit refused to encrypt with key {key!r}.")
    return ciphertexts


def decrypt(key: str, ciphertexts: list[str]) -> list[bytes | None]:
    plaintexts = _batches("decrypt", key, [{"ciphertext": c} for c in ciphertexts], "plaintext")
    return [None if p is None else base64.b64decode(p) for p in plaintexts]


def rewrap(key: str, ciphertexts: list[str]) -> list[str | None]:
    """The same plaintexts under the key's latest version; Vault never returns them."""
    return _batches("rewrap", key, [{"ciphertext": c} for c in ciphertexts], "ciphertext")
