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
from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np
from numba import prange

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


@numba.njit(parallel=True, cache=True)
def _keys(words: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Key of every record in every table: ``(tables, n)`` ``uint64``."""
    n_tables, k = sample.shape
    n = words.shape[0]
    out = np.zeros((n_tables, n), dtype=np.uint64)
    for i in prange(n):
        for t in range(n_tables):
            key = np.uint64(0)
            for b in range(k):
                pos = sample[t, b]
                if pos < 0:
                    break
                bit = (words[i, pos // 64] >> np.uint64(pos % 64)) & np.uint64(1)
                key |= bit << np.uint64(b)
            out[t, i] = key
    return out


@numba.njit(cache=True)
def _bucket_bounds(sorted_keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    starts = []
    ends = []
    n = sorted_keys.shape[0]
    s = 0
    for i in range(1, n + 1):
        if i == n or sorted_keys[i] != sorted_keys[s]:
            size = i - s
            if 2 <= size <= max_bucket:
                starts.append(s)
                ends.append(i)
            s = i
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@numba.njit(parallel=True, cache=True)
def _emit_table(order: np.ndarray, starts: np.ndarray, ends: np.ndarray, by_record: np.ndarray,
                table: int, offsets: np.ndarray, out_l: np.ndarray, out_r: np.ndarray,
                kept: np.ndarray) -> None:
    for b in prange(starts.shape[0]):
        pos = offsets[b]
        f = 0
        for x in range(starts[b], ends[b]):
            i = order[x]
            for y in range(x + 1, ends[b]):
                j = order[y]
                earlier = False
                for t in range(table):
                    if by_record[i, t] == by_record[j, t]:
                        earlier = True
                        break
                if not earlier:
                    if i < j:
                        out_l[pos + f] = i
                        out_r[pos + f] = j
                    else:
                        out_l[pos + f] = j
                        out_r[pos + f] = i
                    f += 1
        kept[b] = f


def lsh_candidates(words: np.ndarray, positions: np.ndarray,
                   params: LshParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs by Hamming LSH.

    Returns:
        ``(left, right, keys)``: the pairs (``left < right``, each pair
        once) and the ``(tables, n)`` keys, for :func:`pairs_collide`.
    """
    keys = table_keys(words, positions, params)
    parts_l, parts_r = [], []
    for t in range(params.tables):
        order = np.argsort(keys[t], kind="stable")
        starts, ends = _bucket_bounds(keys[t][order], params.max_bucket)
        sizes = ends - starts
        room = sizes * (sizes - 1) // 2
        offsets = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
        out_l = np.empty(int(room.sum()), dtype=np.int32)
        out_r = np.empty(int(room.sum()), dtype=np.int32)
        kept = np.zeros(len(starts), dtype=np.int64)
        _emit_table(order.astype(np.int64), starts, ends, np.ascontiguousarray(keys.T), t,
                    offsets, out_l, out_r, kept)
        mask = np.arange(len(out_l)) - np.repeat(offsets, room) < np.repeat(kept, room)
        parts_l.append(out_l[mask])
        parts_r.append(out_r[mask])
    if not parts_l:
        return np.empty(0, np.int64), np.empty(0, np.int64), keys
    return (np.concatenate(parts_l).astype(np.int64), np.concatenate(parts_r).astype(np.int64),
            keys)


@numba.njit(parallel=True, cache=True)
def _exact_keys(words: np.ndarray, counts: np.ndarray, key_segments: np.ndarray,
                bounds: np.ndarray, required: int) -> np.ndarray:
    """A 64-bit hash of the words of ``key_segments`` per record.

    Records whose segment ``required`` is empty get a key of their own (the
    record index with the top bit set), so they never collide: an empty
    field is no evidence.
    """
    n = words.shape[0]
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        if counts[i, required] == 0:
            out[i] = np.uint64(i) | np.uint64(1 << 63)
            continue
        h = np.uint64(0x9E3779B97F4A7C15)
        for t in range(key_segments.shape[0]):
            s = key_segments[t]
            for w in range(bounds[s], bounds[s + 1]):
                h ^= words[i, w]
                h *= np.uint64(0xBF58476D1CE4E5B9)
                h ^= h >> np.uint64(31)
        out[i] = h & np.uint64(0x7FFFFFFFFFFFFFFF)
    return out


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
                whole_tables: int | None = None, segment_tables: int = 20,
                seed: int = 20240611) -> TablePlan:
    """Choose the blocking tables for data of this size and density.

    Three families, each catching a kind of match the others miss:

    * whole-encoding bit sampling (``L = 1.6 k`` tables): pairs similar overall;
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
    for s in identifying:
        useful, log_agree = informative(positions_by_segment[s])
        if len(useful) < 16:
            continue
        k = int(np.clip(math.ceil(wanted / min(log_agree, -1e-3)), 4, 64))
        k = min(k, len(useful) // 2)
        tables += [rng.choice(useful, size=k, replace=False) for _ in range(segment_tables)]
        pools += [useful] * segment_tables
        description["segments"][s] = {"tables": segment_tables, "bits_per_key": k}
    samples = np.full((len(tables), 64), -1, dtype=np.int64)
    for t, table in enumerate(tables):
        samples[t, :len(table)] = table
    exact = tuple((s, *context) for s in identifying)
    description["exact"] = [list(e) for e in exact]
    return TablePlan(samples, exact, description, tuple(pools))


def _colliding_pairs(keys: np.ndarray, max_bucket: int) -> int:
    _, sizes = np.unique(keys, return_counts=True)
    sizes = sizes[sizes <= max_bucket]
    return int((sizes * (sizes - 1) // 2).sum())


def plan_keys(words: np.ndarray, counts: np.ndarray, bounds: np.ndarray, plan: TablePlan,
              pairs_per_record: float | None = 10.0, max_bucket: int = 2000,
              seed: int = 7) -> np.ndarray:
    """Keys of every record in every table of the plan: ``(tables, n)``.

    Real registers are far from random: people share birth years, places and
    name parts, so a key sized for random data can put thousands of records
    in one bucket. With ``pairs_per_record`` set, a sampling table whose
    buckets hold more than that many pairs per record draws two more bits
    from its pool, until it fits (or has 64 bits): the candidate count stays
    linear in the number of records.
    """
    n = words.shape[0]
    samples = plan.samples.copy()
    keys = _keys(words, samples)
    if pairs_per_record is not None and plan.pools:
        rng = np.random.default_rng(seed)
        budget = pairs_per_record * n
        for t in range(samples.shape[0]):
            while _colliding_pairs(keys[t], max_bucket) > budget:
                used = samples[t][samples[t] >= 0]
                k = len(used)
                free = np.setdiff1d(plan.pools[t], used)
                if k >= 64 or len(free) == 0:
                    break
                extra = rng.choice(free, size=min(2, 64 - k, len(free)), replace=False)
                samples[t, k:k + len(extra)] = extra
                keys[t] = _keys(words, samples[t:t + 1])[0]
    exact = [_exact_keys(words, counts, np.asarray(segs, dtype=np.int64), bounds, segs[0])
             for segs in plan.exact]
    return np.vstack([keys, *[e[None, :] for e in exact]]) if exact else keys


def iter_table_pairs(keys: np.ndarray, max_bucket: int = 2000
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Candidate pairs table by table, each pair once overall (from its first table).

    Streaming keeps memory at one table's pairs however many tables there
    are; callers that need every pair concatenate.
    """
    # Record-major copy: the "seen in an earlier table?" check reads two
    # contiguous rows instead of two scattered values per earlier table.
    by_record = np.ascontiguousarray(keys.T)
    for t in range(keys.shape[0]):
        order = np.argsort(keys[t], kind="stable")
        starts, ends = _bucket_bounds(keys[t][order], max_bucket)
        sizes = ends - starts
        room = sizes * (sizes - 1) // 2
        offsets = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
        out_l = np.empty(int(room.sum()), dtype=np.int32)
        out_r = np.empty(int(room.sum()), dtype=np.int32)
        kept = np.zeros(len(starts), dtype=np.int64)
        _emit_table(order.astype(np.int64), starts, ends, by_record, t, offsets, out_l, out_r, kept)
        mask = np.arange(len(out_l)) - np.repeat(offsets, room) < np.repeat(kept, room)
        yield out_l[mask], out_r[mask]


