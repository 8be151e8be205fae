"""The privacy benchmark's pieces do what docs/privacy.md says (small, fast data)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from privacy.accuracy import best_threshold, evaluate_clusters
from privacy.attack_run import run_attacks
from privacy.data import attack_data
from privacy.encoded import debalance, dice_matrix, encode
from privacy.graph_attack import expected_noisy_dice, graph_match
from privacy.pattern_mining import mine_blocks
from privacy.reidentify import assign, chance_share, correct_share
from privacy.token_attacks import AttackParams, Unit, unit_scores
from privacy.variants import parse_variant

from tiplink.encoders.hardening import BlipNoise


@pytest.fixture(scope="module")
def small() -> object:
    return attack_data(300, seed=3)


def test_dice_matrix_matches_the_definition() -> None:
    rng = np.random.default_rng(1)
    bits = rng.random((5, 64)) < 0.3
    sims = dice_matrix(bits)
    for i in range(5):
        for j in range(5):
            expected = 2 * (bits[i] & bits[j]).sum() / (bits[i].sum() + bits[j].sum())
            assert sims[i, j] == pytest.approx(expected, abs=1e-6)


def test_debalance_recovers_the_filter_up_to_order(small) -> None:
    plain = parse_variant("victim").schema()
    balanced = parse_variant("victim+bal").schema()
    secret = b"k" * 32
    a = encode(plain, secret, small.columns, small.rows[:200])
    b = encode(balanced, secret, small.columns, small.rows[:200])
    view, columns = debalance(b.segments["name"])
    assert view.shape == a.segments["name"].shape
    assert len(columns) == 512
    # Same multiset of columns: the attacker undid balancing.
    original = Counter(col.tobytes() for col in a.segments["name"].T)
    recovered = Counter(col.tobytes() for col in view.T)
    # All but the odd column set in over half the records (the complement is kept).
    assert sum((original & recovered).values()) >= 0.95 * 512


def test_expected_noisy_dice_matches_simulated_noise() -> None:
    rng = np.random.default_rng(2)
    bits = rng.random((4, 256)) < 0.3
    bits[1] = bits[0]
    flip = 0.1
    expected = expected_noisy_dice(bits, flip)
    noise = BlipNoise({"s": flip}, seed=5)
    draws = []
    for _ in range(400):
        noisy = np.array([[int(c) for c in format(noise.flip(int("".join(map(str, row.astype(int))), 2),
                                                                256, "s"), "0256b")]
                          for row in bits.astype(int)], dtype=bool)
        draws.append(dice_matrix(noisy))
    mean = np.mean(draws, axis=0)
    off = ~np.eye(4, dtype=bool)
    assert np.abs(mean - expected)[off].max() < 0.01


def test_assignment_and_scoring() -> None:
    rng = np.random.default_rng(0)
    scores = np.eye(4) + rng.random((4, 4)) * 0.01
    assignment = assign(scores, rng)
    assert list(assignment) == [0, 1, 2, 3]
    assert correct_share(assignment, [10, 11, 12, 13], [10, 11, 12, 13]) == 1.0
    assert correct_share(assignment, [10, 11, 12, 13], [13, 12, 11, 10]) == 0.0
    assert chance_share([1, 2, 3, 4], [1, 2, 8, 9]) == pytest.approx(2 / 4 / 4)


def test_block_mining_finds_a_planted_token() -> None:
    rng = np.random.default_rng(4)
    bits = rng.random((600, 256)) < 0.25
    holders = rng.random(600) < 0.1
    positions = rng.choice(256, 12, replace=False)
    bits[np.ix_(holders, positions)] = True
    params = AttackParams(bits_per_token=12, segment_bits=256, folded_bits=256)
    blocks = mine_blocks(bits, params, width=9)
    best = max(blocks, key=lambda b: len(set(b.positions) & set(positions)))
    assert set(positions) <= set(best.positions.tolist())
    assert abs(best.rows.sum() - holders.sum()) <= 3


def test_unit_scores_prefer_the_entry_holding_the_decoded_tokens() -> None:
    from privacy.encoded import TokenTable

    bits = np.zeros((2, 16), dtype=bool)
    bits[0, [1, 2, 3]] = True
    bits[1, [7, 8]] = True
    table = TokenTable(vocab=["a", "b"], sizes=np.array([1, 1]),
                       present=np.array([[True, False], [False, True]]),
                       all_groups=[frozenset({"a"}), frozenset({"b"})], tokens={})
    units = [Unit(("a",), np.array([1, 2, 3])), Unit(("b",), np.array([7, 8]))]
    params = AttackParams(bits_per_token=3, segment_bits=16, folded_bits=16)
    scores = unit_scores(bits, table, units, params)
    assert scores[0, 0] > scores[0, 1]
    assert scores[1, 1] > scores[1, 0]


def test_graph_attack_reidentifies_unhardened_and_not_random_encodings(small) -> None:
    outcome = run_attacks(parse_variant("victim").schema(), small, 1.0,
                          np.random.default_rng(1))
    assert outcome.shares["graph_refined"] > 0.3      # far above chance (1 in 300)
    assert outcome.shares["token_bound"] > 0.3
    assert outcome.chance == pytest.approx(1 / 300)
    # Unrelated random encodings carry no structure: chance level.
    rng = np.random.default_rng(7)
    a = [dice_matrix(rng.random((300, 256)) < 0.3)]
    b = [dice_matrix(rng.random((300, 256)) < 0.3)]
    result = graph_match(a, b, rng)
    assert correct_share(result.refined, list(range(300)), list(range(300))) < 0.03


def test_accuracy_metrics() -> None:
    truth = np.array([0, 0, 1, 2, 2, 2])
    parties = np.array(["a", "b", "a", "a", "b", "b"])
    p, r, f1, unique, capture = evaluate_clusters(np.array([0, 0, 1, 2, 2, 2]), truth, parties)
    assert (p, r, f1, unique, capture) == (1.0, 1.0, 1.0, 0.0, 0.0)
    p, r, f1, unique, capture = evaluate_clusters(np.array([0, 1, 2, 3, 3, 3]), truth, parties)
    assert r == pytest.approx(3 / 4) and p == 1.0 and unique == pytest.approx(1 / 3)
    # Person 0 counted as two people (one per party): histories {a}, {b} instead of {a, b}.
    assert capture == pytest.approx(3 / 3)
    scores = np.full((6, 6), 0.1)
    for i, j in [(0, 1), (3, 4), (3, 5), (4, 5)]:
        scores[i, j] = scores[j, i] = 0.9
    np.fill_diagonal(scores, 1.0)
    assert best_threshold(scores, truth, parties).f1 == 1.0
