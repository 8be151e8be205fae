"""Clustering invariants: every record once, duplicates merged, no chaining."""

from __future__ import annotations

import numpy as np
import pytest

from tiplink.linkage.clustering import cluster, cluster_to_count
from tiplink.linkage.scoring import expected_entities, match_bounds


def test_every_record_once_and_pairs_merge() -> None:
    result = cluster(6, np.array([0, 2, 3]), np.array([1, 3, 4]), np.array([0.99, 0.9, 0.95]))
    labels = result.labels
    assert len(labels) == 6
    assert labels[0] == labels[1]
    assert labels[5] not in (labels[0], labels[2])
    # 2-3 and 3-4 link but 2-4 was never compared: logit(0.9) + logit(0.95) + logit(0.01) < 0
    # -> not one entity
    assert len({labels[2], labels[3], labels[4]}) == 2
    assert result.n_entities == len(set(labels.tolist()))


def test_duplicates_within_a_party_share_an_entity() -> None:
    # Records 0, 1 (same party) and 2 (other party): all pairs strongly linked.
    result = cluster(3, np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([0.97, 0.98, 0.96]))
    assert len(set(result.labels.tolist())) == 1


def test_chain_does_not_build_a_giant_cluster() -> None:
    n = 50
    left = np.arange(n - 1)
    right = np.arange(1, n)
    prob = np.full(n - 1, 0.8)  # a chain of plausible links, no other evidence
    result = cluster(n, left, right, prob)
    assert result.largest <= 3


def test_weak_bridge_between_two_groups_is_outvoted() -> None:
    # Two tight triangles {0,1,2} and {3,4,5} joined by one strong edge 2-3.
    left = np.array([0, 0, 1, 3, 3, 4, 2])
    right = np.array([1, 2, 2, 4, 5, 5, 3])
    prob = np.array([0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99])
    result = cluster(6, left, right, prob)
    labels = result.labels
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4] == labels[5]
    assert labels[0] != labels[3]


def test_a_clear_non_match_outweighs_two_likely_links() -> None:
    # {0, 1, 2} is one sure person; record 3 is likely the same as 0 and 1
    # (0.8 each) but clearly not 2 (0.02). Additive p - 1/2 weights merged
    # it (0.3 + 0.3 - 0.48 > 0); in log-odds the non-match wins
    # (2 * 1.39 - 3.89 < 0).
    left = np.array([0, 0, 1, 0, 1, 2])
    right = np.array([1, 2, 2, 3, 3, 3])
    result = cluster(4, left, right, np.array([0.99, 0.99, 0.99, 0.8, 0.8, 0.02]))
    assert result.n_entities == 2
    assert result.labels[3] != result.labels[0]
    # Sure links outvote it.
    result = cluster(4, left, right, np.array([0.99, 0.99, 0.99, 0.99, 0.99, 0.02]))
    assert result.n_entities == 1


def test_merge_weights_are_log_odds_against_the_cut() -> None:
    from tiplink.linkage.clustering import PROB_FLOOR, merge_weights

    weight, unscored = merge_weights(np.array([0.5, 0.9, 0.0]), 0.5)
    assert np.allclose(weight, [0.0, np.log(9.0), np.log(PROB_FLOOR / (1 - PROB_FLOOR))])
    assert unscored == weight[2] < 0
    # A cut below the floor still makes unscored pairs weigh against merging.
    assert merge_weights(np.array([0.5]), 0.005)[1] < 0


def test_expected_entities_counts_people_not_links() -> None:
    # One pair at p: 2 - p people, whatever the order.
    assert abs(expected_entities(2, np.array([0]), np.array([1]), np.array([0.3])) - 1.7) < 1e-9
    # A sure triangle is one person (three links, two merges), and an
    # unrelated record adds one.
    tri = expected_entities(4, np.array([0, 0, 1]), np.array([1, 2, 2]), np.ones(3))
    assert abs(tri - 2.0) < 1e-9
    # Pairs never scored count as p = 0.
    assert expected_entities(3, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)) == 3.0


def test_cluster_to_count_hits_the_target() -> None:
    # 40 pairs (0, 1), (2, 3), ... with probabilities spread over (0.1, 0.5):
    # at cut c, every pair above c merges, so the count moves one by one.
    n_pairs = 40
    left = np.arange(0, 2 * n_pairs, 2)
    right = left + 1
    prob = np.linspace(0.11, 0.49, n_pairs)
    for target in (50, 60, 70):
        cut, result = cluster_to_count(2 * n_pairs, left, right, prob, float(target), start=0.45,
                                       rel_tol=0.0, max_evals=30)
        assert abs(result.n_entities - target) <= 1
        assert result.n_entities == cluster(2 * n_pairs, left, right, prob,
                                            threshold=cut).n_entities
    # A target beyond reach: the nearest end of the range.
    cut, result = cluster_to_count(2 * n_pairs, left, right, prob, 10.0)
    assert cut == 0.1 and result.n_entities == n_pairs


def test_match_bounds_one_link_per_record() -> None:
    bounds = match_bounds(np.array([100, 40]), [(0, 0), (0, 1), (1, 1)])
    assert bounds.tolist() == [50.0, 40.0, 20.0]


@pytest.mark.parametrize("seed", range(6))
def test_compiled_contraction_matches_the_reference(seed: int) -> None:
    """The compiled contraction (all components at once) makes the reference's clusters."""
    from tiplink.linkage.clustering import _gaec, _gaec_compiled, merge_weights

    rng = np.random.default_rng(seed)
    n = 60
    # Dense-ish random graph with a spread of probabilities, so components
    # are large and many merges compete; pairs unique, left < right.
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(400, 2)) if a < b}
    left = np.array([a for a, _ in sorted(pairs)], dtype=np.int64)
    right = np.array([b for _, b in sorted(pairs)], dtype=np.int64)
    prob = rng.beta(0.6, 0.6, size=len(left))
    for threshold in (0.2, 0.5):
        weight, unscored = merge_weights(prob, threshold)
        roots, merges = _gaec(np.arange(n), left, right, weight, unscored)
        parent, compiled_merges = _gaec_compiled(n, left, right, weight, unscored)
        assert compiled_merges == merges
        assert [int(parent[v]) for v in range(n)] == [roots[v] for v in range(n)]
        assert merges > 0
