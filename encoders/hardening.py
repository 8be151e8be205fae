"""Hardening of encodings against attacks on Bloom filters (tiplink extension).

Each protection is switched on by the schema's ``x-tiplink.hardening`` key
(or, for salting, a feature's ``x-tiplink.salt``) and documented in
``docs/privacy.md`` with its measured effect on attacks and on accuracy:

* ``randomHashing``: each token's bit positions are drawn independently and
  uniformly from a keyed PRF (Ranbaduge and Schnell 2020), instead of the
  arithmetic progression ``h1 + i * h2`` of double hashing, whose structure
  the attacks of Niedermeyer et al. (2014) and Kroll and Steinmetzer (2015)
  exploit. BLAKE2b hashing already draws independent positions, so only
  ``doubleHash`` features change.
* ``balance``: each segment becomes the filter followed by its complement,
  under a keyed permutation (Berger et al.), so every encoding of a segment
  has exactly half its bits set.
* ``blip``: BLIP (Alaggan, Gambs and Kermarrec 2012; Schnell and Borgs
  2016): every bit is flipped independently with probability
  ``p = 1 / (1 + exp(epsilon / k))``, where ``k`` is the most bits one token
  sets in that segment. Adding or removing one token then changes the
  probability of any output by at most ``exp(epsilon)``.
* salting (per feature): the feature's tokens are prefixed with a stable
  attribute of the record (for example the year of birth) before hashing.
* token sampling (per feature, ``x-tiplink.sampling``): only a keyed share
  of the possible tokens is ever hashed; which ones depends on the secret,
  so an attacker's own-key simulation no longer reproduces the similarities
  between different people, while equal values still give equal filters.
* XOR folding (``clkConfig.xor_folds``, clkhash's key) lives in
  :mod:`tiplink.encoders.bloomfilter`.
"""

from __future__ import annotations

import hmac
import math
import secrets as secrets_module
import struct
from collections.abc import Callable

import numpy as np

from tiplink.encoders.schema import LinkageSchema
from tiplink.encoders.tokenise import parse_partial_date

PositionFunction = Callable[[bytes, int], list[int]]
_WORDS = struct.Struct(">8I")
# The salt of a record whose salt attribute is empty. It is distinct from
# every real value, so such records match only others that also lack it.
MISSING_SALT = "\x00"


# --- random hashing -------------------------------------------------------------


def random_positions(key: bytes, length: int) -> PositionFunction:
    """Return a function giving ``k`` independent uniform positions of a token.

    Positions come from HMAC-SHA256 in counter mode (a PRF under the
    feature's key), each 32-bit word reduced to ``[0, length)`` by rejection
    sampling, so they are unbiased for any ``length``, power of two or not.
    """
    if not 0 < length <= 1 << 32:
        raise ValueError("random hashing needs 0 < length <= 2**32")
    # The largest multiple of length below 2**32: words at or above it are
    # rejected, so every residue is equally likely.
    limit = (1 << 32) - (1 << 32) % length

    def positions(token: bytes, k: int) -> list[int]:
        result: list[int] = []
        block = 0
        while len(result) < k:
            digest = hmac.digest(key, block.to_bytes(4, "big") + token, "sha256")
            for word in _WORDS.unpack(digest):
                if word < limit:
                    result.append(word % length)
                    if len(result) == k:
                        break
            block += 1
        return result

    return positions


# --- BLIP -----------------------------------------------------------------------


def blip_flip_probability(epsilon: float, bits_per_token: int) -> float:
    """Flip probability for ``epsilon``-DP per token when a token sets ``k`` bits.

    Adding or removing one token changes at most ``k`` bits; randomised
    response with ``p = 1 / (1 + e^(epsilon / k))`` on each bit bounds the
    likelihood ratio of any output by ``((1 - p) / p) ** k = e^epsilon``.
    """
    if epsilon <= 0 or bits_per_token <= 0:
        raise ValueError("epsilon and bits_per_token must be positive")
    return 1.0 / (1.0 + math.exp(epsilon / bits_per_token))


def segment_bits_per_token(schema: LinkageSchema) -> dict[str, int]:
    """The most bits one token can set in each segment.

    A ``bitsPerFeature`` feature may give all its bits to a single token
    (a value with one token), so its bound is ``bitsPerFeature``.
    """
    bound = {segment.name: 1 for segment in schema.segments}
    for feature in schema.features:
        if feature.ignored:
            continue
        k = feature.bits_per_token or feature.bits_per_feature or 1
        bound[feature.segment] = max(bound[feature.segment], k)
    return bound


