"""Term-frequency levels: exact agreement on a common value is weaker evidence.

Two records with the identical name segment are strong evidence of one
person when the name is rare, and weak when hundreds of records carry it
(single Burmese names such as Aye, ``YYYY-01-01`` dates of birth estimated
from an age). A model with one "identical" level per segment averages the
two; in large registers the pairs agreeing on a common value vastly outnumber
the matches, and a model fitted without labels then takes "same common name"
for the match class.

So the identical level of each identifying segment is split by how many
records carry the value (*frequency bins*, powers of two). The bins are a
refinement of the Dice levels: :class:`RefinedScheme` maps the pattern codes
the similarity kernels produce (on the base :class:`LevelScheme`) to codes
with one identical level per bin. The model then learns ``m`` and ``u`` per
bin, as Splink's term-frequency adjustment does with a value-specific
``u``, but with the bins' ``u`` estimated from all pairs rather than assumed.

Pairs that agree exactly on some value are few (sum of squared value
counts) and are enumerated exactly (:func:`identical_pairs`), so the refined
histogram is exact for them whatever the blocking; very large groups are
sampled and weighted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numba
import numpy as np

from tiplink.linkage.similarity import LevelScheme, PatternCodes, SegmentLayout

#: Lower edges of the frequency bins (number of records with the value):
#: bin 0 holds values carried by 2 records, bin 1 by 3-4, ... the last bin
#: everything from the last edge up.
BIN_EDGES: tuple[int, ...] = (2, 3, 5, 9, 17, 33, 65)
#: Most pairs enumerated from one group of identical values; larger groups
#: are sampled (and weighted), and left to the blocking for selection.
GROUP_PAIR_CAP = 200_000
#: Pairs handled per chunk while enumerating (bounds memory).
CHUNK_PAIRS = 4_000_000


@dataclass(frozen=True)
class ValueFrequencies:
    """Exact-value groups of the records, per term-frequency segment.

    Attributes:
        segments: the segments with frequency levels.
        value: ``int64`` ``(n, len(segments))`` value id of each record's
            segment (``-1`` where the segment is empty).
        size: ``int64`` ``(n, len(segments))`` number of records carrying
            that value (0 where empty).
        n_bins: number of frequency bins.
    """

    segments: tuple[int, ...]
    value: np.ndarray
    size: np.ndarray
    n_bins: int = len(BIN_EDGES)

    def bins(self) -> np.ndarray:
        """``int64`` ``(n, len(segments))`` frequency bin of each record's value."""
        return frequency_bin(self.size)


def frequency_bin(size: np.ndarray) -> np.ndarray:
    """Bin of a value carried by ``size`` records (sizes below 2 give bin 0)."""
    return np.maximum(np.searchsorted(np.asarray(BIN_EDGES), size, side="right") - 1, 0)


def value_frequencies(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                      segments: Sequence[int]) -> ValueFrequencies:
    """Group the records by the exact content of each segment.

    Args:
        words: segment-aligned encodings ``(n, n_words)``.
        counts: per-record, per-segment popcounts.
        layout: the segment layout.
        segments: the segments to group.

    Returns:
        The :class:`ValueFrequencies`.
    """
    n = words.shape[0]
    value = np.full((n, len(segments)), -1, dtype=np.int64)
    size = np.zeros((n, len(segments)), dtype=np.int64)
    for k, s in enumerate(segments):
        block = np.ascontiguousarray(words[:, layout.word_starts[s]:layout.word_starts[s + 1]])
        rows = block.view(np.dtype((np.void, block.dtype.itemsize * block.shape[1]))).ravel()
        _, inverse, sizes = np.unique(rows, return_inverse=True, return_counts=True)
        present = counts[:, s] > 0
        value[present, k] = inverse.ravel()[present]
        size[present, k] = sizes[inverse.ravel()[present]]
    return ValueFrequencies(tuple(int(s) for s in segments), value, size)


