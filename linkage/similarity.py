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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
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


@intrinsic
def _prefetch(typingctx, array, row, col):  # type: ignore[no-untyped-def]
    """Hint the CPU to load the cache line of ``array[row, col]`` (LLVM ``prefetch``).

    Only a hint: it never faults and changes no value.
    """
    if not (isinstance(array, types.Array) and array.ndim == 2
            and isinstance(row, types.Integer) and isinstance(col, types.Integer)):
        return None
    signature = types.void(array, row, col)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        array_type = sig.args[0]
        struct = context.make_array(array_type)(context, builder, args[0])
        index = [context.cast(builder, args[1], sig.args[1], types.intp),
                 context.cast(builder, args[2], sig.args[2], types.intp)]
        pointer = cgutils.get_item_pointer(context, builder, array_type, struct, index,
                                           wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        # Read access, highest temporal locality, data cache.
        builder.call(function, [builder.bitcast(pointer, byte_pointer), ir.Constant(i32, 0),
                                ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


#: How many pairs ahead the pair kernels prefetch their records' rows.
PREFETCH_AHEAD = 32


@numba.njit(cache=True, nogil=True, inline="always")
def prefetch_row(array: np.ndarray, row: int) -> None:  # pragma: no cover - numba
    """Prefetch every cache line of ``array[row]`` (a C-contiguous 2-d array).

    Kernels over random record pairs wait on memory: each pair reads two
    rows of tables too large for the caches, and the CPU overlaps only a few
    pairs' misses on its own. Asking for the rows of the pair
    :data:`PREFETCH_AHEAD` places ahead keeps many loads in flight (the
    pattern kernel on random pairs took a third less time, the blocking test
    two thirds less).
    """
    last = array.shape[1] - 1
    for col in range(0, last, max(1, 64 // array.itemsize)):
        _prefetch(array, row, col)
    _prefetch(array, row, last)  # the row need not start on a line boundary


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


# ---------------------------------------------------------------------------
# Exhaustive Dice with a threshold (the comparison anonlink's
# ``dice_coefficient_accelerated`` makes).
#
# The per-pair kernel above spends most of its time reducing one pair's word
# popcounts to a single number. Here ``b`` is stored in blocks of
# :data:`LANES` records, word-major inside a block (``bt[block, word, lane]``),
# so one vector holds word ``w`` of eight records: a row of ``a`` is ANDed
# word by word against the block (the ``a`` word broadcast), popcounted with
# one vector ``ctpop`` and added lane-wise. Eight pairs finish together, with
# no horizontal reduction, and the threshold test is one vector compare
# giving an 8-bit hit mask. :data:`TILE_ROWS` rows of ``a`` share each load of
# the block. The vector code is written as LLVM IR (``llvm.ctpop.v8i64``);
# LLVM lowers it to ``vpopcntq`` where the CPU has AVX-512 VPOPCNTDQ and to a
# shuffle-based popcount elsewhere.
# ---------------------------------------------------------------------------

#: Records of ``b`` per block (one 512-bit vector of ``uint64``).
LANES = 8
#: Rows of ``a`` compared against one block at a time.
TILE_ROWS = 4
#: Blocks of ``b`` visited per pass over a chunk of ``a`` rows (32 KiB of
#: 1024-bit encodings: the block stays in L1 while the chunk's rows pass).
SUPER_BLOCKS = 32

_I64 = ir.IntType(64)
_V8 = ir.VectorType(_I64, LANES)
_D8 = ir.VectorType(ir.DoubleType(), LANES)


def _splat(builder: ir.IRBuilder, value: ir.Value, vtype: ir.VectorType) -> ir.Value:
    undef = ir.Constant(vtype, ir.Undefined)
    first = builder.insert_element(undef, value, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(first, undef,
                                  ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))


@intrinsic
def _tile_hits(typingctx, a, row, bt, block, ca, cbt, threshold):  # type: ignore[no-untyped-def]
    """Hit mask of rows ``row .. row + TILE_ROWS - 1`` of ``a`` against one block.

    Bit ``8 * r + l`` is set when ``2 * |a[row + r] & b_l| >= t * (|a| + |b_l|)``
    (the same float comparison as the scalar code).
    """
    if not (isinstance(a, types.Array) and isinstance(bt, types.Array)):
        return None
    signature = types.uint64(a, row, bt, block, ca, cbt, threshold)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        aty, _, btty, _, caty, cbty, _ = sig.args
        a_arr = context.make_array(aty)(context, builder, args[0])
        b_arr = context.make_array(btty)(context, builder, args[2])
        ca_arr = context.make_array(caty)(context, builder, args[4])
        cb_arr = context.make_array(cbty)(context, builder, args[5])
        row_, block_, t = args[1], args[3], args[6]
        zero = ir.Constant(_I64, 0)
        ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V8, [_V8]),
                                               "llvm.ctpop.v8i64")
        b_ptr = builder.bitcast(
            cgutils.get_item_pointer(context, builder, btty, b_arr, [block_, zero, zero]),
            _V8.as_pointer())
        rows = [builder.add(row_, ir.Constant(_I64, r)) for r in range(TILE_ROWS)]
        a_ptrs = [cgutils.get_item_pointer(context, builder, aty, a_arr, [r, zero])
                  for r in rows]
        accs = [cgutils.alloca_once_value(builder, ir.Constant(_V8, None))
                for _ in range(TILE_ROWS)]
        n_words = builder.extract_value(b_arr.shape, 1)
        with cgutils.for_range(builder, n_words) as loop:
            b_word = builder.load(builder.gep(b_ptr, [loop.index]), align=8)
            for r in range(TILE_ROWS):
                a_word = builder.load(builder.gep(a_ptrs[r], [loop.index]))
                both = builder.and_(_splat(builder, a_word, _V8), b_word)
                builder.store(builder.add(builder.load(accs[r]), builder.call(ctpop, [both])),
                              accs[r])
        cb_ptr = cgutils.get_item_pointer(context, builder, cbty, cb_arr,
                                          [builder.mul(block_, ir.Constant(_I64, LANES))])
        cb = builder.load(builder.bitcast(cb_ptr, _V8.as_pointer()), align=8)
        t_vec = _splat(builder, t, _D8)
        one = _splat(builder, ir.Constant(_I64, 1), _V8)
        mask = ir.Constant(_I64, 0)
        for r in range(TILE_ROWS):
            ca_r = builder.load(cgutils.get_item_pointer(context, builder, caty, ca_arr, [rows[r]]))
            twice = builder.sitofp(builder.shl(builder.load(accs[r]), one), _D8)
            total = builder.sitofp(builder.add(cb, _splat(builder, ca_r, _V8)), _D8)
            hit = builder.fcmp_ordered(">=", twice, builder.fmul(t_vec, total))
            bits = builder.zext(builder.bitcast(hit, ir.IntType(LANES)), _I64)
            mask = builder.or_(mask, builder.shl(bits, ir.Constant(_I64, LANES * r)))
        return mask

    return signature, codegen


@numba.njit(cache=True, nogil=True)
def _dice_tiles(a: np.ndarray, ca: np.ndarray, bt: np.ndarray, cbt: np.ndarray, n_a: int,
                n_b: int, threshold: float, tile_lo: int, tile_hi: int, block_lo: np.ndarray,
                block_hi: np.ndarray, out_i: np.ndarray, out_j: np.ndarray,
                out_s: np.ndarray) -> int:
    """Tiles ``tile_lo:tile_hi`` of ``a`` against their popcount windows of ``b``.

    Writes the pairs with Dice >= ``threshold`` (positions in the sorted,
    padded arrays) and returns how many there were (may exceed the buffers:
    the caller retries with larger ones).
    """
    cap = out_i.shape[0]
    n_words = bt.shape[1]
    n_blocks = bt.shape[0]
    found = 0
    first = n_blocks
    last = 0
    for tile in range(tile_lo, tile_hi):
        first = min(first, block_lo[tile])
        last = max(last, block_hi[tile])
    # Blocks outermost in groups that fit L1: every tile of the chunk reuses
    # them before the next group is loaded.
    for group in range(first, last, SUPER_BLOCKS):
        group_end = min(group + SUPER_BLOCKS, last)
        for tile in range(tile_lo, tile_hi):
            row = tile * TILE_ROWS
            lo = max(group, block_lo[tile])
            hi = min(group_end, block_hi[tile])
            for block in range(lo, hi):
                mask = _tile_hits(a, row, bt, block, ca, cbt, threshold)
                while mask != 0:
                    bit = 0
                    while not (mask >> np.uint64(bit)) & np.uint64(1):
                        bit += 1
                    mask &= ~(np.uint64(1) << np.uint64(bit))
                    i = row + bit // LANES
                    j = block * LANES + bit % LANES
                    total = ca[i] + cbt[j]
                    if i >= n_a or j >= n_b or total == 0:
                        continue
                    if found < cap:
                        c = 0
                        for w in range(n_words):
                            c += popcount64(a[i, w] & bt[block, w, bit % LANES])
                        out_i[found] = i
                        out_j[found] = j
                        out_s[found] = 2.0 * c / total
                    found += 1
    return found


def _padded_rows(words: np.ndarray, counts: np.ndarray, multiple: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and counts padded with empty records to a multiple of ``multiple``."""
    n = words.shape[0]
    size = max(multiple, -(-n // multiple) * multiple)
    out = np.zeros((size, words.shape[1]), dtype=np.uint64)
    out[:n] = words
    padded = np.zeros(size, dtype=np.int64)
    padded[:n] = counts
    return out, padded


def _popcount_window(ca: np.ndarray, cb: np.ndarray, threshold: float, n_tiles: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per tile of ``a``, the blocks of sorted ``b`` whose popcounts can reach ``t``.

    ``Dice >= t`` needs ``t / (2 - t) <= |b| / |a| <= (2 - t) / t``
    (the intersection is at most the smaller popcount).
    """
    n_blocks = -(-len(cb) // LANES)
    if threshold <= 0.0:
        return (np.zeros(n_tiles, np.int64), np.full(n_tiles, n_blocks, np.int64))
    tiles = ca[:n_tiles * TILE_ROWS].reshape(n_tiles, TILE_ROWS)
    low = tiles.min(axis=1) * threshold / (2.0 - threshold) - 1e-9
    high = tiles.max(axis=1) * (2.0 - threshold) / threshold + 1e-9
    first = np.searchsorted(cb, low, side="left") // LANES
    last = -(-np.searchsorted(cb, high, side="right") // LANES)
    return first.astype(np.int64), np.maximum(last, first).astype(np.int64)


def dice_all_pairs(a: np.ndarray, b: np.ndarray, threshold: float,
                   parallel: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i, j)`` of ``a`` x ``b`` whose Dice coefficient is >= ``threshold``.

    The exhaustive comparison, used as the reference for blocking and in the
    speed benchmark against anonlink. Both sides are sorted by popcount so
    each tile of ``a`` visits only the blocks of ``b`` whose popcounts can
    reach the threshold; pairs of two empty encodings are never reported.

    Args:
        a, b: ``uint64`` encodings ``(n_a, n_words)``, ``(n_b, n_words)``.
        threshold: the Dice threshold (0 <= t <= 1).
        parallel: use every core (``False``: one thread, for per-core figures).
            Chunks of rows go to a pool of threads as they free up (the
            kernel releases the GIL), so a core slowed by other jobs on the
            machine takes fewer chunks instead of holding the others back.

    Returns:
        ``(i, j, dice)`` arrays, sorted by ``i`` then ``j``.
    """
    a = np.ascontiguousarray(a, dtype=np.uint64)
    b = np.ascontiguousarray(b, dtype=np.uint64)
    n_a, n_b = a.shape[0], b.shape[0]
    if n_a == 0 or n_b == 0:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    ca = _row_popcounts(a, np.array([0, a.shape[1]], dtype=np.int64))[:, 0].astype(np.int64)
    cb = _row_popcounts(b, np.array([0, b.shape[1]], dtype=np.int64))[:, 0].astype(np.int64)
    a_order = np.argsort(ca, kind="stable")
    b_order = np.argsort(cb, kind="stable")
    a_rows, ca_sorted = _padded_rows(a[a_order], ca[a_order], TILE_ROWS)
    b_rows, cb_sorted = _padded_rows(b[b_order], cb[b_order], LANES)
    # Word-major blocks: bt[block, word, lane] = b_rows[block * LANES + lane, word].
    bt = np.ascontiguousarray(
        b_rows.reshape(-1, LANES, b.shape[1]).transpose(0, 2, 1))
    n_tiles = a_rows.shape[0] // TILE_ROWS
    block_lo, block_hi = _popcount_window(ca_sorted, cb_sorted[:n_b], threshold, n_tiles)
    threads = numba.get_num_threads() if parallel else 1
    per_chunk = int(np.clip(n_tiles // (16 * threads), 1, 64))
    chunks = [(lo, min(n_tiles, lo + per_chunk)) for lo in range(0, n_tiles, per_chunk)]

    def run(chunk: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cap = 1024
        while True:
            oi = np.empty(cap, np.int64)
            oj = np.empty(cap, np.int64)
            os_ = np.empty(cap, np.float32)
            found = _dice_tiles(a_rows, ca_sorted, bt, cb_sorted, n_a, n_b, float(threshold),
                                chunk[0], chunk[1], block_lo, block_hi, oi, oj, os_)
            if found <= cap:
                return oi[:found], oj[:found], os_[:found]
            cap = found

    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(c) for c in chunks]
    i_all = a_order[np.concatenate([p[0] for p in parts])]
    j_all = b_order[np.concatenate([p[1] for p in parts])]
    s_all = np.concatenate([p[2] for p in parts])
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


class PatternCodes:
    """Mixed-radix pattern codes over per-segment levels.

    Shared by :class:`LevelScheme` and the term-frequency refinement
    (:class:`tiplink.linkage.frequency.RefinedScheme`): a subclass provides
    ``n_cuts``; segment ``s`` has levels ``0`` (exact), one per cut, "below
    all cuts" and "missing", and a pair's code is the mixed-radix number of
    its levels, segment 0 least significant.
    """

    n_cuts: np.ndarray

    @property
    def radix(self) -> np.ndarray:
        """Number of codes per segment: exact, one per cut, below all, missing."""
        return (np.asarray(self.n_cuts) + 3).astype(np.int64)

    @property
    def n_patterns(self) -> int:
        return int(np.prod(self.radix))

    def missing_level(self, segment: int) -> int:
        return int(self.n_cuts[segment]) + 2

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Levels ``(len(codes), n_segments)`` of pattern codes."""
        codes = np.asarray(codes, dtype=np.int64)
        radix = self.radix
        out = np.empty((codes.shape[0], len(radix)), dtype=np.int64)
        rest = codes.copy()
        for s, r in enumerate(radix):
            out[:, s] = rest % r
            rest //= r
        return out

    def encode(self, levels: np.ndarray) -> np.ndarray:
        """Pattern codes of levels ``(n, n_segments)``."""
        code = np.zeros(levels.shape[0], dtype=np.int64)
        mult = 1
        for s, r in enumerate(self.radix):
            code += levels[:, s] * mult
            mult *= int(r)
        return code


@dataclass(frozen=True)
class LevelScheme(PatternCodes):
    """How each segment's Dice coefficient is cut into agreement levels.

    Attributes:
        cuts: ``float64`` ``(n_segments, max_cuts)``; row ``s`` holds the
            descending cut points of segment ``s`` in its first
            ``n_cuts[s]`` entries.
        n_cuts: number of cut points per segment.
        measures: per segment, 0 = Dice coefficient, 1 = overlap
            coefficient, 2 = Dice with a containment level first (its cut,
            ``cuts[s, 0]``, is a placeholder; ``None``: Dice everywhere).
    """

    cuts: np.ndarray
    n_cuts: np.ndarray
    measures: tuple[int, ...] | None = None

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


@numba.njit(parallel=True, cache=True)
def _pair_classes(group: np.ndarray, pair_class: np.ndarray, left: np.ndarray,
                  right: np.ndarray) -> np.ndarray:
    out = np.empty(left.shape[0], dtype=np.int64)
    for k in prange(left.shape[0]):
        out[k] = pair_class[group[left[k]], group[right[k]]]
    return out


def pair_classes(group: np.ndarray, pair_class: np.ndarray, left: np.ndarray,
                 right: np.ndarray) -> np.ndarray:
    """Class (``int64``) of the pairs ``(left[k], right[k])`` by their records' parties.

    Equals ``pair_class[group[left], group[right]]``; numpy's
    two-dimensional fancy indexing took a tenth of the model stage on the
    ten million identical-value pairs of a 100k x 100k link.
    """
    return _pair_classes(np.asarray(group, np.int64), np.asarray(pair_class, np.int64),
                         np.asarray(left), np.asarray(right))


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


def _select(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
            scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
            keep: np.ndarray, rows: np.ndarray, upper: bool, n_chunks: int, cap: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's ``rows_select``, with its output buffers grown until they fit."""
    kernels = _kernels(layout, scheme)
    while True:
        oi, oj, op, found = kernels.rows_select(words, counts, scheme.cuts, group, pair_class,
                                                keep, rows, upper, n_chunks, cap)
        if found.max(initial=0) <= cap:
            break
        cap = int(found.max()) + 1
    return (np.concatenate([oi[c, :found[c]] for c in range(n_chunks)]),
            np.concatenate([oj[c, :found[c]] for c in range(n_chunks)]),
            np.concatenate([op[c, :found[c]] for c in range(n_chunks)]))


def all_pairs_select(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                     scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
                     keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` whose (class, pattern) is marked in ``keep``.

    Returns:
        ``(left, right, pattern_code)`` ``int64`` arrays.
    """
    n_chunks = max(1, numba.get_num_threads() * 4)
    rows = np.arange(words.shape[0], dtype=np.int64)
    return _select(words, counts, layout, scheme, group, pair_class, keep, rows, True,
                   n_chunks, 4 * words.shape[0] // n_chunks + 1024)


def rows_select(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
                keep: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of a record of ``rows`` with any other record, kept by ``keep``.

    Exhaustive comparison for a sample of query records (the completeness
    check at sizes where all pairs are out of reach).

    Returns:
        ``(left, right, pattern_code)`` ``int64``, ``left < right``, each pair once.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n_chunks = max(1, numba.get_num_threads() * 8)
    left, right, codes = _select(words, counts, layout, scheme, group, pair_class, keep, rows,
                                 False, n_chunks, 64 * max(1, len(rows) // n_chunks) + 1024)
    # Two query rows meet twice.
    _, first = np.unique(left * words.shape[0] + right, return_index=True)
    return left[first], right[first], codes[first]


#: Pairs a table scan's first output buffer holds (it continues in larger ones).
SCAN_BUFFER = 1 << 16


@dataclass(frozen=True)
class TableScan:
    """What a scan of the blocking tables found.

    Attributes:
        hist: ``int64`` ``(n_classes, n_patterns)`` pattern counts of the
            candidate pairs, per pair class.
        left, right: ``int32`` stored pairs (``left < right``), those whose
            (class, pattern) the scan was asked to keep.
        codes: ``int64`` pattern code of each stored pair.
        candidates: number of candidate pairs (each counted once).
    """

    hist: np.ndarray
    left: np.ndarray
    right: np.ndarray
    codes: np.ndarray
    candidates: int


def scan_tables(words: np.ndarray, counts: np.ndarray, layout: SegmentLayout,
                scheme: LevelScheme, group: np.ndarray, pair_class: np.ndarray,
                n_classes: int, keys, store: np.ndarray,  # type: ignore[no-untyped-def]
                count: bool = True) -> TableScan:
    """Score every candidate pair of the blocking ``keys`` once, table by table.

    Inside each table's kernel a bucket pair is skipped when it collided in
    an earlier table (each pair counted once), scored, added to the pattern
    histogram and, when ``store[class, pattern]``, written out. No array of
    all candidates is ever built: memory is one table's buckets per thread.

    Args:
        keys: :class:`~tiplink.linkage.blocking.BlockingKeys`.
        store: ``bool`` ``(n_classes, n_patterns)``: which pairs to return.
        count: build the histogram (``False``: selection only; the
            earlier-table test then runs only on the pairs to return, and
            ``hist`` stays zero, ``candidates`` counts the returned pairs).
    """
    from tiplink.linkage import blocking

    kernels = _kernels(layout, scheme)
    store = np.ascontiguousarray(store, dtype=np.bool_)

    def work(buckets: blocking.TableBuckets
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        hist = np.zeros((n_classes, scheme.n_patterns), dtype=np.int64)
        sizes = buckets.ends - buckets.starts
        largest = int((sizes * (sizes - 1) // 2).max(initial=0))
        cap = max(SCAN_BUFFER, largest)
        parts_l, parts_r, parts_p = [], [], []
        n_pairs, at = 0, 0
        while True:
            out_l = np.empty(cap, np.int32)
            out_r = np.empty(cap, np.int32)
            out_p = np.empty(cap, np.int64)
            pairs, stored, at = kernels.table_histogram(
                keys.fingerprints, buckets.table, buckets.order, buckets.starts, buckets.ends,
                at, words, counts, scheme.cuts, group, pair_class, hist, store, out_l, out_r,
                out_p, count)
            n_pairs += pairs
            parts_l.append(out_l[:stored].copy())
            parts_r.append(out_r[:stored].copy())
            parts_p.append(out_p[:stored].copy())
            if at >= len(buckets.starts):
                break
            cap *= 2  # a full buffer: continue with a larger one
        return (hist, np.concatenate(parts_l), np.concatenate(parts_r),
                np.concatenate(parts_p), n_pairs)

    parts = blocking.map_tables(keys, work)
    hist = np.zeros((n_classes, scheme.n_patterns), dtype=np.int64)
    for part in parts:
        hist += part[0]
    return TableScan(hist=hist,
                     left=np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int32),
                     right=np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.int32),
                     codes=np.concatenate([p[3] for p in parts]) if parts else np.empty(0, np.int64),
                     candidates=int(sum(p[4] for p in parts)))
