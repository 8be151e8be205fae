"""LSH blocking finds near-duplicates that exhaustive comparison finds."""

from __future__ import annotations

import numpy as np

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
