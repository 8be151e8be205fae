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


def _dice_pairs_reference(a: np.ndarray, b: np.ndarray, t: float) -> set[tuple[int, int]]:
    """Pairs with Dice >= t by the dense numpy reference (no two empty encodings)."""
    abits = np.unpackbits(a, axis=1).astype(np.int64)
    bbits = np.unpackbits(b, axis=1).astype(np.int64)
    inter = abits @ bbits.T
    total = abits.sum(1)[:, None] + bbits.sum(1)[None, :]
    hit = (2.0 * inter >= t * total) & (total > 0)
    return set(zip(*np.nonzero(hit), strict=True))


def test_vector_dice_kernel_matches_numpy_on_awkward_shapes() -> None:
    """Sizes off the tile/lane multiples, several word counts, mixed densities."""
    rng = np.random.default_rng(11)
    for n_a, n_b, nbytes in [(1, 1, 8), (5, 9, 24), (37, 61, 128), (130, 17, 40)]:
        density = rng.uniform(0.05, 0.6, size=(n_a + n_b, 1))
        bits = (rng.random((n_a + n_b, nbytes * 8)) < density).astype(np.uint8)
        bits[n_a:n_a + min(n_a, n_b) // 2] = bits[:min(n_a, n_b) // 2]  # exact copies
        bits[0] = 0  # an empty encoding
        clks = np.packbits(bits, axis=1)
        a, b = clks[:n_a], clks[n_a:]
        layout = similarity.segment_layout([], nbytes * 8)
        wa, wb = similarity.pack_words(a, layout), similarity.pack_words(b, layout)
        for t in (0.0, 0.3, 0.7, 1.0):
            expected = _dice_pairs_reference(a, b, t)
            for parallel in (False, True):
                i, j, s = similarity.dice_all_pairs(wa, wb, t, parallel=parallel)
                assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
                ref = similarity.dice_reference(a, b)
                np.testing.assert_allclose(s, ref[i, j], atol=1e-6)
                assert np.all(np.diff(i) >= 0)


def test_vector_dice_kernel_grows_its_output_buffers() -> None:
    """More hits in one chunk than the first buffer holds are all returned."""
    clks = _random_clks(3, 32, 0.4, 12)
    a = np.repeat(clks[:1], 300, axis=0)
    b = np.repeat(clks[:1], 200, axis=0)
    layout = similarity.segment_layout([], 256)
    wa, wb = similarity.pack_words(a, layout), similarity.pack_words(b, layout)
    i, j, s = similarity.dice_all_pairs(wa, wb, 0.9)
    assert len(set(zip(i.tolist(), j.tolist(), strict=True))) == len(i)
    assert len(i) == 300 * 200
    assert np.all(s == 1.0)


def test_containment_level_separates_partial_from_conflicting_values() -> None:
    """Measure 2: a subset of the other record's bits is level 1, whatever its Dice."""
    bits = np.zeros((5, 128), dtype=np.uint8)
    full = np.arange(0, 40, 2)  # 20 bits, e.g. a full date's tokens
    bits[0, full] = 1
    bits[1, full[:12]] = 1  # a partial date: every bit also in record 0
    bits[2, full[:18]] = 1  # same month, other day: most bits shared ...
    bits[2, [41, 43]] = 1  # ... but two of its own (Dice 0.9)
    bits[3, full] = 1  # identical to record 0
    # record 4: this segment empty (missing)
    for row in range(5):
        bits[row, 64:70] = 1
    clks = np.packbits(bits, axis=1)
    layout = similarity.segment_layout([("dob", 0, 64), ("x", 64, 64)], 128)
    words = similarity.pack_words(clks, layout)
    counts = similarity.segment_popcounts(words, layout)
    contain = similarity.LevelScheme.build([(1.0, 0.9, 0.8, 0.7), (0.9,)], measures=[2, 0])
    dice_only = similarity.LevelScheme.build([(0.9, 0.8, 0.7), (0.9,)])
    left, right = np.array([0, 0, 0, 0, 1]), np.array([1, 2, 3, 4, 2])
    got = contain.decode(similarity.pair_patterns(words, counts, layout, contain, left, right))
    plain = dice_only.decode(similarity.pair_patterns(words, counts, layout, dice_only, left,
                                                      right))
    # 0-1 contained (Dice 0.75); 0-2 not (Dice 0.9: level 2 = first Dice cut,
    # 0.9); identical; missing; 1-2 (12 of 1's bits all in 2's) contained.
    assert got[:, 0].tolist() == [1, 2, 0, contain.missing_level(0), 1]
    # Without the containment level the partial date ranks below the conflict.
    assert plain[:, 0].tolist() == [3, 1, 0, dice_only.missing_level(0), 3]


def test_choose_scheme_gives_containment_to_the_smaller_identifying_segments() -> None:
    # name, dob, sex (categorical, context), place (context)
    stats = scoring.SegmentStats(exact_share=np.array([1e-4, 1e-3, 0.5, 0.05]),
                                 extreme_share=np.array([0.6, 0.7, 1.0, 0.9]),
                                 bits=np.array([512, 256, 64, 128]))
    scheme = scoring.choose_scheme(stats)
    assert scheme.measures == (0, 2, 0, 0)
    assert scheme.cuts[1, 0] == 1.0
    assert scheme.n_cuts[1] == len(scoring.MEDIUM_CUTS) + 1
    plain = scoring.choose_scheme(stats, containment=False)
    assert plain.measures is None
    assert plain.n_cuts[1] == len(scoring.MEDIUM_CUTS)


def test_monotone_ratio_pools_violators_and_keeps_chain_mass() -> None:
    u = np.array([0.001, 0.01, 0.05, 0.1, 0.8, 0.039])
    # A "match" distribution peaked on a middle band: m/u rises from level 1 to 2.
    m = np.array([0.05, 0.05, 0.6, 0.2, 0.05, 0.05])
    out = scoring.monotone_ratio(m, u, 1, 5)
    ratio = out[1:5] / u[1:5]
    assert np.all(np.diff(ratio) <= 1e-12)  # non-increasing along the chain
    assert np.isclose(out.sum(), 1.0)
    assert np.isclose(out[1:5].sum(), m[1:5].sum())  # the chain keeps its mass
    assert out[0] == m[0] and out[5] == m[5]  # levels outside the chain untouched
    already = np.array([0.3, 0.3, 0.2, 0.1, 0.05, 0.05])
    assert np.allclose(scoring.monotone_ratio(already / already.sum(), u, 1, 5),
                       already / already.sum())


def test_dice_chain_skips_identical_and_containment_levels() -> None:
    from tiplink.linkage import frequency

    base = similarity.LevelScheme.build([(0.9, 0.8), (1.0, 0.9, 0.8)], measures=[0, 2])
    assert scoring.dice_chain(base, 0) == (1, 4)  # levels: identical, 0.9, 0.8, below | missing
    assert scoring.dice_chain(base, 1) == (2, 5)  # identical, contained, 0.9, 0.8, below
    refined = frequency.refined_scheme(base, [0, 1], n_bins=3)
    assert scoring.dice_chain(refined, 0) == (3, 6)
    assert scoring.dice_chain(refined, 1) == (4, 7)


def test_pair_patterns_in_chunks_match_one_pair_at_a_time() -> None:
    # The kernel scores contiguous chunks with prefetching; sizes around the
    # chunk count and the prefetch distance cover the chunk ends.
    clks = _random_clks(60, 64, 0.3, 8)
    layout = similarity.segment_layout([("a", 0, 256), ("b", 256, 256)], 512)
    words = similarity.pack_words(clks, layout)
    counts = similarity.segment_popcounts(words, layout)
    scheme = scoring.level_scheme(2)
    rng = np.random.default_rng(6)
    for n in (0, 1, 33, 64, 65, 1500):
        left = rng.integers(0, 60, size=n)
        right = rng.integers(0, 60, size=n)
        got = similarity.pair_patterns(words, counts, layout, scheme, left, right)
        want = [int(similarity.pair_patterns(words, counts, layout, scheme, left[k:k + 1],
                                             right[k:k + 1])[0]) for k in range(n)]
        assert got.tolist() == want