@dataclass(frozen=True)
class RefinedScheme(PatternCodes):
    """A level scheme whose identical levels are split by value frequency.

    Segment ``s`` with ``k = n_identical[s]`` identical levels has levels
    ``0 .. k-1`` (identical, value in frequency bin 0 .. k-1: rarest first),
    then the base scheme's levels ``1 ..`` shifted by ``k - 1`` (the last is
    "missing"). With ``k = 1`` the segment is as in the base scheme. Codes
    and levels work as in :class:`LevelScheme` (both are
    :class:`PatternCodes`), so models can use either.

    Attributes:
        base: the scheme the similarity kernels compute.
        n_identical: identical levels per segment.
    """

    base: LevelScheme
    n_identical: tuple[int, ...]

    @property
    def n_cuts(self) -> np.ndarray:
        return self.base.n_cuts + np.asarray(self.n_identical, dtype=np.int64) - 1

    def base_levels(self, levels: np.ndarray) -> np.ndarray:
        """The base scheme's levels of refined levels (identical bins -> 0)."""
        shift = np.asarray(self.n_identical, dtype=np.int64)[None, :] - 1
        return np.where(levels < shift + 1, 0, levels - shift)

    def is_identical(self, levels: np.ndarray) -> np.ndarray:
        """Boolean, per level: the segment is identical in both records."""
        return levels < np.asarray(self.n_identical, dtype=np.int64)[None, :]

    def refine(self, base_codes: np.ndarray, bins: np.ndarray,
               rows: np.ndarray | None = None) -> np.ndarray:
        """Refined codes of pairs.

        Args:
            base_codes: the pairs' codes on the base scheme.
            bins: ``(n_pairs, n_segments)`` frequency bin of either record's
                value per segment (only read where the segment is identical);
                with ``rows``, per *record* instead (:func:`record_bins`).
            rows: each pair's row of ``bins`` (its left record), so the
                per-pair bins need not be gathered.
        """
        base_codes = np.asarray(base_codes, dtype=np.int64)
        if rows is None:
            rows = np.arange(len(base_codes), dtype=np.int64)
        return _refine_codes(base_codes, np.asarray(rows, dtype=np.int64),
                             np.ascontiguousarray(bins, dtype=np.int64),
                             self.base.radix, np.asarray(self.n_identical, dtype=np.int64) - 1)

    def base_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """Base-scheme codes of refined codes."""
        return self.base.encode(self.base_levels(self.decode(codes)))


def refined_scheme(base: LevelScheme, segments: Sequence[int],
                   n_bins: int = len(BIN_EDGES)) -> RefinedScheme:
    """The refinement of ``base`` with ``n_bins`` identical levels on ``segments``."""
    k = [1] * len(base.n_cuts)
    for s in segments:
        k[s] = n_bins
    return RefinedScheme(base, tuple(k))


@numba.njit(cache=True, nogil=True, parallel=True)
def _refine_codes(base_codes: np.ndarray, rows: np.ndarray, bins: np.ndarray,
                  base_radix: np.ndarray, shift: np.ndarray) -> np.ndarray:
    out = np.empty(base_codes.shape[0], dtype=np.int64)
    for i in numba.prange(base_codes.shape[0]):
        rest = base_codes[i]
        code = 0
        mult = 1
        for s in range(base_radix.shape[0]):
            level = rest % base_radix[s]
            rest //= base_radix[s]
            refined = min(bins[rows[i], s], shift[s]) if level == 0 else level + shift[s]
            code += refined * mult
            mult *= base_radix[s] + shift[s]
        out[i] = code
    return out


def record_bins(freq: ValueFrequencies, n_segments: int) -> np.ndarray:
    """``(n_records, n_segments)`` frequency bin of each record's value per segment.

    For a pair identical on a segment both records carry the same value, so
    either record's bin is the pair's. Segments without frequency levels get
    bin 0.
    """
    out = np.zeros((freq.value.shape[0], n_segments), dtype=np.int64)
    if len(freq.segments):
        out[:, list(freq.segments)] = frequency_bin(freq.size)
    return out


