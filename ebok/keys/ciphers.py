"""The cipher of stored secrets, chosen by ``SECRETS_BACKEND`` (docs/KEY-MANAGEMENT.md):
``fernet`` (the key ring in the process, the default) or ``vault-transit`` (the keys
stay in Vault). A stored value says which one made it: Vault's ciphertexts begin
with ``vault:``, Fernet tokens with ``gAAAA`` (version byte 0x80), so either backend
reads what the other wrote and ``rotate_secrets`` can move everything across."""

from collections.abc import Hashable

from cryptography.fernet import InvalidToken
from django.conf import settings

from ebok.keys import transit
from ebok.keys.keyring import KeyringError, Purpose, keyring

FERNET = "fernet"
VAULT_TRANSIT = "vault-transit"
BACKENDS = (FERNET, VAULT_TRANSIT)


class FernetCipher:
    name = FERNET

    def __init__(self, purpose: Purpose):
        self.ring = keyring(purpose)

    def encrypt(self, plaintexts: list[bytes]) -> list[str]:
        return [self.ring.encrypt(p).decode() for p in plaintexts]

    def decrypt(self, tokens: list[str]) -> list[bytes | None]:
        return [self._opened(self.ring.decrypt, t) for t in tokens]

    def rewrap(self, tokens: list[str]) -> list[str | None]:
        rotated = [self._opened(self.ring.rotate, t) for t in tokens]
        return [None if r is None else r.decode() for r in rotated]

    @staticmethod
    def _opened(operation, token: str) -> bytes | None:
        try:
            return operation(token.encode())
        except InvalidToken:
            return None


class TransitCipher:
    name = VAULT_TRANSIT

    def __init__(self, purpose: Purpose):
        self.key = getattr(settings, purpose.transit_key_setting)

    def encrypt(self, plaintexts: list[bytes]) -> list[str]:
        return transit.encrypt(self.key, plaintexts)

    def decrypt(self, tokens: list[str]) -> list[bytes | None]:
        return transit.decrypt(self.key, tokens)

    def rewrap(self, tokens: list[str]) -> list[str | None]:
        return transit.rewrap(self.key, tokens)


def backend_of(token: str) -> str:
    return VAULT_TRANSIT if token.startswith(transit.PREFIX) else FERNET


def cipher(purpose: Purpose, backend: str | None = None) -> "FernetCipher | TransitCipher":
    """The configured backend's cipher, or the named one."""
    backend = backend or settings.SECRETS_BACKEND
    if backend == VAULT_TRANSIT:
        return TransitCipher(purpose)
    if backend == FERNET:
        return FernetCipher(purpose)
    raise KeyringError(f"SECRETS_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}.")


def encrypt(purpose: Purpose, plaintext: bytes) -> str:
    return cipher(purpose).encrypt([plaintext])[0]


def decrypt(purpose: Purpose, token: str) -> bytes:
    """Decrypted by the backend that made ``token``, whichever is configured now."""
    backend = backend_of(token)
    [plaintext] = cipher(purpose, backend).decrypt([token])
    if plaintext is None:
        source = "Vault Transit" if backend == VAULT_TRANSIT else purpose.setting
        raise KeyringError(f"Stored {purpose.what} cannot be decrypted with {source}.")
    return plaintext


def reencrypt(
    purpose: Purpose, tokens: dict[Hashable, str]
) -> tuple[dict[Hashable, str], list[Hashable]]:
    """Every token under the configured backend's current key, batch by batch:
    its own tokens are rewrapped (Vault: without the plaintext leaving it), the
    other backend's are decrypted there and encrypted here. Returns the new tokens
    and the ids of those that no key opens."""
    target = cipher(purpose)
    new: dict[Hashable, str] = {}
    unreadable: list[Hashable] = []
    for backend in BACKENDS:
        ids = [pk for pk, token in tokens.items() if backend_of(token) == backend]
        if not ids:
            continue
        old = [tokens[pk] for pk in ids]
        if backend == target.name:
            results = target.rewrap(old)
        else:
            opened = cipher(purpose, backend).decrypt(old)
            readable = [plain for plain in opened if plain is not None]
            encrypted = iter(target.encrypt(readable) if readable else [])
            results = [None if plain is None else next(encrypted) for plain in opened]
        for pk, result in zip(ids, results, strict=True):
            if result is None:
                unreadable.append(pk)
            else:
                new[pk] = result
    return new, unreadable
