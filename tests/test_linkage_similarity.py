"""Popcount/Dice kernels against a plain numpy reference."""

from __future__ import annotations

import numpy as np

from tiplink.linkage import scoring, similarity


def _random_clks(n: int, nbytes: int, density: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.packbits((rng.random((n, nbytes * 8)) < density).astype(np.uint8), axis=1)


def test_dice_all_pairs_matches_numpy_reference() -> None:
    a = _random_clks(60, 128, 0.3, 1)
    b = _random_clks(70, 128, 0.3, 2)
    b[:10] = a[:10]  # some identical pairs
    layout = similarity.segment_layout([], 1024)
    wa, wb = similarity.pack_words(a, layout), similarity.pack_words(b, layout)
    reference = similarity.dice_reference(a, b)
    for parallel in (True, False):
        i, j, s = similarity.dice_all_pairs(wa, wb, 0.0, parallel=parallel)
        dense = np.zeros_like(reference)
        dense[i, j] = s
        np.testing.assert_allclose(dense, reference, atol=1e-6)
    i, j, s = similarity.dice_all_pairs(wa, wb, 0.99)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == {(k, k) for k in range(10)}


def test_segment_layout_and_pair_dice_per_segment() -> None:
    clks = _random_clks(40, 104, 0.25, 3)  # 832 bits: segments not word aligned
    segments = [("name", 0, 300), ("dob", 300, 200), ("sex", 500, 12), ("place", 512, 320)]
    layout = similarity.segment_layout(segments, 832)
    words = similarity.pack_words(clks, layout)
    counts = similarity.segment_popcounts(words, layout)
    bits = np.unpackbits(clks, axis=1)
    left = np.repeat(np.arange(40), 40)
    right = np.tile(np.arange(40), 40)
    dice = similarity.pair_dice(words, counts, layout.word_bounds(), left, right)
    for s, (_, start, count) in enumerate(segments):
        seg = bits[:, start:start + count]
        np.testing.assert_array_equal(counts[:, s], seg.sum(1))
        ref = similarity.dice_reference(np.packbits(seg, axis=1), np.packbits(seg, axis=1))
        empty = seg.sum(1) == 0
        ref[empty[:, None] | empty[None, :]] = similarity.MISSING
        np.testing.assert_allclose(dice[:, s].reshape(40, 40), ref, atol=1e-6)


def test_empty_segment_is_missing_not_disagreement() -> None:
    clks = _random_clks(2, 16, 0.4, 4)
    bits = np.unpackbits(clks, axis=1)
    bits[0, 64:] = 0  # record 0 has an empty second segment
    clks = np.packbits(bits, axis=1)
    layout = similarity.segment_layout([("a", 0, 64), ("b", 64, 64)], 128)
    words = similarity.pack_words(clks, layout)
    counts = similarity.segment_popcounts(words, layout)
    dice = similarity.pair_dice(words, counts, layout.word_bounds(), np.array([0]), np.array([1]))
    assert dice[0, 1] == similarity.MISSING
    scheme = scoring.level_scheme(2)
    code = similarity.pair_patterns(words, counts, layout, scheme, np.array([0]), np.array([1]))
    levels = scheme.decode(code)[0]
    assert levels[1] == scheme.missing_level(1)


def test_pattern_histogram_equals_pairwise_patterns() -> None:
    clks = _random_clks(50, 64, 0.3, 5)
    clks[1] = clks[0]
    layout = similarity.segment_layout([("a", 0, 256), ("b", 256, 256)], 512)
    words = similarity.pack_words(clks, layout)
    counts = similarity.segment_popcounts(words, layout)
    scheme = scoring.level_scheme(2)
    group = np.array([0] * 20 + [1] * 30, dtype=np.int64)
    table = np.array([[0, 1], [1, 2]], dtype=np.int64)
    hist = similarity.all_pairs_histogram(words, counts, layout, scheme, group, table, 3)
    left, right = np.triu_indices(50, 1)
    codes = similarity.pair_patterns(words, counts, layout, scheme, left, right)
    expected = np.zeros_like(hist)
    np.add.at(expected, (table[group[left], group[right]], codes), 1)
    np.testing.assert_array_equal(hist, expected)
    keep = np.zeros_like(hist, dtype=bool)
    keep[:, 0] = True  # identical in both segments
    sl, sr, sc = similarity.all_pairs_select(words, counts, layout, scheme, group, table, keep)
    assert list(zip(sl.tolist(), sr.tolist(), strict=True)) == [(0, 1)]
    assert sc.tolist() == [0]