def _pairs_of_groups(members: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within each row of ``members`` (``(m, size)`` record indices)."""
    iu, ju = np.triu_indices(size, k=1)
    return members[:, iu].ravel(), members[:, ju].ravel()


def identical_pairs(freq: ValueFrequencies, group_cap: int = GROUP_PAIR_CAP,
                    chunk: int = CHUNK_PAIRS, seed: int = 5
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """Every record pair identical on at least one frequency segment, in chunks.

    Each pair is produced once (by the first segment it is identical on).
    Groups with more than ``group_cap`` pairs are sampled: ``group_cap``
    random pairs, each weighted by the group's pairs over the sample.

    Yields:
        ``(left, right, weight, complete)``: ``left < right``; ``complete``
        is ``False`` for sampled pairs (which stand for others and must not
        be selected as pairs in their own right).
    """
    rng = np.random.default_rng(seed)
    for k in range(len(freq.segments)):
        value = freq.value[:, k]
        present = np.nonzero(value >= 0)[0]
        order = present[np.argsort(value[present], kind="stable")]
        sorted_values = value[order]
        starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        earlier = freq.value[:, :k]

        def keep_first(left: np.ndarray, right: np.ndarray, _e: np.ndarray = earlier) -> np.ndarray:
            if _e.shape[1] == 0:
                return np.ones(len(left), dtype=bool)
            same = (_e[left] == _e[right]) & (_e[left] >= 0)
            return ~same.any(axis=1)

        def emit(left: np.ndarray, right: np.ndarray, weight: np.ndarray, complete: bool
                 ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
            lo, hi = np.minimum(left, right), np.maximum(left, right)
            sel = keep_first(lo, hi)
            if sel.any():
                yield lo[sel], hi[sel], weight[sel], complete

        pairs_per_group = sizes * (sizes - 1) // 2
        small = (sizes >= 2) & (pairs_per_group <= group_cap)
        # Groups of one size are expanded together; sizes are gathered into
        # chunks of about ``chunk`` pairs (hundreds of sizes would otherwise
        # make as many small chunks, each paying the per-chunk overhead).
        pending_left: list[np.ndarray] = []
        pending_right: list[np.ndarray] = []
        pending = 0
        for size in np.unique(sizes[small]):
            group_starts = starts[small & (sizes == size)]
            per_chunk = max(1, chunk // int(size * (size - 1) // 2))
            for lo in range(0, len(group_starts), per_chunk):
                block = group_starts[lo:lo + per_chunk]
                members = order[block[:, None] + np.arange(size)[None, :]]
                left, right = _pairs_of_groups(members, int(size))
                pending_left.append(left)
                pending_right.append(right)
                pending += len(left)
                if pending >= chunk:
                    left, right = np.concatenate(pending_left), np.concatenate(pending_right)
                    pending_left, pending_right, pending = [], [], 0
                    yield from emit(left, right, np.ones(len(left)), True)
        if pending:
            left, right = np.concatenate(pending_left), np.concatenate(pending_right)
            yield from emit(left, right, np.ones(len(left)), True)
        for g in np.nonzero(pairs_per_group > group_cap)[0]:
            members = order[starts[g]:starts[g] + sizes[g]]
            a = rng.integers(0, sizes[g], size=group_cap)
            b = rng.integers(0, sizes[g] - 1, size=group_cap)
            b = b + (b >= a)
            weight = np.full(group_cap, pairs_per_group[g] / group_cap)
            yield from emit(members[a], members[b], weight, False)


def refine_histogram(hist: np.ndarray, scheme: RefinedScheme,
                     identical: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
                     ) -> np.ndarray:
    """The pattern histogram on the refined scheme.

    Args:
        hist: ``(n_classes, base n_patterns)`` counts over all pairs (exact or
            estimated).
        scheme: the refined scheme.
        identical: ``(class, base_code, refined_code, weight)`` chunks of
            every pair identical on a frequency segment (exact counts; they
            replace the base histogram's cells with such an identical
            segment, whose count is recomputed from them).

    Returns:
        ``float64`` ``(n_classes, scheme.n_patterns)``.
    """
    n_classes = hist.shape[0]
    base_levels = scheme.base.decode(np.arange(scheme.base.n_patterns))
    tf_segments = [s for s, k in enumerate(scheme.n_identical) if k > 1]
    replaced = np.zeros(scheme.base.n_patterns, dtype=bool)
    for s in tf_segments:
        replaced |= base_levels[:, s] == 0
    shift = np.asarray(scheme.n_identical, dtype=np.int64)[None, :] - 1
    mapped = scheme.encode(np.where(base_levels == 0, 0, base_levels + shift))
    out = np.zeros((n_classes, scheme.n_patterns), dtype=np.float64)
    for c in range(n_classes):
        np.add.at(out[c], mapped[~replaced], hist[c, ~replaced])
    for cls, _base, refined, weight in identical:
        np.add.at(out, (cls, refined), weight)
    return out
