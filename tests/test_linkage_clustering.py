"""Clustering invariants: every record once, duplicates merged, no chaining."""

from __future__ import annotations

import numpy as np

from tiplink.linkage.clustering import cluster


def test_every_record_once_and_pairs_merge() -> None:
    result = cluster(6, np.array([0, 2, 3]), np.array([1, 3, 4]), np.array([0.99, 0.9, 0.95]))
    labels = result.labels
    assert len(labels) == 6
    assert labels[0] == labels[1]
    assert labels[5] not in (labels[0], labels[2])
    # 2-3 and 3-4 link but 2-4 was never compared: mean(0.9, 0.95, 0) < 0.5 -> not one entity
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
