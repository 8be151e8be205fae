"""LSH blocking finds near-duplicates that exhaustive comparison finds."""

from __future__ import annotations

import numpy as np
import pytest

from tiplink.linkage import blocking, similarity


def test_lsh_pair_completeness_on_near_duplicates() -> None:
    rng = np.random.default_rng(9)
    n = 3000
    bits = (rng.random((n, 1024)) < 0.35).astype(np.uint8)
    # 300 near-duplicates: each flips 4% of bits of an original.
    dup_of = rng.choice(n, size=300, replace=False)
    dups = bits[dup_of].copy()
    flips = rng.random(dups.shape) < 0.04
    dups[flips] ^= 1
    clks = np.packbits(np.vstack([bits, dups]), axis=1)
    layout = similarity.segment_layout([], 1024)
    words = similarity.pack_words(clks, layout)
    positions = blocking.bit_positions(layout.bit_counts, layout.word_starts)
    params, useful = blocking.choose_params(words, positions)
    left, right, keys = blocking.lsh_candidates(words, useful, params)
    assert np.all(left < right)
    codes = left * len(words) + right
    assert len(np.unique(codes)) == len(codes), "each pair is emitted once"
    truth = set(zip(np.minimum(dup_of, n + np.arange(300)).tolist(),
                    np.maximum(dup_of, n + np.arange(300)).tolist(), strict=True))
    found = set(zip(left.tolist(), right.tolist(), strict=True))
    completeness = len(truth & found) / len(truth)
    assert completeness >= 0.995
    # Far fewer candidates than all pairs.
    assert len(left) < 0.05 * len(words) * (len(words) - 1) / 2
    collide = blocking.pairs_collide(keys, left[:100], right[:100])
    assert collide.all()