def candidates_from_keys(keys: np.ndarray, max_bucket: int = 2000
                         ) -> tuple[np.ndarray, np.ndarray]:
    """All pairs sharing a key in some table, each pair once."""
    parts = list(iter_table_pairs(keys, max_bucket))
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@numba.njit(parallel=True, cache=True)
def _pairs_collide(by_record: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether each pair shares a key in some table (i.e. is a candidate)."""
    out = np.zeros(left.shape[0], dtype=np.bool_)
    for k in prange(left.shape[0]):
        for t in range(by_record.shape[1]):
            if by_record[left[k], t] == by_record[right[k], t]:
                out[k] = True
                break
    return out


def table_keys(words: np.ndarray, positions: np.ndarray, params: LshParams) -> np.ndarray:
    """The ``(tables, n)`` keys :func:`lsh_candidates` uses (same sampling)."""
    rng = np.random.default_rng(params.seed)
    k = min(params.bits_per_key, len(positions))
    sample = np.stack([rng.choice(positions, size=k, replace=False)
                       for _ in range(params.tables)]).astype(np.int64)
    return _keys(words, sample)


def pairs_collide(keys: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether each pair shares a key in some table (i.e. is a candidate)."""
    return _pairs_collide(np.ascontiguousarray(keys.T), np.asarray(left, np.int64),
                          np.asarray(right, np.int64))