class BlipNoise:
    """BLIP: flip each bit of a segment independently with its probability.

    The noise is fresh for every record and comes from a generator seeded by
    the OS's CSPRNG: noise derived from the record would make equal records
    give equal encodings again, which is what the frequency attacks use.

    Args:
        probabilities: flip probability per segment name.
        seed: for tests only; by default 128 bits from the OS.
    """

    def __init__(self, probabilities: dict[str, float], seed: int | None = None) -> None:
        self.probabilities = dict(probabilities)
        self._rng = np.random.default_rng(secrets_module.randbits(128) if seed is None else seed)

    @classmethod
    def for_schema(cls, schema: LinkageSchema, seed: int | None = None) -> BlipNoise:
        """The noise the schema's ``blip.epsilon`` asks for, per segment."""
        epsilon = schema.hardening.blip_epsilon
        if not epsilon:
            raise ValueError("the schema does not enable BLIP")
        bounds = segment_bits_per_token(schema)
        return cls({name: blip_flip_probability(epsilon, k) for name, k in bounds.items()},
                   seed)

    def flip(self, segment: int, bits: int, name: str) -> int:
        """Return the segment (an int of ``bits`` bits) with noise applied."""
        flips = self._rng.random(bits) < self.probabilities[name]
        if not flips.any():
            return segment
        packed = np.packbits(flips).tobytes()
        # packbits pads the last byte with zeros on the right; drop them.
        mask = int.from_bytes(packed, "big") >> (len(packed) * 8 - bits)
        return segment ^ mask


# --- balancing ------------------------------------------------------------------


def balance_permutations(schema: LinkageSchema, key: bytes) -> dict[str, np.ndarray]:
    """A keyed permutation of each segment's doubled bits.

    Each segment's permutation is seeded with its own HMAC of ``key``, so the
    segments' permutations are unrelated and none can be recovered without
    the secret's balance subkey.
    """
    perms = {}
    for segment in schema.segments:
        seed = hmac.digest(key, b"balance-permutation:" + segment.name.encode("utf-8"),
                           "sha256")
        rng = np.random.default_rng(int.from_bytes(seed, "big"))
        perms[segment.name] = rng.permutation(segment.bits * 2)
    return perms


def balance(segment: int, bits: int, permutation: np.ndarray) -> int:
    """Balanced Bloom filter (Berger et al.): the filter, its complement, permuted.

    Output bit ``i`` is bit ``permutation[i]`` of the ``2 * bits`` bits
    ``filter || ~filter``, so exactly ``bits`` of them are set.
    """
    doubled = (segment << bits) | (~segment & ((1 << bits) - 1))
    width = 2 * bits
    nbytes = (width + 7) // 8
    pad = nbytes * 8 - width
    as_bits = np.unpackbits(np.frombuffer((doubled << pad).to_bytes(nbytes, "big"),
                                          dtype=np.uint8))[:width]
    packed = np.packbits(as_bits[permutation]).tobytes()
    return int.from_bytes(packed, "big") >> pad


# --- salting --------------------------------------------------------------------


def salt_value(raw: str, derive: str) -> str:
    """The salt a record's attribute gives (``MISSING_SALT`` when empty).

    Args:
        raw: the salt column's value.
        derive: ``value`` (the stripped value) or ``year`` (the year of a
            ``YYYY[-MM[-DD]]`` date).

    Raises:
        ValueError: ``derive`` is ``year`` and the value is not such a date.
    """
    text = raw.strip()
    if not text:
        return MISSING_SALT
    if derive == "year":
        year, _, _ = parse_partial_date(text)
        return str(year)
    return text


def salted_tokens(tokens: list[str], salt: str) -> list[str]:
    """Prefix every token with the salt (tokens are unchanged without one)."""
    if not salt:
        return tokens
    return [f"{salt}\x1f{token}" for token in tokens]


# --- keyed token sampling -------------------------------------------------------


def token_keep_scores(tokens: list[str], key: bytes) -> list[float]:
    """A keyed uniform number in [0, 1) per token (HMAC-SHA256 of the token)."""
    return [int.from_bytes(hmac.digest(key, t.encode("utf-8"), "sha256")[:8], "big") / 2.0 ** 64
            for t in tokens]


def sample_tokens(tokens: list[str], key: bytes, rate: float) -> list[str]:
    """Keep the tokens whose keyed score is below ``rate``.

    The decision depends only on the token and the key, so every record with
    the token keeps or drops it alike. A value whose tokens would all be
    dropped keeps its lowest-scoring one, so a present value never looks
    missing.
    """
    if rate >= 1.0 or not tokens:
        return tokens
    scores = token_keep_scores(tokens, key)
    kept = [t for t, score in zip(tokens, scores, strict=True) if score < rate]
    if not kept:
        kept = [min(zip(scores, tokens, strict=True))[1]]
    return kept