def _records(n: int, seed: int) -> tuple[np.ndarray, similarity.SegmentLayout, np.ndarray]:
    """Clustered two-segment records: near-copies, shared values, empty segments."""
    rng = np.random.default_rng(seed)
    bits = (rng.random((n, 256)) < 0.3).astype(np.uint8)
    copies = rng.choice(n, size=n // 4, replace=False)
    bits[copies] = bits[rng.choice(n, size=len(copies))] ^ (rng.random((len(copies), 256)) < 0.03)
    bits[: n // 3, 128:] = bits[0, 128:]  # a third share the second segment exactly
    bits[n // 3: n // 3 + 5, 128:] = 0  # some have it empty
    bits[n // 3 + 5: n // 3 + 10, :128] = 0  # and some the first
    clks = np.packbits(bits, axis=1)
    layout = similarity.segment_layout([("a", 0, 128), ("b", 128, 128)], 256)
    words = similarity.pack_words(clks, layout)
    return words, layout, similarity.segment_popcounts(words, layout)


def _plan(words: np.ndarray, layout: similarity.SegmentLayout, counts: np.ndarray,
          budget: float | None, identifying: int = 0) -> blocking.BlockingKeys:
    by_segment = [blocking.bit_positions((layout.bit_counts[s],), (layout.word_starts[s],))
                  for s in range(layout.n_segments)]
    plan = blocking.plan_tables(words, by_segment, [identifying], [1 - identifying],
                                whole_tables=6, segment_tables=4)
    return blocking.plan_keys(words, counts, layout.word_bounds(), plan, pairs_per_record=budget,
                              max_bucket=300)


def _reference_candidates(keys: blocking.BlockingKeys) -> set[tuple[int, int]]:
    """Pairs sharing a non-empty fingerprint in some table, by brute force."""
    fp = keys.fingerprints
    out = set()
    for t in range(keys.tables):
        values, inverse, sizes = np.unique(fp[:, t], return_inverse=True, return_counts=True)
        for v in np.nonzero((sizes >= 2) & (sizes <= keys.max_bucket)
                            & (values != blocking.NO_KEY))[0]:
            members = np.nonzero(inverse == v)[0]
            out |= {(int(a), int(b)) for x, a in enumerate(members) for b in members[x + 1:]}
    return out


def test_candidates_are_the_pairs_sharing_a_fingerprint_each_once() -> None:
    words, layout, counts = _records(400, 3)
    keys = _plan(words, layout, counts, budget=None)
    left, right = blocking.candidates_from_keys(keys)
    assert np.all(left < right)
    pairs = list(zip(left.tolist(), right.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs), "each pair is emitted once"
    assert set(pairs) == _reference_candidates(keys)
    assert blocking.pairs_collide(keys, left, right).all()
    # Records with an empty required segment never collide in its exact table.
    empty = counts[:, 0] == 0
    assert empty.sum() == 5
    assert np.all(keys.fingerprints[empty, -1] == blocking.NO_KEY)


def test_adaptive_key_length_keeps_tables_within_the_budget() -> None:
    words, layout, counts = _records(600, 4)
    loose = _plan(words, layout, counts, budget=None)
    tight = _plan(words, layout, counts, budget=2.0, identifying=1)
    n_loose = len(blocking.candidates_from_keys(loose)[0])
    n_tight = len(blocking.candidates_from_keys(tight)[0])
    assert n_tight < n_loose
    sampling = tight.tables - 1  # the last is the exact table
    for t in range(sampling):
        values, sizes = np.unique(tight.fingerprints[:, t], return_counts=True)
        sizes = sizes[values != blocking.NO_KEY]
        # Within budget: by longer keys, or (out of bits: the identical
        # second segments) by giving the largest buckets no key.
        assert int((sizes * (sizes - 1) // 2).sum()) <= 2.0 * len(words)
    # The third of records sharing segment "b" exactly saturate its pool: one
    # table of it is kept, with that bucket cleared.
    assert (tight.fingerprints[: len(words) // 3, :sampling] == blocking.NO_KEY).any()


@pytest.mark.parametrize("buffer", [1 << 16, 7])
def test_table_scan_matches_scoring_the_candidates_one_by_one(
        buffer: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from tiplink.linkage import scoring

    monkeypatch.setattr(similarity, "SCAN_BUFFER", buffer)  # 7: many continued buffers
    words, layout, counts = _records(500, 5)
    keys = _plan(words, layout, counts, budget=None)
    scheme = scoring.level_scheme(2)
    group = (np.arange(500) % 3).astype(np.int64)
    table = np.array([[0, 1, 2], [1, 3, 4], [2, 4, 5]], dtype=np.int64)
    left, right = blocking.candidates_from_keys(keys)
    codes = similarity.pair_patterns(words, counts, layout, scheme, left, right)
    cls = table[group[left], group[right]]
    expected = np.zeros((6, scheme.n_patterns), dtype=np.int64)
    np.add.at(expected, (cls, codes), 1)
    rng = np.random.default_rng(0)
    keep = rng.random((6, scheme.n_patterns)) < 0.3
    scan = similarity.scan_tables(words, counts, layout, scheme, group, table, 6, keys, keep)
    np.testing.assert_array_equal(scan.hist, expected)
    assert scan.candidates == len(left)
    want = {(a, b, c) for a, b, c, k in zip(left.tolist(), right.tolist(), codes.tolist(),
                                            keep[cls, codes].tolist(), strict=True) if k}
    got = set(zip(scan.left.tolist(), scan.right.tolist(), scan.codes.tolist(), strict=True))
    assert got == want and len(scan.left) == len(want)
    select = similarity.scan_tables(words, counts, layout, scheme, group, table, 6, keys, keep,
                                    count=False)
    assert set(zip(select.left.tolist(), select.right.tolist(), select.codes.tolist(),
                   strict=True)) == want
    assert len(select.left) == len(want) and not select.hist.any()


def test_rows_select_matches_brute_force() -> None:
    from tiplink.linkage import scoring

    words, layout, counts = _records(300, 6)
    scheme = scoring.level_scheme(2)
    group = np.zeros(300, dtype=np.int64)
    table = np.zeros((1, 1), dtype=np.int64)
    keep = np.random.default_rng(1).random((1, scheme.n_patterns)) < 0.2
    rows = np.array([0, 5, 17, 299], dtype=np.int64)
    left, right, codes = similarity.rows_select(words, counts, layout, scheme, group, table,
                                                keep, rows)
    all_l, all_r = np.triu_indices(300, 1)
    involved = np.isin(all_l, rows) | np.isin(all_r, rows)
    all_l, all_r = all_l[involved], all_r[involved]
    all_c = similarity.pair_patterns(words, counts, layout, scheme, all_l, all_r)
    ok = keep[0, all_c]
    assert set(zip(left.tolist(), right.tolist(), codes.tolist(), strict=True)) == \
        set(zip(all_l[ok].tolist(), all_r[ok].tolist(), all_c[ok].tolist(), strict=True))
    assert len(left) == int(ok.sum())


@pytest.mark.parametrize("cap", [1, 3, 2000])
def test_clearing_large_buckets_from_sorted_keys_matches_the_sort_order(cap: int) -> None:
    # plan_keys clears oversized buckets from the sorted keys (no argsort);
    # the records that lose their key must be those of the reference.
    rng = np.random.default_rng(4)
    keys = (rng.integers(0, 40, size=5000).astype(np.uint64) << np.uint64(58)) | \
        rng.integers(0, 2**20, size=5000).astype(np.uint64)
    for bits in (4, 6, 64):
        got = np.ones((len(keys), 2), dtype=np.uint32)
        want = np.ones((len(keys), 2), dtype=np.uint32)
        order = np.argsort(keys)
        blocking._clear_large(keys[order], order, bits, cap, want, 1)
        blocking._clear_large_sorted(keys, np.sort(keys), bits, cap, got, 1)
        assert np.array_equal(got, want)


def test_pairs_collide_matches_brute_force_across_chunks() -> None:
    # The kernel works in contiguous chunks with prefetching; sizes around
    # the chunk count and the prefetch distance cover the chunk ends.
    rng = np.random.default_rng(5)
    fingerprints = rng.integers(0, 6, size=(300, 7)).astype(np.uint32)
    for n in (0, 1, 31, 64, 65, 2049):
        left = rng.integers(0, 300, size=n)
        right = rng.integers(0, 300, size=n)
        want = np.array([bool(np.any((fingerprints[i] == fingerprints[j])
                                     & (fingerprints[i] != blocking.NO_KEY)))
                         for i, j in zip(left, right, strict=True)], dtype=bool)
        got = blocking.pairs_collide(blocking.BlockingKeys(fingerprints), left, right)
        assert np.array_equal(got, want)
