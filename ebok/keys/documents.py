"""Documents' PDFs encrypted at rest (ASVS 6.1.1, 6.1.3; decision 0812).

A stored PDF keeps its content address, ``documents/<sha[:2]>/<sha>.pdf`` with the
SHA-256 of the plaintext, but its bytes are a Fernet token under ``DOCUMENT_KEYS``
(the current key first). Fernet encrypts one whole message: a document is held in
memory while it is encrypted or decrypted, so its size is bounded by
``ZSI_MAX_DOCUMENT_BYTES``; the token is about 4/3 of the PDF (base64).
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from ebok.keys.keyring import DOCUMENTS, keyring, keys_of

FOLDER = "documents"
# A file is written under this name (mode 0600) until complete; a killed process's
# leftovers are removed at the cooperative's next sync (services.remove_interrupted_files).
INCOMING_PREFIX = ".incoming-"
# A stored PDF: the platform's processes share a group (web reads what the worker wrote).
STORED_MODE = 0o640
PDF_MAGIC = b"%PDF-"
# Every Fernet token starts with its version byte 0x80 and a 64-bit timestamp whose top
# bytes are zero for centuries: "gAAAAA" in base64.
TOKEN_MAGIC = b"gAAAAA"


class UnreadableDocument(Exception):
    """A stored file that no document key opens, or that opens to other bytes than its
    name promises (tampered, swapped, or its key was removed too early)."""


def seal(plaintext: bytes) -> bytes:
    return keyring(DOCUMENTS).encrypt(plaintext)


def unseal(stored: bytes, sha256: str) -> bytes:
    """The PDF ``stored`` holds, checked against its SHA-256: a valid token of another
    document copied over this one is refused too."""
    try:
        plaintext = keyring(DOCUMENTS).decrypt(stored)
    except InvalidToken as error:
        raise UnreadableDocument("no DOCUMENT_KEYS key opens it") from error
    if hashlib.sha256(plaintext).hexdigest() != sha256:
        raise UnreadableDocument("it opens to bytes of another SHA-256")
    return plaintext


def store(target: Path, plaintext: bytes) -> None:
    """Write ``plaintext`` encrypted at ``target``; only ciphertext reaches the disk."""
    _write(target, seal(plaintext))


def _write(target: Path, data: bytes) -> None:
    # A private temporary file beside the target, then one rename: readers see the old
    # file or the new one, never a part.
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=INCOMING_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, STORED_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def root_of(schema: str) -> Path:
    return Path(settings.PRIVATE_STORAGE_ROOT) / schema / FOLDER


def _stored_files(schemas: Iterable[str]) -> Iterator[tuple[str, Path]]:
    for schema in schemas:
        root = root_of(schema)
        if root.is_dir():
            for path in sorted(root.rglob("*.pdf")):
                yield schema, path


def _label(schema: str, path: Path) -> str:
    return f"{path.relative_to(root_of(schema).parent)} in {schema}"


# -- rotation (rotate_secrets) -----------------------------------------------------------


@dataclass
class Survey:
    """Stored documents before a rotation: how many there are, which are under an
    older key, and which no key opens (named for the operator)."""

    count: int = 0
    stale: list[Path] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def survey(schemas: Iterable[str]) -> Survey:
    """Open every stored document (nothing is written): the check before a rotation."""
    current = Fernet(keys_of(DOCUMENTS)[0])
    ring = keyring(DOCUMENTS)
    result = Survey()
    for schema, path in _stored_files(schemas):
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            continue  # removed meanwhile (unused documents are collected after a sync)
        result.count += 1
        if _opens(current, token):
            continue
        if _opens(ring, token):
            result.stale.append(path)
        elif token.startswith(PDF_MAGIC):
            result.unreadable.append(
                f"document {_label(schema, path)} (not encrypted yet: "
                "run manage.py encrypt_stored_documents)"
            )
        else:
            result.unreadable.append(f"document {_label(schema, path)}")
    return result


def _opens(fernet: "Fernet", token: bytes) -> bool:
    try:
        fernet.decrypt(token)
    except InvalidToken:
        return False
    return True


def reencrypt(paths: Iterable[Path]) -> int:
    """Each file under the current document key (``MultiFernet.rotate``); returns how many."""
    ring = keyring(DOCUMENTS)
    done = 0
    for path in paths:
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            continue
        _write(path, ring.rotate(token))
        done += 1
    return done


# -- files stored before documents were encrypted ---------------------------------------


@dataclass
class Encryption:
    encrypted: int = 0
    already: int = 0
    refused: list[str] = field(default_factory=list)


def encrypt_plaintext(schemas: Iterable[str]) -> Encryption:
    """Encrypt every stored PDF that is still plaintext; an encrypted one is left as it
    is, so running it again is harmless. A file that is neither a PDF whose SHA-256 is
    its name nor a Fernet token is named and left alone."""
    result = Encryption()
    for schema, path in _stored_files(schemas):
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            continue
        if content.startswith(TOKEN_MAGIC):
            result.already += 1
        elif content.startswith(PDF_MAGIC) and hashlib.sha256(content).hexdigest() == path.stem:
            store(path, content)
            result.encrypted += 1
        else:
            result.refused.append(_label(schema, path))
    return result
