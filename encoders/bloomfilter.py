"""Bloom-filter hashing of tokens, as Python integers.

A filter of ``L`` bits is held as an ``int`` whose most significant bit is
bit 0 (clkhash's order: bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``), so
``value.to_bytes(L // 8, "big")`` gives clkhash's bytes.

* double hashing (Schnell, Bachteler and Reiher 2011): positions
  ``(h1 + i * h2) mod L`` with ``h1 = HMAC-SHA1``, ``h2 = HMAC-MD5`` of the
  token, both read as big-endian integers; optionally re-hashing ``h2`` while
  it is ``0 mod L`` (``prevent_singularity``);
* BLAKE2b hashing: keyed BLAKE2b-512 with salt ``str(j)`` gives 32 unsigned
  16-bit little-endian integers per call; position ``i`` is the ``i``-th of
  them ``mod L``.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence

_SHORTS = struct.Struct("<32H")

PositionFunction = Callable[[bytes, int], list[int]]


def double_hash_positions(key_sha1: bytes, key_md5: bytes, length: int,
                          prevent_singularity: bool) -> PositionFunction:
    """Return a function giving the ``k`` double-hash positions of a token."""

    def positions(token: bytes, k: int) -> list[int]:
        h1 = int.from_bytes(hmac.digest(key_sha1, token, "sha1"), "big") % length
        h2 = int.from_bytes(hmac.digest(key_md5, token, "md5"), "big") % length
        if prevent_singularity:
            attempt = 0
            while h2 == 0:
                h2 = int.from_bytes(
                    hmac.digest(key_md5, token + chr(attempt).encode(), "md5"), "big") % length
                attempt += 1
        return [(h1 + i * h2) % length for i in range(k)]

    return positions


def blake_positions(key: bytes, length: int) -> PositionFunction:
    """Return a function giving the ``k`` BLAKE2b positions of a token."""

    def positions(token: bytes, k: int) -> list[int]:
        shorts: list[int] = []
        for call in range((k + 31) // 32):
            digest = hashlib.blake2b(token, key=key, salt=str(call).encode()).digest()
            shorts.extend(_SHORTS.unpack(digest))
        return [s % length for s in shorts[:k]]

    return positions


def mask_of(positions: Sequence[int], length: int) -> int:
    """The integer filter with the given bit positions set."""
    value = 0
    top = length - 1
    for position in positions:
        value |= 1 << (top - position)
    return value


def fold_xor(value: int, length: int, folds: int) -> int:
    """XOR-fold a filter ``folds`` times: each fold XORs its two halves."""
    for _ in range(folds):
        length //= 2
        value = (value >> length) ^ (value & ((1 << length) - 1))
    return value
