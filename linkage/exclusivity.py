"""Candidate partners of a record compete: a person has about one record per party.

The decision model scores every pair on its own. But if record ``a`` has
two plausible partners ``b`` and ``b'`` in party ``B``, both cannot usually
be ``a``'s: a person is in a register once (duplicates are the exception).
Under "``a`` has at most one match in ``B``", the posterior that ``b`` is
the one is

    odds(a, b) / (1 + sum over other candidates k of a in B of odds(a, k))

(``odds = p / (1 - p)``, ``p`` the pairwise posterior; a pair without
rivals keeps its ``p``). The same holds seen from ``b``. The adjusted odds
of a pair are the geometric mean of the two one-sided ones,

    odds(a, b) / sqrt((1 + S_a) (1 + S_b)),

and a rival that is itself probably the same person as the pair's other
record (``b'`` a duplicate of ``b``: ``p(b, b')`` high) does not compete:
it counts with weight ``1 - p(b, b')``. Exact duplicates within a register
therefore do not cancel each other's links.

Why: on the synthetic four-agency registers a model trained on the truth
reaches F1 0.866 on the pair's own evidence and 0.891 with these rival
sums added (``benchmarks/ceiling.py``, clustered at the true count), so
the information is real and the pairwise model leaves it unused. The
adjusted probabilities go to the clustering (the people target still
comes from the pairwise posteriors, which are calibrated for counts); the
measured effect on the seven register sets of
``benchmarks/model_variants.py`` (variants ``no rivals``, ``rival
strength 0.3`` / ``0.7``) is in docs/linkage.md. Half strength (the
square root, not the product) because duplicates and the model's own
overconfidence make the full correction too strong for counts.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

#: Probabilities are kept below this so that odds stay finite.
_MAX_PROB = 1.0 - 1e-9


def adjacency(n_records: int, left: np.ndarray, right: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scored pairs as a symmetric adjacency in compressed rows.

    Returns:
        ``(indptr, neighbour, pair)``: the neighbours of record ``i`` are
        ``neighbour[indptr[i]:indptr[i + 1]]`` (ascending) and ``pair`` the
        index of each such pair in ``left`` / ``right``.
    """
    source = np.concatenate([left, right]).astype(np.int64)
    target = np.concatenate([right, left]).astype(np.int64)
    pair = np.concatenate([np.arange(len(left)), np.arange(len(left))])
    order = np.lexsort((target, source))
    indptr = np.zeros(n_records + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n_records), out=indptr[1:])
    return indptr, target[order], pair[order]


@numba.njit(cache=True)
def _pair_prob(indptr: np.ndarray, neighbour: np.ndarray, pair: np.ndarray,
               prob: np.ndarray, a: int, b: int) -> float:  # pragma: no cover - numba
    lo, hi = indptr[a], indptr[a + 1]
    at = lo + np.searchsorted(neighbour[lo:hi], b)
    if at < hi and neighbour[at] == b:
        return prob[pair[at]]
    return 0.0


@numba.njit(parallel=True, cache=True)
def _adjusted(indptr: np.ndarray, neighbour: np.ndarray, pair: np.ndarray, prob: np.ndarray,
              group: np.ndarray, left: np.ndarray, right: np.ndarray,
              strength: float) -> np.ndarray:  # pragma: no cover - numba
    out = np.empty(len(left))
    for e in prange(len(left)):
        p = min(prob[e], _MAX_PROB)
        odds = p / (1.0 - p)
        rivals = 1.0
        for side in range(2):
            x = left[e] if side == 0 else right[e]
            y = right[e] if side == 0 else left[e]
            total = 0.0
            for t in range(indptr[x], indptr[x + 1]):
                k = neighbour[t]
                if k == y or group[k] != group[y]:
                    continue
                q = min(prob[pair[t]], _MAX_PROB)
                same = _pair_prob(indptr, neighbour, pair, prob, y, k)
                total += q / (1.0 - q) * (1.0 - same)
            rivals *= 1.0 + total
        adjusted = odds / rivals ** strength
        out[e] = adjusted / (1.0 + adjusted)
    return out


def compete(n_records: int, left: np.ndarray, right: np.ndarray, prob: np.ndarray,
            group: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Match probabilities of the pairs with each record's rival partners taken into account.

    Args:
        n_records: number of records.
        left, right: the scored pairs (each unordered pair once).
        prob: pairwise posterior match probability of each pair.
        group: party index of each record.
        strength: exponent of the rival factor (0 leaves ``prob`` as it is,
            1 is the full one-match-per-party correction).

    Returns:
        ``float64`` adjusted probabilities, aligned with ``prob``; never above it.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    if len(left) == 0 or strength == 0.0:
        return prob.copy()
    indptr, neighbour, pair = adjacency(n_records, left, right)
    adjusted = _adjusted(indptr, neighbour, pair, prob, np.asarray(group, dtype=np.int64),
                         left, right, float(strength))
    # Pairs at p = 1 (identical encodings) stay sure links.
    return np.where(prob >= 1.0, 1.0, np.minimum(adjusted, prob))
