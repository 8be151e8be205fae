"""Candidate pairs: which record pairs are compared at all.

Small inputs are compared exhaustively (every pair; see
:func:`exhaustive_is_affordable`): nothing can be lost to blocking.

Larger inputs use Hamming locality-sensitive hashing by bit sampling
(Indyk and Motwani; applied to Bloom-filter encodings by Karapiperis and
Verykios). Each of ``L`` tables keys a record by ``k`` sampled bits of its
encoding; records sharing a key in any table become a candidate pair. Two
encodings that agree on a fraction ``a`` of the sampled bits collide in one
table with probability about ``a**k`` and in at least one of ``L`` tables with
``1 - (1 - a**k)**L``. Only informative bits (set in between 2% and 98% of
records) are sampled, and ``k`` is chosen from the data so that a random pair
collides in a table with probability about ``target / n``: the number of
non-matching candidates then grows linearly with ``n`` while matches, which
agree on most bits, are still found. Each pair is emitted once: a pair is
reported by the first table where it collides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numba
import numpy as np
from numba import prange

from tiplink.linkage.similarity import PREFETCH_AHEAD, prefetch_row

T = TypeVar("T")

#: Compare every pair when there are at most this many pairs.
EXHAUSTIVE_MAX_PAIRS = 400_000_000


def exhaustive_is_affordable(n_records: int, max_pairs: int = EXHAUSTIVE_MAX_PAIRS) -> bool:
    """Whether every pair of ``n_records`` can be compared."""
    return n_records * (n_records - 1) // 2 <= max_pairs


@dataclass(frozen=True)
class LshParams:
    """Hamming LSH settings.

    Attributes:
        tables: number of hash tables ``L``.
        bits_per_key: sampled bits per key ``k`` (at most 64).
        max_bucket: buckets larger than this are skipped in that table (the
            other tables split them); bounds the quadratic worst case.
        seed: seed of the bit sampling (fixed, so runs are reproducible).
    """

    tables: int
    bits_per_key: int
    max_bucket: int = 2000
    seed: int = 20240611


def bit_positions(layout_bit_counts: tuple[int, ...], word_starts: tuple[int, ...]) -> np.ndarray:
    """Positions (``word * 64 + bit``) of the real bits of a segment-aligned layout."""
    out = []
    for count, w0 in zip(layout_bit_counts, word_starts, strict=False):
        p = np.arange(count)
        byte = w0 * 8 + p // 8
        # np.packbits puts bit 0 in the byte's high bit; the word is read little-endian.
        within = (byte % 8) * 8 + (7 - p % 8)
        out.append((byte // 8) * 64 + within)
    return np.concatenate(out).astype(np.int64)


@numba.njit(parallel=True, cache=True)
def _bit_density(words: np.ndarray, positions: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.zeros(positions.shape[0], dtype=np.float64)
    for p in prange(positions.shape[0]):
        w = positions[p] // 64
        b = np.uint64(positions[p] % 64)
        c = 0
        for r in rows:
            c += (words[r, w] >> b) & np.uint64(1)
        out[p] = c / rows.shape[0]
    return out


def choose_params(words: np.ndarray, positions: np.ndarray, target_per_record: float = 3.0,
                  tables: int | None = None) -> tuple[LshParams, np.ndarray]:
    """Pick ``k`` (and ``L``) from the data; return params and the informative bits.

    ``k`` makes a random pair collide in one table with probability about
    ``target_per_record / n`` (product of per-bit agreement rates
    ``d**2 + (1 - d)**2``), so each table yields about ``target * n / 2``
    chance pairs.
    """
    n = words.shape[0]
    rng = np.random.default_rng(7)
    rows = rng.choice(n, size=min(n, 20_000), replace=False).astype(np.int64)
    density = _bit_density(words, positions, rows)
    informative = (density >= 0.02) & (density <= 0.98)
    useful = positions[informative]
    agree = density[informative] ** 2 + (1 - density[informative]) ** 2
    if len(useful) == 0:
        useful, agree = positions, np.full(len(positions), 0.5)
    log_agree = float(np.mean(np.log(np.maximum(agree, 1e-6))))
    wanted = math.log(min(1.0, target_per_record / max(n, 1)))
    k = int(np.clip(math.ceil(wanted / min(log_agree, -1e-3)), 4, 64))
    if tables is None:
        # More records need longer keys, and longer keys more tables.
        tables = int(np.clip(round(1.6 * k), 16, 64))
    return LshParams(tables=tables, bits_per_key=k), useful


#: Default table plan, chosen with ``benchmarks/scale.py completeness`` (see
#: docs/linkage.md): the pairs LSH missed were mostly similar names with
#: different dates of birth, so most tables sample the name segment: 16
#: whole-encoding tables, 60 tables on the first identifying segment (name),
#: 10 on the second (date of birth), each table at most 15 pairs per record.
WHOLE_TABLES = 16
SEGMENT_TABLES = (60, 10)
PAIRS_PER_RECORD = 15.0

#: Fingerprint value meaning "this record has no key in this table" (an
#: exact table whose required segment is empty): it never collides.
NO_KEY = 0


@dataclass(frozen=True)
class BlockingKeys:
    """Every record's key in every table, as 32-bit fingerprints.

    Record-major (``fingerprints[i]`` is record ``i``'s row), because the
    "did this pair already collide in an earlier table?" test reads two rows;
    32 bits per key halve the memory of 64-bit keys (352 MB for 1M records
    and 88 tables). A pair is a candidate when its records share a non-zero
    fingerprint in some table; buckets are formed on the fingerprints too,
    so candidate generation, the earlier-table test and
    :func:`pairs_collide` all use one definition.

    Attributes:
        fingerprints: ``uint32`` ``(n, tables)``; :data:`NO_KEY` never collides.
        max_bucket: buckets larger than this are skipped (the other tables
            split them); bounds the quadratic worst case.
    """

    fingerprints: np.ndarray
    max_bucket: int = 2000

    @property
    def tables(self) -> int:
        return int(self.fingerprints.shape[1])

    @property
    def n_records(self) -> int:
        return int(self.fingerprints.shape[0])


@numba.njit(cache=True, nogil=True, inline="always")
def _fingerprint(key: np.uint64) -> np.uint32:
    """A non-zero 32-bit digest of a 64-bit key (splitmix64 finaliser)."""
    z = key + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    f = np.uint32(z >> np.uint64(32))
    return f if f != np.uint32(0) else np.uint32(1)


@numba.njit(parallel=True, cache=True, nogil=True)
def _sample_keys(words: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Prefix-ordered keys: sampled bit ``b`` at position ``63 - b``.

    Sorting these keys groups records by every prefix at once: the records
    that agree on the first ``m`` sampled bits are contiguous for any ``m``.
    """
    n = words.shape[0]
    out = np.zeros(n, dtype=np.uint64)
    for i in prange(n):
        key = np.uint64(0)
        for b in range(sample.shape[0]):
            pos = sample[b]
            bit = (words[i, pos // 64] >> np.uint64(pos % 64)) & np.uint64(1)
            key |= bit << np.uint64(63 - b)
        out[i] = key
    return out


@numba.njit(cache=True, nogil=True)
def _prefix_pairs(sorted_keys: np.ndarray, bits: int, max_bucket: int) -> int:
    """Colliding pairs (in buckets of 2..max_bucket) when keys are cut to ``bits`` bits."""
    shift = np.uint64(64 - bits)
    n = sorted_keys.shape[0]
    total = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or (sorted_keys[i] >> shift) != (sorted_keys[start] >> shift):
            size = i - start
            if 2 <= size <= max_bucket:
                total += size * (size - 1) // 2
            start = i
    return total


@numba.njit(cache=True, nogil=True)
def _bucket_cap(sorted_keys: np.ndarray, bits: int, budget: float, max_bucket: int) -> int:
    """Largest bucket size such that the buckets up to it hold at most ``budget`` pairs."""
    shift = np.uint64(64 - bits)
    n = sorted_keys.shape[0]
    pairs_by_size = np.zeros(max_bucket + 1, dtype=np.int64)
    start = 0
    for i in range(1, n + 1):
        if i == n or (sorted_keys[i] >> shift) != (sorted_keys[start] >> shift):
            size = i - start
            if size <= max_bucket:
                pairs_by_size[size] += size * (size - 1) // 2
            start = i
    total = 0
    cap = 1
    for size in range(2, max_bucket + 1):
        total += pairs_by_size[size]
        if total > budget:
            break
        cap = size
    return cap


@numba.njit(cache=True, nogil=True)
def _clear_large(sorted_keys: np.ndarray, order: np.ndarray, bits: int, cap: int,
                 out: np.ndarray, table: int) -> None:
    """Give the records of buckets larger than ``cap`` no key in ``table``.

    Skipped buckets must not count as collisions anywhere (the earlier-table
    test, :func:`pairs_collide`), so their records lose the key itself.
    """
    shift = np.uint64(64 - bits)
    n = sorted_keys.shape[0]
    start = 0
    for i in range(1, n + 1):
        if i == n or (sorted_keys[i] >> shift) != (sorted_keys[start] >> shift):
            if i - start > cap:
                for x in range(start, i):
                    out[order[x], table] = NO_KEY
            start = i


@numba.njit(cache=True, nogil=True)
def _clear_large_sorted(keys: np.ndarray, sorted_keys: np.ndarray, bits: int, cap: int,
                        out: np.ndarray, table: int) -> None:
    """:func:`_clear_large` from the sorted keys instead of the sort order.

    The prefixes of the buckets larger than ``cap`` are listed (ascending,
    from ``sorted_keys``) and each record's prefix is looked up in them: the
    same records lose their key, without an argsort.
    """
    shift = np.uint64(64 - bits)
    n = sorted_keys.shape[0]
    large = np.empty(n // (cap + 1) + 1, dtype=np.uint64)
    n_large = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or (sorted_keys[i] >> shift) != (sorted_keys[start] >> shift):
            if i - start > cap:
                large[n_large] = sorted_keys[start] >> shift
                n_large += 1
            start = i
    if n_large == 0:
        return
    large = large[:n_large]
    for i in range(keys.shape[0]):
        prefix = keys[i] >> shift
        at = np.searchsorted(large, prefix)
        if at < n_large and large[at] == prefix:
            out[i, table] = NO_KEY


@numba.njit(cache=True, nogil=True)
def _store_fingerprints(keys: np.ndarray, bits: int, out: np.ndarray, table: int) -> None:
    shift = np.uint64(64 - bits)
    for i in range(keys.shape[0]):
        out[i, table] = _fingerprint(keys[i] >> shift)


@numba.njit(parallel=True, cache=True, nogil=True)
def _exact_fingerprints(words: np.ndarray, counts: np.ndarray, key_segments: np.ndarray,
                        bounds: np.ndarray, required: int, out: np.ndarray, table: int) -> None:
    """Fingerprint of the words of ``key_segments`` per record.

    Records whose segment ``required`` is empty get :data:`NO_KEY`, so they
    never collide: an empty field is no evidence.
    """
    for i in prange(words.shape[0]):
        if counts[i, required] == 0:
            out[i, table] = NO_KEY
            continue
        h = np.uint64(0x9E3779B97F4A7C15)
        for t in range(key_segments.shape[0]):
            s = key_segments[t]
            for w in range(bounds[s], bounds[s + 1]):
                h ^= words[i, w]
                h *= np.uint64(0xBF58476D1CE4E5B9)
                h ^= h >> np.uint64(31)
        out[i, table] = _fingerprint(h)


@numba.njit(cache=True, nogil=True)
def _bucket_bounds(sorted_keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal keys (2..max_bucket long, key not :data:`NO_KEY`) in sorted keys."""
    n = sorted_keys.shape[0]
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    count = 0
    s = 0
    for i in range(1, n + 1):
        if i == n or sorted_keys[i] != sorted_keys[s]:
            size = i - s
            if 2 <= size <= max_bucket and sorted_keys[s] != NO_KEY:
                starts[count] = s
                ends[count] = i
                count += 1
            s = i
    return starts[:count].copy(), ends[:count].copy()


@dataclass(frozen=True)
class TableBuckets:
    """One table's buckets: ``order[starts[b]:ends[b]]`` are the records of bucket ``b``."""

    table: int
    order: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def room(self) -> int:
        """Pairs inside the buckets (before the earlier-table test)."""
        sizes = self.ends - self.starts
        return int((sizes * (sizes - 1) // 2).sum())


def table_buckets(keys: BlockingKeys, table: int) -> TableBuckets:
    """Sort one table's fingerprints into buckets (``int32`` record order)."""
    column = np.ascontiguousarray(keys.fingerprints[:, table])
    order = np.argsort(column).astype(np.int32)
    starts, ends = _bucket_bounds(column[order], keys.max_bucket)
    return TableBuckets(table, order, starts, ends)


def map_tables(keys: BlockingKeys, work: Callable[[TableBuckets], T],
               threads: int | None = None) -> list[T]:
    """``work(buckets)`` for every table, on a pool of threads; results in table order.

    Tables go to the threads as they free up (the kernels release the GIL),
    so a core slowed by other jobs takes fewer tables. Memory holds one
    table's buckets per thread.
    """
    threads = numba.get_num_threads() if threads is None else threads

    def one(table: int) -> T:
        return work(table_buckets(keys, table))

    if threads <= 1 or keys.tables <= 1:
        return [one(t) for t in range(keys.tables)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(keys.tables)))


@numba.njit(cache=True, nogil=True, inline="always")
def seen_earlier(fingerprints: np.ndarray, i: int, j: int, table: int) -> bool:
    """Whether records ``i`` and ``j`` share a key in a table before ``table``."""
    # No early exit: most candidates collide in one table only, so the whole
    # prefix is read anyway, and a branch-free loop is vectorised.
    hit = False
    for s in range(table):
        f = fingerprints[i, s]
        hit |= (f == fingerprints[j, s]) & (f != NO_KEY)
    return hit


@numba.njit(cache=True, nogil=True)
def _emit_table(fingerprints: np.ndarray, table: int, order: np.ndarray, starts: np.ndarray,
                ends: np.ndarray, out_l: np.ndarray, out_r: np.ndarray) -> int:
    """The table's pairs not seen in an earlier table (``left < right``)."""
    found = 0
    for b in range(starts.shape[0]):
        for x in range(starts[b], ends[b]):
            i = order[x]
            for y in range(x + 1, ends[b]):
                j = order[y]
                if seen_earlier(fingerprints, i, j, table):
                    continue
                out_l[found] = min(i, j)
                out_r[found] = max(i, j)
                found += 1
    return found


def lsh_candidates(words: np.ndarray, positions: np.ndarray,
                   params: LshParams) -> tuple[np.ndarray, np.ndarray, BlockingKeys]:
    """Candidate pairs by Hamming LSH (whole-encoding bit sampling only).

    Returns:
        ``(left, right, keys)``: the pairs (``left < right``, each pair
        once) and the keys, for :func:`pairs_collide`.
    """
    keys = table_keys(words, positions, params)
    left, right = candidates_from_keys(keys)
    return left.astype(np.int64), right.astype(np.int64), keys


@dataclass(frozen=True)
class TablePlan:
    """The hash tables of a blocking run.

    Attributes:
        samples: ``(n_sample_tables, k)`` bit positions (``-1`` pads keys
            shorter than ``k``); each is a bit-sampling table.
        exact: for each exact table, the segments hashed together (the
            first is the one that must be non-empty).
        description: human-readable summary for diagnostics.
        pools: for each sampling table, the bits it may draw more from when
            its buckets are too large (see :func:`plan_keys`).
    """

    samples: np.ndarray
    exact: tuple[tuple[int, ...], ...]
    description: dict
    pools: tuple[np.ndarray, ...] = ()


def plan_tables(words: np.ndarray, positions_by_segment: list[np.ndarray],
                identifying: list[int], context: list[int], target: float = 2.0,
                whole_tables: int | None = WHOLE_TABLES,
                segment_tables: int | Sequence[int] = SEGMENT_TABLES,
                seed: int = 20240611) -> TablePlan:
    """Choose the blocking tables for data of this size and density.

    Three families, each catching a kind of match the others miss:

    * whole-encoding bit sampling (``whole_tables``; ``None``: ``L = 1.6 k``): pairs
      similar overall;
    * per identifying segment (name, date of birth), bit sampling within the
      segment: pairs that agree strongly on that field whatever the others say;
    * per identifying segment, an exact table keyed by the segment together
      with the context segments (sex, nationality, place): pairs identical on
      that field and their context (same date of birth, same country), which
      the model may accept on that evidence alone.

    ``k`` of every sampling table is chosen so that a random pair collides
    with probability about ``target / n`` (per-bit agreement
    ``d**2 + (1 - d)**2`` from the data).
    """
    n = words.shape[0]
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, size=min(n, 20_000), replace=False).astype(np.int64)
    wanted = math.log(min(1.0, target / max(n, 2)))

    def informative(positions: np.ndarray) -> tuple[np.ndarray, float]:
        density = _bit_density(words, positions, rows)
        keep = (density >= 0.02) & (density <= 0.98)
        agree = density[keep] ** 2 + (1 - density[keep]) ** 2
        if not keep.any():
            return positions[:0], -1.0
        return positions[keep], float(np.mean(np.log(np.maximum(agree, 1e-6))))

    tables: list[np.ndarray] = []
    pools: list[np.ndarray] = []
    description: dict = {"whole": {}, "segments": {}, "exact": []}
    all_positions = np.concatenate(positions_by_segment)
    useful, log_agree = informative(all_positions)
    if len(useful):
        k = int(np.clip(math.ceil(wanted / min(log_agree, -1e-3)), 4, 64))
        k = min(k, len(useful))
        count = whole_tables if whole_tables is not None else int(np.clip(round(1.6 * k), 12, 48))
        tables += [rng.choice(useful, size=k, replace=False) for _ in range(count)]
        pools += [useful] * count
        description["whole"] = {"tables": count, "bits_per_key": k}
    for rank, s in enumerate(identifying):
        useful, log_agree = informative(positions_by_segment[s])
        if len(useful) < 16:
            continue
        per_segment = (segment_tables if isinstance(segment_tables, int)
                       else segment_tables[min(rank, len(segment_tables) - 1)])
        k = int(np.clip(math.ceil(wanted / min(log_agree, -1e-3)), 4, 64))
        k = min(k, len(useful) // 2)
        tables += [rng.choice(useful, size=k, replace=False) for _ in range(per_segment)]
        pools += [useful] * per_segment
        description["segments"][s] = {"tables": per_segment, "bits_per_key": k}
    samples = np.full((len(tables), 64), -1, dtype=np.int64)
    for t, table in enumerate(tables):
        samples[t, :len(table)] = table
    exact = tuple((s, *context) for s in identifying)
    description["exact"] = [list(e) for e in exact]
    return TablePlan(samples, exact, description, tuple(pools))


def plan_keys(words: np.ndarray, counts: np.ndarray, bounds: np.ndarray, plan: TablePlan,
              pairs_per_record: float | None = PAIRS_PER_RECORD, max_bucket: int = 2000,
              seed: int = 7, saturated_tables: int = 1) -> BlockingKeys:
    """Keys of every record in every table of the plan.

    Real registers are far from random: people share birth years, places and
    name parts, so a key sized for random data can put thousands of records
    in one bucket. With ``pairs_per_record`` set, a sampling table whose
    buckets hold more than that many pairs per record takes two more bits
    from its pool, until it fits (or has 64 bits): the candidate count stays
    linear in the number of records. The extra bits are drawn up front, in a
    random order, and the key is laid out first-bit-most-significant, so one
    sort of the 64-bit keys serves every key length tried.
    """
    n = words.shape[0]
    n_sampling = plan.samples.shape[0]
    fingerprints = np.empty((n, n_sampling + len(plan.exact)), dtype=np.uint32)
    rng = np.random.default_rng(seed)
    budget = None if pairs_per_record is None else pairs_per_record * n
    extended = []
    for t in range(n_sampling):
        base = plan.samples[t][plan.samples[t] >= 0]
        pool = plan.pools[t] if plan.pools else base
        free = rng.permutation(np.setdiff1d(pool, base))
        bits = np.concatenate([base, free])[:64] if budget is not None else base
        extended.append((len(base), bits.astype(np.int64)))

    def search(t: int) -> tuple[int, bool, int, np.ndarray, np.ndarray]:
        """Key length, whether over budget, bucket cap; the keys (unsorted, sorted)."""
        k, bits = extended[t]
        prefix_keys = _sample_keys(words, bits)
        # The sorted keys, not the sort order: every bucket test below reads
        # runs of equal prefixes only, and np.sort is faster than np.argsort.
        ordered = np.sort(prefix_keys)
        m = max(k, 1)
        over = False
        cap = max_bucket
        if budget is not None:
            while m < len(bits) and _prefix_pairs(ordered, m, max_bucket) > budget:
                m = min(m + 2, len(bits))
            over = _prefix_pairs(ordered, m, max_bucket) > budget
            if over:
                # Out of bits: keep the smaller buckets (rarer values, more
                # telling) up to the budget; the largest go.
                cap = _bucket_cap(ordered, m, budget, max_bucket)
        return m, over, cap, prefix_keys, ordered

    def store(t: int, m: int, cap: int, prefix_keys: np.ndarray, ordered: np.ndarray) -> None:
        _store_fingerprints(prefix_keys, m, fingerprints, t)
        _clear_large_sorted(prefix_keys, ordered, m, cap, fingerprints, t)

    def one(t: int) -> tuple[int, bool, int, np.ndarray | None, np.ndarray | None]:
        m, over, cap, prefix_keys, ordered = search(t)
        if over:
            # Whether it is kept depends on the tables before it (below).
            return m, over, cap, prefix_keys, ordered
        store(t, m, cap, prefix_keys, ordered)
        return m, over, cap, None, None

    # A table still over budget with every bit its key can take groups
    # records that are identical on what it samples (e.g. everyone born on
    # one day): all such tables of one pool make nearly the same buckets, and
    # every pair in them would be tested again in each. Keep the first.
    # Tables are decided in order as the threads finish them, and a dropped
    # table's keys are never stored (most tables of a name pool are dropped
    # on real registers: 68 of 86 at 100k x 100k).
    threads = numba.get_num_threads()
    executor = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
    results: list[tuple[int, bool]] = []
    kept: list[int] = []
    saturated: dict[int, int] = {}
    try:
        outcomes = (executor.map(one, range(n_sampling)) if executor is not None
                    else map(one, range(n_sampling)))
        for t, (m, over, cap, prefix_keys, ordered) in enumerate(outcomes):
            results.append((m, over))
            pool_id = id(plan.pools[t]) if plan.pools else t
            if over:
                if saturated.get(pool_id, 0) >= saturated_tables:
                    continue
                saturated[pool_id] = saturated.get(pool_id, 0) + 1
                assert prefix_keys is not None and ordered is not None
                store(t, m, cap, prefix_keys, ordered)
            kept.append(t)
    finally:
        if executor is not None:
            executor.shutdown()
    plan.description["key_bits"] = [results[t][0] for t in kept]
    plan.description["dropped_saturated_tables"] = n_sampling - len(kept)
    if len(kept) < n_sampling:
        _move_columns(fingerprints, np.asarray(kept, dtype=np.int64))
    for e, segs in enumerate(plan.exact):
        column = len(kept) + e
        _exact_fingerprints(words, counts, np.asarray(segs, dtype=np.int64), bounds, segs[0],
                            fingerprints, column)
        values = fingerprints[:, column].astype(np.uint64)
        order = np.argsort(values)
        _clear_large(values[order], order, 64, max_bucket, fingerprints, column)
    if len(kept) < n_sampling:
        fingerprints = np.ascontiguousarray(fingerprints[:, :len(kept) + len(plan.exact)])
    return BlockingKeys(fingerprints, max_bucket)


@numba.njit(parallel=True, cache=True)
def _move_columns(table: np.ndarray, columns: np.ndarray) -> None:
    """``table[:, c] = table[:, columns[c]]`` in place (``columns`` ascending)."""
    for i in prange(table.shape[0]):
        for c in range(columns.shape[0]):
            table[i, c] = table[i, columns[c]]


def iter_table_pairs(keys: BlockingKeys) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Candidate pairs table by table, each pair once overall (from its first table).

    ``int32`` ``(left, right)`` with ``left < right``. For tests and the
    completeness harness; the engine scores pairs inside the table kernels
    instead of materialising them.
    """
    for t in range(keys.tables):
        buckets = table_buckets(keys, t)
        room = buckets.room
        out_l = np.empty(room, dtype=np.int32)
        out_r = np.empty(room, dtype=np.int32)
        found = _emit_table(keys.fingerprints, t, buckets.order, buckets.starts, buckets.ends,
                            out_l, out_r)
        yield out_l[:found], out_r[:found]


def candidates_from_keys(keys: BlockingKeys) -> tuple[np.ndarray, np.ndarray]:
    """All pairs sharing a key in some table, each pair once."""
    parts = list(iter_table_pairs(keys))
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@numba.njit(parallel=True, cache=True)
def _pairs_collide(fingerprints: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    # Contiguous chunks, each prefetching the key rows of the pairs it tests
    # next: the pairs are usually random records, and waiting on each row in
    # turn took three times as long.
    n = left.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    tables = fingerprints.shape[1]
    n_chunks = 64
    step = (n + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        end = min(n, (c + 1) * step)
        for k in range(c * step, end):
            ahead = k + PREFETCH_AHEAD
            if ahead < end:
                prefetch_row(fingerprints, left[ahead])
                prefetch_row(fingerprints, right[ahead])
            out[k] = seen_earlier(fingerprints, left[k], right[k], tables)
    return out


def table_keys(words: np.ndarray, positions: np.ndarray, params: LshParams) -> BlockingKeys:
    """The keys :func:`lsh_candidates` uses (same sampling)."""
    rng = np.random.default_rng(params.seed)
    k = min(params.bits_per_key, len(positions))
    fingerprints = np.empty((words.shape[0], params.tables), dtype=np.uint32)
    for t in range(params.tables):
        sample = rng.choice(positions, size=k, replace=False).astype(np.int64)
        prefix_keys = _sample_keys(words, sample)
        order = np.argsort(prefix_keys)
        _store_fingerprints(prefix_keys, max(k, 1), fingerprints, t)
        _clear_large(prefix_keys[order], order, max(k, 1), params.max_bucket, fingerprints, t)
    return BlockingKeys(fingerprints, params.max_bucket)


def pairs_collide(keys: BlockingKeys, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether each pair shares a key in some table (i.e. is a candidate)."""
    return _pairs_collide(keys.fingerprints, np.asarray(left, np.int64),
                          np.asarray(right, np.int64))
