"""Rival partners of a record compete (linkage/exclusivity.py)."""

from __future__ import annotations

import numpy as np

from tiplink.linkage.exclusivity import adjacency, compete


def test_a_pair_without_rivals_keeps_its_probability() -> None:
    group = np.array([0, 1, 0, 1])
    out = compete(4, np.array([0, 2]), np.array([1, 3]), np.array([0.6, 0.3]), group)
    assert np.allclose(out, [0.6, 0.3])


def test_two_candidates_in_one_party_compete() -> None:
    # Record 0 (party 0) has two candidates in party 1: 1 and 2, each at 0.6
    # (odds 1.5). Each pair's rival sum is 1.5 on record 0's side and 0 on
    # the other: odds 1.5 / sqrt(2.5).
    group = np.array([0, 1, 1])
    out = compete(3, np.array([0, 0]), np.array([1, 2]), np.array([0.6, 0.6]), group)
    odds = 1.5 / np.sqrt(2.5)
    assert np.allclose(out, odds / (1 + odds))
    # Full strength: the one-match-per-party posterior odds 1.5 / 2.5.
    full = compete(3, np.array([0, 0]), np.array([1, 2]), np.array([0.6, 0.6]), group, 1.0)
    assert np.allclose(full, 0.6 / 1.6)
    # A candidate in another party is no rival.
    other = compete(3, np.array([0, 0]), np.array([1, 2]), np.array([0.6, 0.6]),
                    np.array([0, 1, 2]))
    assert np.allclose(other, 0.6)


def test_a_duplicate_of_the_partner_is_no_rival() -> None:
    # 1 and 2 are the same person in party 1 (p = 1): both may be record 0's.
    group = np.array([0, 1, 1])
    left, right = np.array([0, 0, 1]), np.array([1, 2, 2])
    out = compete(3, left, right, np.array([0.7, 0.7, 1.0]), group)
    assert np.allclose(out, [0.7, 0.7, 1.0])
    # A likely but unsure duplicate competes a little.
    out = compete(3, left, right, np.array([0.7, 0.7, 0.9]), group)
    assert 0.6 < out[0] < 0.7 and out[0] == out[1]


def test_strength_zero_and_sure_links_are_unchanged() -> None:
    group = np.array([0, 1, 1])
    prob = np.array([1.0, 0.9])
    assert np.allclose(compete(3, np.array([0, 0]), np.array([1, 2]), prob, group, 0.0), prob)
    out = compete(3, np.array([0, 0]), np.array([1, 2]), prob, group)
    assert out[0] == 1.0 and out[1] < 0.01


def test_adjacency_lists_each_pair_from_both_ends() -> None:
    indptr, neighbour, pair = adjacency(4, np.array([0, 2, 0]), np.array([3, 1, 1]))
    assert indptr.tolist() == [0, 2, 4, 5, 6]
    assert neighbour[indptr[0]:indptr[1]].tolist() == [1, 3]
    assert pair[indptr[0]:indptr[1]].tolist() == [2, 0]
    assert neighbour[indptr[1]:indptr[2]].tolist() == [0, 2]
    assert neighbour[indptr[3]:indptr[4]].tolist() == [0]
