"""Encryption at rest for the service: one server key file, outside the database.

The key file holds 32 random bytes (base64, one line), mode 0600. Two keys are
derived from it with HKDF-SHA256 so that one purpose cannot be turned against
the other:

* the storage key (AES-256-GCM) that seals every stored encoding batch and
  every result blob, with the row's identity as associated data, so a
  ciphertext copied to another row (or another project) fails to open;
* the entity-id key (HMAC-SHA256) that turns the engine's entity numbers into
  opaque per-party (or shared) ids.

Anyone holding the database alone learns no encoding; anyone holding the key
file alone learns nothing. Keep them apart (backups included).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tiplink.atomic import atomic_output
from tiplink.errors import ServiceError

KEY_BYTES = 32
NONCE_BYTES = 12
# Version byte in front of every sealed blob so the format can change later.
SEAL_VERSION = b"\x01"


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


@dataclass(frozen=True)
class ServerKeys:
    """The keys derived from the server key file.

    Attributes:
        storage: AES-256-GCM key for sealing stored blobs.
        entity: HMAC key for opaque entity ids.
    """

    storage: bytes
    entity: bytes

    @classmethod
    def from_master(cls, master: bytes) -> ServerKeys:
        """Derive the purpose keys from the 32-byte master key."""
        return cls(
            storage=_derive(master, b"tiplink storage v1"),
            entity=_derive(master, b"tiplink entity ids v1"),
        )

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt and authenticate ``plaintext`` bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.storage).encrypt(nonce, plaintext, context.encode())
        return SEAL_VERSION + nonce + sealed

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt a blob sealed by :meth:`seal` under the same ``context``.

        Raises:
            ServiceError: the blob is corrupt, was sealed under another key or
                was moved from another row.
        """
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != SEAL_VERSION:
            raise ServiceError("stored data is corrupt (bad sealed blob)")
        nonce = blob[1 : 1 + NONCE_BYTES]
        try:
            return AESGCM(self.storage).decrypt(nonce, blob[1 + NONCE_BYTES :], context.encode())
        except InvalidTag:
            raise ServiceError(
                "stored data does not open with this server key (wrong key file or corrupt data)"
            ) from None

    def entity_id(self, *parts: str) -> str:
        """An opaque id: truncated HMAC-SHA256 of the parts (96 bits, hex)."""
        message = "\x1f".join(parts).encode()
        return hmac.new(self.entity, message, hashlib.sha256).hexdigest()[:24]


def load_or_create_key(path: Path, create: bool) -> ServerKeys:
    """Read the server key file, or create it (mode 0600) when allowed.

    Args:
        path: the key file.
        create: create a fresh key if the file does not exist. The server
            passes False when the database already holds data, because a new
            key could not open it.

    Raises:
        ServiceError: the file is missing (and may not be created), has
            loose permissions, or does not hold a 32-byte key.
    """
    if not path.exists():
        if not create:
            raise ServiceError(
                f"{path}: server key file not found, but the database already holds "
                "sealed data; restore the key file (a new key cannot open old data)"
            )
        master = os.urandom(KEY_BYTES)
        with atomic_output(path, "wb", file_mode=0o600) as handle:
            handle.write(base64.b64encode(master) + b"\n")
        return ServerKeys.from_master(master)
    if path.stat().st_mode & 0o077:
        raise ServiceError(f"{path}: server key file is readable by others; chmod 600 it")
    try:
        master = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        raise ServiceError(f"{path}: server key file is not base64") from None
    if len(master) != KEY_BYTES:
        raise ServiceError(f"{path}: server key file must hold {KEY_BYTES} bytes")
    return ServerKeys.from_master(master)
