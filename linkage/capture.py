"""Capture histories from entity labels: which set of parties saw each person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def entity_party_sets(labels: np.ndarray, party_index: np.ndarray,
                      parties: Sequence[str]) -> list[tuple[str, ...]]:
    """The sorted tuple of party names of every entity (index = entity id)."""
    n_entities = int(labels.max()) + 1 if len(labels) else 0
    bits = np.zeros(n_entities, dtype=np.int64)
    np.bitwise_or.at(bits, labels, np.left_shift(1, party_index.astype(np.int64)))
    order = sorted(range(len(parties)), key=lambda p: parties[p])
    cache: dict[int, tuple[str, ...]] = {}
    out = []
    for mask in bits.tolist():
        if mask not in cache:
            cache[mask] = tuple(parties[p] for p in order if mask >> p & 1)
        out.append(cache[mask])
    return out


def capture_histories(party_sets: Sequence[tuple[str, ...]]) -> list[dict]:
    """``[{"parties": [...], "count": n}, ...]``, every non-empty set with a count once."""
    counts = Counter(party_sets)
    rows = [{"parties": list(key), "count": int(value)} for key, value in counts.items() if key]
    rows.sort(key=lambda r: (len(r["parties"]), r["parties"]))
    return rows


def basic_counts(parties: Sequence[str], records: dict[str, int],
                 party_sets: Sequence[tuple[str, ...]]) -> dict:
    """The COUNTS.json fields that follow from the clusters alone (no estimate)."""
    per_party = Counter(p for s in party_sets for p in s)
    return {
        "parties": sorted(parties),
        "records": {p: int(records.get(p, 0)) for p in sorted(parties)},
        "unique_entities": len(party_sets),
        "unique_per_party": {p: int(per_party.get(p, 0)) for p in sorted(parties)},
        "capture_histories": capture_histories(party_sets),
    }
