"""Encodings and plaintext tokens as the attacks see them.

The attacker holds the encoded records (bits, split into the segments the
extract header names) and, for its own public list, the tokens each segment
would hash: under Kerckhoffs' principle it knows the schema, including the
tokenisation, the hardening and any salting, but not the secret.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiplink.encoders.clk import Encoder
from tiplink.encoders.schema import LinkageSchema


@dataclass(frozen=True)
class EncodedSet:
    """Encoded records split by segment.

    Attributes:
        segments: segment name -> ``bool`` array (records x bits).
        balanced: whether the segments are balanced (filter + complement).
    """

    segments: dict[str, np.ndarray]
    balanced: bool


def encode(schema: LinkageSchema, secret: bytes, columns: Sequence[str],
           rows: Sequence[Sequence[str]]) -> EncodedSet:
    """Encode rows and split the bits by segment."""
    encoder = Encoder(schema, secret, columns)
    bits = np.unpackbits(encoder.encode_rows(rows), axis=1).astype(bool)
    segments = {name: bits[:, start:start + size] for name, start, size in encoder.segment_layout}
    return EncodedSet(segments, schema.hardening.balance)


def debalance(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undo balancing as an attacker can: pair each bit with its complement.

    Balancing appends the complement under a secret permutation, but the
    pairs give themselves away (two columns that are never equal). Of each
    pair the attacker keeps the sparser column, which is the original bit
    whenever the filter is less than half full.

    Returns:
        The kept columns' bits and their indices in ``bits``.
    """
    width = bits.shape[1]
    keyed = {bits[:, j].tobytes(): j for j in range(width)}
    used = np.zeros(width, dtype=bool)
    keep = []
    for j in range(width):
        if used[j]:
            continue
        partner = keyed.get((~bits[:, j]).tobytes())
        if partner is None or used[partner] or partner == j:
            continue
        used[j] = used[partner] = True
        keep.append(j if bits[:, j].sum() <= bits[:, partner].sum() else partner)
    columns = np.array(sorted(keep), dtype=int)
    return bits[:, columns], columns


def attacker_view(encoded: EncodedSet) -> tuple[dict[str, np.ndarray],
                                               dict[str, np.ndarray | None]]:
    """The segments after the attacker's preprocessing (de-balancing).

    Returns:
        Bits per segment, and for balanced segments the encoded columns kept.
    """
    if not encoded.balanced:
        return encoded.segments, dict.fromkeys(encoded.segments)
    undone = {name: debalance(bits) for name, bits in encoded.segments.items()}
    return ({name: b for name, (b, _) in undone.items()},
            {name: c for name, (_, c) in undone.items()})


def dice_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Dice similarity of every row of ``a`` with every row of ``b`` (float32)."""
    a32 = a.astype(np.float32)
    b32 = a32 if b is None else b.astype(np.float32)
    inter = a32 @ b32.T
    sums = a32.sum(1)[:, None] + b32.sum(1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(sums > 0, 2 * inter / sums, 0.0).astype(np.float32)
    return out


@dataclass(frozen=True)
class TokenTable:
    """Which token groups each plaintext record has, for one segment.

    A group is what the attacker aligns as one unit: a name part's n-grams
    and phonetic codes, a whole value of another n-gram feature, or a single
    date or exact token (see ``Encoder.token_groups``).

    Attributes:
        vocab: the groups kept (on at least ``min_count`` records).
        sizes: tokens in each kept group.
        present: ``bool`` array (records x kept groups).
        all_groups: every record's full set of group labels.
        tokens: each group label's tokens.
    """

    vocab: list[str]
    sizes: np.ndarray
    present: np.ndarray
    all_groups: list[frozenset[str]]
    tokens: dict[str, list[str]]


def token_tables(schema: LinkageSchema, columns: Sequence[str], rows: Sequence[Sequence[str]],
                 segments: Sequence[str], min_count: int = 2) -> dict[str, TokenTable]:
    """Token-group incidence of the attacker's rows in each of ``segments``."""
    encoder = Encoder(schema, b"the attacker needs no secret for tokens", columns)
    per_row = [encoder.token_groups(row) for row in rows]
    tables = {}
    for segment in segments:
        sets = [frozenset(r[segment]) for r in per_row]
        group_tokens: dict[str, list[str]] = {}
        for r in per_row:
            group_tokens.update(r[segment])
        counts = Counter(t for s in sets for t in s)
        vocab = sorted(t for t, c in counts.items() if c >= min_count)
        index = {t: i for i, t in enumerate(vocab)}
        present = np.zeros((len(rows), len(vocab)), dtype=bool)
        for i, s in enumerate(sets):
            present[i, [index[t] for t in s if t in index]] = True
        sizes = np.array([len(group_tokens[t]) for t in vocab], dtype=int)
        tables[segment] = TokenTable(vocab, sizes, present, sets, group_tokens)
    return tables
