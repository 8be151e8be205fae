"""Term-frequency levels: value groups, refined codes, exact identical-pair histogram."""

from __future__ import annotations

import numpy as np

from tiplink.linkage import frequency, similarity
from tiplink.linkage.similarity import LevelScheme


def _records(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, similarity.SegmentLayout]:
    """Two-segment encodings with repeated values (some common, some rare) and empties."""
    layout = similarity.segment_layout([("name", 0, 128), ("dob", 128, 64)], 192)
    names = rng.integers(0, 2**63, size=(12, 2), dtype=np.uint64)
    dobs = rng.integers(0, 2**63, size=(9, 1), dtype=np.uint64)
    # Zipf-like use of the values: value 0 is common, the last ones rare.
    n = 300
    pick_name = np.minimum(rng.zipf(1.6, size=n) - 1, 11)
    pick_dob = np.minimum(rng.zipf(1.4, size=n) - 1, 8)
    words = np.concatenate([names[pick_name], dobs[pick_dob]], axis=1)
    words[rng.random(n) < 0.1, 2] = 0  # empty dob: missing, never "identical"
    counts = similarity.segment_popcounts(words, layout)
    return words, counts, layout


def test_value_groups_and_bins() -> None:
    words, counts, layout = _records(np.random.default_rng(1))
    freq = frequency.value_frequencies(words, counts, layout, [0, 1])
    for k, s in enumerate((0, 1)):
        present = counts[:, s] > 0
        assert np.all(freq.value[~present, k] == -1)
        # Same value id <=> identical segment words.
        ids = freq.value[present, k]
        block = words[present][:, layout.word_starts[s]:layout.word_starts[s + 1]]
        for v in np.unique(ids)[:5]:
            rows = block[ids == v]
            assert np.all(rows == rows[0])
            assert freq.size[present, k][ids == v][0] == (ids == v).sum()
    assert frequency.frequency_bin(np.array([2, 3, 4, 5, 8, 9, 64, 65, 10_000])).tolist() == \
        [0, 1, 1, 2, 2, 3, 5, 6, 6]


def test_refine_round_trip_and_identical_levels() -> None:
    base = LevelScheme.build([(0.9, 0.7), (0.8,), ()])
    refined = frequency.refined_scheme(base, [0, 1])
    assert refined.n_identical == (7, 7, 1)
    assert refined.radix.tolist() == [11, 10, 3]
    levels = base.decode(np.arange(base.n_patterns))
    bins = np.tile(np.array([[3, 6, 0]]), (base.n_patterns, 1))
    codes = refined.refine(np.arange(base.n_patterns), bins)
    # Back to the base codes, and identical levels carry the bin.
    assert np.array_equal(refined.base_of_codes(codes), np.arange(base.n_patterns))
    rl = refined.decode(codes)
    assert np.all(rl[levels[:, 0] == 0, 0] == 3)
    assert np.all(rl[levels[:, 1] == 0, 1] == 6)
    assert np.all(rl[levels[:, 0] > 0, 0] == levels[levels[:, 0] > 0, 0] + 6)
    assert np.all(rl[levels[:, 2] == levels[:, 2], 2] == levels[:, 2])
    assert np.all(refined.is_identical(rl)[:, 0] == (levels[:, 0] == 0))
    # Missing stays the last level.
    assert refined.missing_level(0) == base.missing_level(0) + 6


def test_refined_histogram_is_the_exact_histogram_of_refined_codes() -> None:
    words, counts, layout = _records(np.random.default_rng(2))
    n = words.shape[0]
    base = LevelScheme.build([(0.9, 0.6), (0.7,)])
    group = np.arange(n) % 2
    table = np.array([[0, 1], [1, 2]])
    hist = similarity.all_pairs_histogram(words, counts, layout, base, group, table, 3)
    freq = frequency.value_frequencies(words, counts, layout, [0, 1])
    refined = frequency.refined_scheme(base, [0, 1])

    def chunks():  # type: ignore[no-untyped-def]
        for left, right, weight, complete in frequency.identical_pairs(freq):
            assert complete and np.all(left < right)
            codes = similarity.pair_patterns(words, counts, layout, base, left, right)
            bins = frequency.record_bins(freq, 2)
            yield table[group[left], group[right]], codes, refined.refine(codes, bins, left), \
                weight

    got = frequency.refine_histogram(hist.astype(np.float64), refined, chunks())
    # Reference: every pair, refined one by one.
    i, j = np.triu_indices(n, k=1)
    codes = similarity.pair_patterns(words, counts, layout, base, i, j)
    ref_codes = refined.refine(codes, frequency.record_bins(freq, 2)[i])  # per-pair bins
    expected = np.zeros_like(got)
    np.add.at(expected, (table[group[i], group[j]], ref_codes), 1.0)
    assert np.array_equal(got, expected)
    assert got.sum() == n * (n - 1) // 2


def test_identical_pairs_once_each_and_large_groups_sampled() -> None:
    words, counts, layout = _records(np.random.default_rng(3))
    freq = frequency.value_frequencies(words, counts, layout, [0, 1])
    seen = set()
    total = 0.0
    for left, right, weight, _complete in frequency.identical_pairs(freq, group_cap=10**9):
        for a, b in zip(left.tolist(), right.tolist(), strict=True):
            assert (a, b) not in seen
            seen.add((a, b))
        total += weight.sum()
    same = (freq.value[:, None, :] == freq.value[None, :, :]) & (freq.value[:, None, :] >= 0)
    n_expected = int(np.triu(same.any(axis=2), k=1).sum())
    assert len(seen) == n_expected
    # A small cap samples the big groups; their weights still add up to every pair.
    weights = 0.0
    sampled = False
    for _l, _r, weight, complete in frequency.identical_pairs(freq, group_cap=50):
        weights += weight.sum()
        sampled |= not complete
    assert sampled
    assert abs(weights - total) / total < 0.15  # first-segment dedup is per sample
