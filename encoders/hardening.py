"""Hardening of encodings against attacks on Bloom filters (tiplink extension).

Each protection is switched on by the schema's ``x-tiplink.hardening`` key
(or, for salting, a feature's ``x-tiplink.salt``) and documented in
``docs/privacy.md`` with its measured effect on attacks and on accuracy.
"""

from __future__ import annotations

import math
import secrets as secrets_module

import numpy as np

from tiplink.encoders.schema import LinkageSchema


class BlipNoise:
    """BLIP (Schnell and Borgs 2016): flip each bit with p = 1 / (1 + e^(eps/2)).

    Randomised response on each bit gives epsilon-differential privacy for
    one bit; the noise is fresh for every record (from the OS's CSPRNG), so
    identical records no longer give identical encodings.
    """

    def __init__(self, epsilon: float) -> None:
        self.probability = 1.0 / (1.0 + math.exp(epsilon / 2.0))
        self._rng = np.random.default_rng(secrets_module.randbits(128))

    def flip(self, segment: int, bits: int) -> int:
        flips = self._rng.random(bits) < self.probability
        if not flips.any():
            return segment
        mask = int.from_bytes(np.packbits(flips).tobytes(), "big")
        return segment ^ mask


def balance_permutations(schema: LinkageSchema, key: bytes) -> dict[str, np.ndarray]:
    """A keyed permutation of each balanced segment's doubled bits."""
    perms = {}
    for segment in schema.segments:
        seed = int.from_bytes(key, "big") ^ int.from_bytes(segment.name.encode().ljust(16, b"\0")[:16], "big")
        perms[segment.name] = np.random.default_rng(seed).permutation(segment.bits * 2)
    return perms


def balance(segment: int, bits: int, permutation: np.ndarray) -> int:
    """Balanced Bloom filter (Berger et al.): the filter, its complement, permuted."""
    doubled = (segment << bits) | (~segment & ((1 << bits) - 1))
    as_bits = np.unpackbits(np.frombuffer(doubled.to_bytes(bits * 2 // 8, "big"), dtype=np.uint8))
    return int.from_bytes(np.packbits(as_bits[permutation]).tobytes(), "big")
