"""Dice similarity on packed bit encodings, compiled with numba.

Encodings are held as ``uint64`` words, one row per record. Each segment of
the encoding (a named bit range, such as ``name`` or ``dob``) is laid out on
its own whole words (see :func:`segment_layout`), so that the intersection
count of one segment is a popcount over a contiguous run of words and no
masking is needed in the inner loop.

The popcount is LLVM's ``ctpop`` intrinsic on 64-bit words; on a CPU with
``popcnt`` (or AVX-512 VPOPCNTDQ) LLVM lowers it to that instruction and
vectorises the word loop. Kernels are compiled once and cached on disk
(``cache=True``); parallel kernels use ``prange`` so every core is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange, types
from numba.extending import intrinsic

#: Code for "this segment is empty in one of the two records" (no evidence).
MISSING = -1.0


@intrinsic
def popcount64(typingctx, value):  # type: ignore[no-untyped-def]
    """Population count of a ``uint64`` (LLVM ``ctpop``)."""
    if value != types.uint64:
        return None
    signature = types.uint64(types.uint64)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return signature, codegen


@dataclass(frozen=True)
class SegmentLayout:
    """Where each segment's bits sit once laid out on whole ``uint64`` words.

    Attributes:
        names: segment names, in encoding order.
        bit_starts: first bit of each segment in the original encoding.
        bit_counts: number of bits of each segment.
        word_starts: first word of each segment in the laid-out rows
            (length ``len(names) + 1``; the last entry is the row width).
    """

    names: tuple[str, ...]
    bit_starts: tuple[int, ...]
    bit_counts: tuple[int, ...]
    word_starts: tuple[int, ...]

    @property
    def n_words(self) -> int:
        """Width of a laid-out row in ``uint64`` words."""
        return self.word_starts[-1]

    @property
    def n_segments(self) -> int:
        return len(self.names)

    def word_bounds(self) -> np.ndarray:
        """``int64`` array of the word boundaries, for kernels."""
        return np.asarray(self.word_starts, dtype=np.int64)


def segment_layout(segments: Sequence[tuple[str, int, int]], bit_length: int) -> SegmentLayout:
    """Plan the word layout of segments ``(name, start, bits)``.

    With no segments, the whole encoding is one segment called ``record``.
    """
    if not segments:
        segments = [("record", 0, bit_length)]
    names, starts, counts, word_starts = [], [], [], [0]
    for name, start, bits in segments:
        names.append(name)
        starts.append(int(start))
        counts.append(int(bits))
        word_starts.append(word_starts[-1] + (int(bits) + 63) // 64)
    return SegmentLayout(tuple(names), tuple(starts), tuple(counts), tuple(word_starts))


def pack_words(clks: np.ndarray, layout: SegmentLayout, chunk: int = 65536) -> np.ndarray:
    """Lay ``uint8`` encodings out on segment-aligned ``uint64`` words.

    Args:
        clks: ``uint8`` array ``(n, bit_length // 8)``, clkhash bit order.
        layout: the segment layout.
        chunk: rows converted at a time (bounds the temporary memory).

    Returns:
        ``uint64`` array ``(n, layout.n_words)``; padding bits are zero.
    """
    n = clks.shape[0]
    out = np.zeros((n, layout.n_words), dtype=np.uint64)
    whole = len(layout.names) == 1 and layout.bit_starts[0] == 0 and layout.bit_counts[0] % 64 == 0
    if whole and clks.shape[1] * 8 == layout.bit_counts[0]:
        # Fast path: one segment covering whole words; a plain reinterpretation.
        out[:] = np.ascontiguousarray(clks).view(np.uint64)
        return out
    out_bytes = out.view(np.uint8).reshape(n, layout.n_words * 8)
    for lo in range(0, n, chunk):
        bits = np.unpackbits(clks[lo:lo + chunk], axis=1)
        for s in range(layout.n_segments):
            start, count = layout.bit_starts[s], layout.bit_counts[s]
            padded = np.zeros((bits.shape[0], (layout.word_starts[s + 1] - layout.word_starts[s]) * 64),
                              dtype=np.uint8)
            padded[:, :count] = bits[:, start:start + count]
            b0 = layout.word_starts[s] * 8
            out_bytes[lo:lo + chunk, b0:b0 + padded.shape[1] // 8] = np.packbits(padded, axis=1)
    return out


@numba.njit(cache=True, nogil=True)
def _row_popcounts(words: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    n = words.shape[0]
    n_seg = bounds.shape[0] - 1
    out = np.zeros((n, n_seg), dtype=np.int32)
    for i in range(n):
        for s in range(n_seg):
            c = 0
            for w in range(bounds[s], bounds[s + 1]):
                c += popcount64(words[i, w])
            out[i, s] = c
    return out


def segment_popcounts(words: np.ndarray, layout: SegmentLayout) -> np.ndarray:
    """Number of set bits per record and segment, ``int32`` ``(n, n_segments)``."""
    return _row_popcounts(words, layout.word_bounds())


@numba.njit(parallel=True, cache=True)
def pair_dice(words: np.ndarray, counts: np.ndarray, bounds: np.ndarray,
              left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per-segment Dice coefficients of the record pairs ``(left[k], right[k])``.

    Args:
        words: segment-aligned encodings ``(n, n_words)`` ``uint64``.
        counts: per-segment popcounts ``(n, n_segments)``.
        bounds: segment word boundaries (``SegmentLayout.word_bounds``).
        left, right: ``int64`` row indices of the pairs.

    Returns:
        ``float32`` ``(n_pairs, n_segments)``; :data:`MISSING` where the
        segment is empty in either record.
    """
    n_pairs = left.shape[0]
    n_seg = bounds.shape[0] - 1
    out = np.empty((n_pairs, n_seg), dtype=np.float32)
    for k in prange(n_pairs):
        i = left[k]
        j = right[k]
        for s in range(n_seg):
            ci = counts[i, s]
            cj = counts[j, s]
            if ci == 0 or cj == 0:
                out[k, s] = MISSING
                continue
            c = 0
            for w in range(bounds[s], bounds[s + 1]):
                c += popcount64(words[i, w] & words[j, w])
            out[k, s] = 2.0 * c / (ci + cj)
    return out


@numba.njit(cache=True, nogil=True)
def _dice_rows(a: np.ndarray, b: np.ndarray, ca: np.ndarray, cb: np.ndarray,
               lo: int, hi: int, threshold: float,
               out_i: np.ndarray, out_j: np.ndarray, out_s: np.ndarray) -> int:
    """All pairs of rows ``lo:hi`` of ``a`` against every row of ``b``.

    Writes pairs with Dice >= ``threshold`` to the ``out_*`` buffers and
    returns how many there were (may exceed the buffer: the caller retries).
    """
    n_b = b.shape[0]
    n_w = a.shape[1]
    cap = out_i.shape[0]
    found = 0
    for i in range(lo, hi):
        pa = ca[i]
        # Dice >= t needs t / (2 - t) <= |b| / |a| <= (2 - t) / t; ``b`` is
        # sorted by popcount, so only a window of it can reach the threshold.
        j_lo = 0
        j_hi = n_b
        if threshold > 0.0:
            j_lo = np.searchsorted(cb, pa * threshold / (2.0 - threshold) - 1e-9)
            j_hi = np.searchsorted(cb, pa * (2.0 - threshold) / threshold + 1e-9, side="right")
        for j in range(j_lo, j_hi):
            total = pa + cb[j]
            if total == 0:
                continue
            c = 0
            for w in range(n_w):
                c += popcount64(a[i, w] & b[j, w])
            # 2c/total >= t, without a division in the inner loop.
            if 2.0 * c >= threshold * total:
                if found < cap:
                    out_i[found] = i
                    out_j[found] = j
                    out_s[found] = 2.0 * c / total
                found += 1
    return found


@numba.njit(parallel=True, cache=True)
def _dice_all_parallel(a: np.ndarray, b: np.ndarray, ca: np.ndarray, cb: np.ndarray,
                       threshold: float, chunk_rows: int, cap: int):  # type: ignore[no-untyped-def]
    n_a = a.shape[0]
    n_chunks = (n_a + chunk_rows - 1) // chunk_rows
    buf_i = np.empty((n_chunks, cap), dtype=np.int64)
    buf_j = np.empty((n_chunks, cap), dtype=np.int64)
    buf_s = np.empty((n_chunks, cap), dtype=np.float32)
    found = np.zeros(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        lo = c * chunk_rows
        hi = min(n_a, lo + chunk_rows)
        found[c] = _dice_rows(a, b, ca, cb, lo, hi, threshold, buf_i[c], buf_j[c], buf_s[c])
    return buf_i, buf_j, buf_s, found


def dice_all_pairs(a: np.ndarray, b: np.ndarray, threshold: float,
                   parallel: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i, j)`` of ``a`` x ``b`` whose Dice coefficient is >= ``threshold``.

    The exhaustive comparison, used as the reference for blocking and in the
    speed benchmark against anonlink.

    Args:
        a, b: ``uint64`` encodings ``(n_a, n_words)``, ``(n_b, n_words)``.
        threshold: the Dice threshold (0 < t <= 1).
        parallel: use every core (``False``: one thread, for per-core figures).

    Returns:
        ``(i, j, dice)`` arrays, sorted by ``i`` then ``j``.
    """
    a = np.ascontiguousarray(a, dtype=np.uint64)
    b = np.ascontiguousarray(b, dtype=np.uint64)
    ca = _row_popcounts(a, np.array([0, a.shape[1]], dtype=np.int64))[:, 0]
    cb = _row_popcounts(b, np.array([0, b.shape[1]], dtype=np.int64))[:, 0]
    b_order = np.argsort(cb, kind="stable")
    b = np.ascontiguousarray(b[b_order])
    cb = np.ascontiguousarray(cb[b_order])
    chunk_rows = max(1, min(256, a.shape[0] // 64 or 1))
    cap = 4096
    while True:
        if parallel:
            bi, bj, bs, found = _dice_all_parallel(a, b, ca, cb, threshold, chunk_rows, cap)
        else:
            n_chunks = (a.shape[0] + chunk_rows - 1) // chunk_rows
            bi = np.empty((n_chunks, cap), dtype=np.int64)
            bj = np.empty((n_chunks, cap), dtype=np.int64)
            bs = np.empty((n_chunks, cap), dtype=np.float32)
            found = np.zeros(n_chunks, dtype=np.int64)
            for c in range(n_chunks):
                lo = c * chunk_rows
                found[c] = _dice_rows(a, b, ca, cb, lo, min(a.shape[0], lo + chunk_rows),
                                      threshold, bi[c], bj[c], bs[c])
        if found.max(initial=0) <= cap:
            break
        cap = int(found.max()) + 1
    parts_i = [bi[c, :found[c]] for c in range(len(found))]
    parts_j = [bj[c, :found[c]] for c in range(len(found))]
    parts_s = [bs[c, :found[c]] for c in range(len(found))]
    if not parts_i:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    i_all = np.concatenate(parts_i)
    j_all = b_order[np.concatenate(parts_j)]
    s_all = np.concatenate(parts_s)
    order = np.lexsort((j_all, i_all))
    return i_all[order], j_all[order], s_all[order]


def dice_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense Dice matrix of ``uint8`` encodings in plain numpy (for tests)."""
    abits = np.unpackbits(a, axis=1).astype(np.int64)
    bbits = np.unpackbits(b, axis=1).astype(np.int64)
    inter = abits @ bbits.T
    total = abits.sum(1)[:, None] + bbits.sum(1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)


# ---------------------------------------------------------------------------
# Comparison patterns: per-segment agreement levels packed into one code.
#
# For each segment the Dice coefficient is cut into levels: level 0 means the
# segment's bits are identical, level k (1 <= k <= n_cuts) means
# Dice >= cuts[k - 1] (cuts descending), level n_cuts + 1 means below every
# cut, and level n_cuts + 2 means "missing" (the segment is empty in one of
# the records: no evidence either way). The pattern code of a pair is the
# mixed-radix number of its levels, segment 0 least significant.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelScheme:
    """How each segment's Dice coefficient is cut into agreement levels.

    Attributes:
        cuts: ``float64`` ``(n_segments, max_cuts)``; row ``s`` holds the
            descending cut points of segment ``s`` in its first
            ``n_cuts[s]`` entries.
        n_cuts: number of cut points per segment.
        measures: per segment, 0 = Dice coefficient, 1 = overlap
            coefficient (``None``: Dice everywhere).
    """

    cuts: np.ndarray
    n_cuts: np.ndarray
    measures: tuple[int, ...] | None = None

    @property
    def radix(self) -> np.ndarray:
        """Number of codes per segment: exact, one per cut, below all, missing."""
        return (self.n_cuts + 3).astype(np.int64)

    @property
    def n_patterns(self) -> int:
        return int(np.prod(self.radix))

    def missing_level(self, segment: int) -> int:
        return int(self.n_cuts[segment]) + 2

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Levels ``(len(codes), n_segments)`` of pattern codes."""
        codes = np.asarray(codes, dtype=np.int64)
        out = np.empty((codes.shape[0], len(self.n_cuts)), dtype=np.int64)
        rest = codes.copy()
        for s, r in enumerate(self.radix):
            out[:, s] = rest % r
            rest //= r
        return out

    @staticmethod
    def build(cuts_per_segment: Sequence[Sequence[float]],
              measures: Sequence[int] | None = None) -> LevelScheme:
        width = max(1, max(len(c) for c in cuts_per_segment))
        cuts = np.full((len(cuts_per_segment), width), 2.0)
        for s, c in enumerate(cuts_per_segment):
            cuts[s, :len(c)] = sorted(c, reverse=True)
        return LevelScheme(cuts, np.array([len(c) for c in cuts_per_segment], dtype=np.int64),
                           tuple(int(m) for m in measures) if measures is not None else None)


def _kernels(layout: SegmentLayout, scheme: LevelScheme):  # type: ignore[no-untyped-def]
    from tiplink.linkage.kernels import kernels_for

    return kernels_for(layout.word_starts, tuple(int(c) for c in scheme.n_cuts),
                       scheme.measures)


def pair_patterns(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                  scheme: LevelScheme, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Pattern codes (``int64``) of the pairs ``(left[k], right[k])``."""
    kernels = _kernels(layout, scheme)
    return kernels.pair_patterns(words, counts, scheme.cuts, np.asarray(left, np.int64),
                                 np.asarray(right, np.int64))


def all_pairs_histogram(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                        scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
                        n_classes: int) -> np.ndarray:
    """Histogram of pattern codes over every pair ``i < j``, per pair class.

    Args:
        group: ``int64`` party index of each record.
        pair_class: ``int64`` ``(n_groups, n_groups)`` class of a pair by the
            parties of its two records.
        n_classes: number of classes.

    Returns:
        ``int64`` ``(n_classes, n_patterns)``.
    """
    kernels = _kernels(layout, scheme)
    # Chunk c takes rows c, c + n_chunks, ...: the triangular work balances.
    n_chunks = max(1, numba.get_num_threads() * 4)
    return kernels.all_pairs_histogram(words, counts, scheme.cuts, group, pair_class,
                                       n_classes, scheme.n_patterns, n_chunks)


def all_pairs_select(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                     scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
                     keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` whose (class, pattern) is marked in ``keep``.

    Returns:
        ``(left, right, pattern_code)`` ``int64`` arrays.
    """
    kernels = _kernels(layout, scheme)
    n_chunks = max(1, numba.get_num_threads() * 4)
    cap = 4 * words.shape[0] // n_chunks + 1024
    while True:
        oi, oj, op, found = kernels.all_pairs_select(words, counts, scheme.cuts, group,
                                                     pair_class, keep, n_chunks, cap)
        if found.max(initial=0) <= cap:
            break
        cap = int(found.max()) + 1
    return (np.concatenate([oi[c, :found[c]] for c in range(n_chunks)]),
            np.concatenate([oj[c, :found[c]] for c in range(n_chunks)]),
            np.concatenate([op[c, :found[c]] for c in range(n_chunks)]))
