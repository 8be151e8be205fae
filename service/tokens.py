"""Bearer tokens: minting, hashing, constant-time checking, reading files.

Tokens are 256-bit random strings (``secrets.token_urlsafe(32)``). The server
stores only their SHA-256. A fast hash is enough here, unlike for passwords:
slow, salted hashes (Argon2, bcrypt) exist to make guessing a *low-entropy*
secret expensive, but guessing a 256-bit random token is infeasible whatever
the hash costs, and a fast hash keeps the per-call check cheap. A stolen
database therefore yields no usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum
from pathlib import Path

from tiplink.errors import TiplinkError

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 512


class Role(StrEnum):
    """Who a token speaks for."""

    ADMIN = "admin"
    PARTY = "party"
    ANALYST = "analyst"


def new_token() -> str:
    """A fresh token with 256 bits of entropy."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of a token: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hashes_match(stored_hash: str, token: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    return hmac.compare_digest(stored_hash.encode(), token_hash(token).encode())


def read_token_file(path: str | Path) -> str:
    """Read a token from a file (content less surrounding whitespace).

    Raises:
        TiplinkError: the file is missing, unreadable or empty.
    """
    path = Path(path)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise TiplinkError(f"{path}: token file not found") from None
    except (OSError, UnicodeDecodeError):
        raise TiplinkError(f"{path}: token file is not readable text") from None
    if not token:
        raise TiplinkError(f"{path}: token file is empty")
    if len(token) > MAX_TOKEN_CHARS or any(c.isspace() for c in token):
        raise TiplinkError(f"{path}: token file does not hold a token")
    return token
