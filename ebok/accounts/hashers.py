import base64
import hashlib
from dataclasses import dataclass

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.utils.crypto import salted_hmac

from ebok.keys.keyring import PASSWORD_PEPPERS, keys_of

PEPPER_MIN_BYTES = 32  # 256 bits: above SP 800-131A's 112-bit minimum strength


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended profile (19 MiB, 2 passes, 1 lane).

    Django's default (100 MiB, 8 lanes) costs ~10× the CPU per login here,
    which turns a burst of logins into seconds of queueing on a small box.
    Hashes keep the ``argon2`` algorithm name, so older ones still verify
    and are upgraded at the next login.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


class PepperError(ValueError):
    """A configured pepper is not base64 of at least 32 bytes."""


@dataclass(frozen=True)
class Pepper:
    key_id: str  # names the pepper in stored hashes; reveals nothing usable about it
    secret: bytes


def pepper_from(value: str, position: int) -> Pepper:
    """A pepper from its base64 text (url-safe or standard, padding optional)."""
    try:
        padded = value + "=" * (-len(value) % 4)
        secret = base64.b64decode(padded, altchars=b"-_", validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        secret = b""
    if len(secret) < PEPPER_MIN_BYTES:
        raise PepperError(
            f"PASSWORD_PEPPERS: pepper {position} is not base64 of at least "
            f"{PEPPER_MIN_BYTES} random bytes (e.g. from secrets.token_urlsafe(32))."
        )
    key_id = hashlib.sha256(b"ebok-password-pepper-id:" + secret).hexdigest()[:8]
    return Pepper(key_id, secret)


def peppers() -> list[Pepper]:
    """The configured peppers, the current one first (derived from SECRET_KEY when unset)."""
    return [
        pepper_from(value, position)
        for position, value in enumerate(keys_of(PASSWORD_PEPPERS), start=1)
    ]


class PepperedArgon2idHasher(Argon2idHasher):
    """HMAC-SHA256 under a secret pepper, then Argon2id with its random salt (ASVS 2.4.5).

    The pepper lives outside the database (``PASSWORD_PEPPERS``, a vault-mounted file),
    so a stolen table cannot be attacked offline without it. Stored as
    ``argon2pep$<pepper id>$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>``: the id
    says which pepper to use, so an older one still verifies and the hash is redone
    under the current one at the next login (``must_update``). The short name and id keep
    the whole within the 128 characters of the password column (123 with these parameters).
    """

    algorithm = "argon2pep"

    def encode(self, password, salt):
        pepper = peppers()[0]
        inner = super().encode(_peppered(password, pepper), salt)
        return f"{self.algorithm}${pepper.key_id}{inner.removeprefix(self.algorithm)}"

    def decode(self, encoded):
        key_id, inner = self._split(encoded)
        return {**super().decode(inner), "pepper_id": key_id}

    def verify(self, password, encoded):
        key_id, inner = self._split(encoded)
        pepper = next((p for p in peppers() if p.key_id == key_id), None)
        return pepper is not None and super().verify(_peppered(password, pepper), inner)

    def must_update(self, encoded):
        return super().must_update(encoded) or self._split(encoded)[0] != peppers()[0].key_id

    def _split(self, encoded: str) -> tuple[str, str]:
        """The pepper id and the hash in the plain Argon2 form the parent class reads."""
        algorithm, key_id, rest = encoded.split("$", 2)
        assert algorithm == self.algorithm  # noqa: S101 - as Django's hashers do
        return key_id, f"{algorithm}${rest}"


def _peppered(password: str, pepper: Pepper) -> str:
    digest = salted_hmac(
        "ebok.accounts.hashers.pepper", password, secret=pepper.secret, algorithm="sha256"
    ).digest()
    return base64.b64encode(digest).decode("ascii")
