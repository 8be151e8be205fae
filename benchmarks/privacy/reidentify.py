"""From attack scores to re-identifications, and how many are right.

Every attack ends with a score for each pair (encoded record, public-list
entry). The attacker then makes a one-to-one assignment maximising the total
score (Hungarian algorithm), as Vidanage et al. (2020) do. A
re-identification is correct when the assigned list entry is the person the
encoded record belongs to; the figure reported is correct assignments
divided by encoded records.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One-to-one assignment maximising total score; ``-1`` for unassigned rows.

    A tiny random jitter breaks ties, so an attacker with no information
    does no better than chance whatever the order of either list.
    """
    jitter = rng.random(scores.shape) * 1e-6
    rows, cols = linear_sum_assignment(scores.astype(np.float64) + jitter, maximize=True)
    result = np.full(scores.shape[0], -1, dtype=int)
    result[rows] = cols
    return result


def correct_share(assignment: np.ndarray, encoded_ids: Sequence[int],
                  list_ids: Sequence[int]) -> float:
    """Share of encoded records assigned to their own person."""
    list_array = np.asarray(list_ids)
    encoded_array = np.asarray(encoded_ids)
    assigned = assignment >= 0
    hits = np.zeros(len(encoded_array), dtype=bool)
    hits[assigned] = list_array[assignment[assigned]] == encoded_array[assigned]
    return float(hits.mean())


def chance_share(encoded_ids: Sequence[int], list_ids: Sequence[int]) -> float:
    """Expected share correct for a random one-to-one assignment."""
    on_list = len(set(encoded_ids) & set(list_ids))
    return on_list / max(len(list_ids), 1) / max(len(encoded_ids), 1)
