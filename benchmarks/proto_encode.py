"""A small keyed Bloom-filter encoder for benchmarks, independent of tiplink.encoders.

Used to encode benchmark data sets with named segments until (and beside)
the product encoder; it follows the usual CLK recipe: normalised values are
split into q-grams, each q-gram is hashed with a keyed BLAKE2b into two
integers and ``k`` positions are set by double hashing inside the field's
segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class FieldSpec:
    """One input column inside a segment.

    Attributes:
        column: input column.
        kind: ``text`` (bigrams), ``exact`` (whole value), ``date`` (year,
            month, day and whole-date tokens of ``YYYYMMDD`` or ``YYYY-MM-DD``).
        k: hash positions per token.
    """

    column: str
    kind: str = "text"
    k: int = 20


@dataclass(frozen=True)
class SegmentSpec:
    name: str
    bits: int
    fields: tuple[FieldSpec, ...]


def _tokens(value: object, spec: FieldSpec) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    text = " ".join(str(value).lower().split())
    if not text:
        return []
    if spec.kind == "exact":
        return [f"{spec.column}:{text}"]
    if spec.kind == "date":
        digits = "".join(ch for ch in text if ch.isdigit())
        out = []
        if len(digits) >= 4:
            out.append(f"y:{digits[:4]}")
        if len(digits) >= 6:
            out.append(f"m:{digits[4:6]}")
        if len(digits) >= 8:
            out.append(f"d:{digits[6:8]}")
            out.append(f"ymd:{digits[:8]}")
        return [f"{spec.column}:{t}" for t in out]
    padded = f"_{text}_"
    return [f"{spec.column}:{padded[i:i + 2]}" for i in range(len(padded) - 1)]


def encode_frame(frame: pd.DataFrame, segments: Sequence[SegmentSpec],
                 secret: bytes) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
    """Encode every row; returns ``uint8`` clks and ``(name, start, bits)`` segments."""
    total = sum(s.bits for s in segments)
    bits = np.zeros((len(frame), total), dtype=np.uint8)
    layout = []
    start = 0
    cache: dict[tuple[str, int, int], np.ndarray] = {}
    for seg in segments:
        layout.append((seg.name, start, seg.bits))
        for spec in seg.fields:
            column = frame[spec.column].tolist() if spec.column in frame else [None] * len(frame)
            for row, value in enumerate(column):
                for token in _tokens(value, spec):
                    key = (token, seg.bits, spec.k)
                    pos = cache.get(key)
                    if pos is None:
                        digest = hashlib.blake2b(token.encode(), key=secret, digest_size=16).digest()
                        h1 = int.from_bytes(digest[:8], "big")
                        h2 = int.from_bytes(digest[8:], "big") | 1
                        pos = np.array([(h1 + i * h2) % seg.bits for i in range(spec.k)]) + start
                        cache[key] = pos
                    bits[row, pos] = 1
        start += seg.bits
    return np.packbits(bits, axis=1), layout
