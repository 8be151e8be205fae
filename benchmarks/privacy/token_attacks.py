"""Cryptanalysis of Bloom-filter encodings: which bit positions does each token set?

Two attacks from the literature, implemented from their descriptions:

(a) frequency alignment (after Kuzu et al. 2011, Niedermeyer et al. 2014 and
    Christen, Ranbaduge, Vatsalan and Schnell 2017): whole bit patterns are
    aligned with whole values by frequency rank, and tokens (q-grams, date
    tokens) with bit positions: the most frequent token of a group of
    records is aligned with the most frequent bit positions, confirmed by the
    positions' co-occurrence, and the records are split into those that hold
    it and those that do not; each part is attacked again, so that tokens of
    similar overall frequency separate within the parts (the "precise and
    fast" partitioning of Christen et al. 2017).
(b) pattern mining (after Christen, Vidanage, Ranbaduge and Schnell 2018):
    maximal frequent itemsets of bit positions are mined from all the
    encodings at once (:func:`mine_blocks`), then aligned with tokens by
    their support, their size and how they co-occur with each other
    (:func:`align_blocks`); see :mod:`privacy.pattern_mining`.

Both give a set of identified *units* (tokens that always occur together in
the part where they were found, e.g. the bigrams of a common name) with their
bit positions. Re-identification then scores every (encoded record, list
entry) pair by how well the entry's tokens explain the identified positions
(:func:`unit_scores`), and :mod:`privacy.reidentify` assigns one to one.

The attacker works per segment (the extract header names the segments) on
the segments its public list covers, and undoes balancing first
(:func:`privacy.encoded.debalance`). Tolerances follow from what the schema
tells the attacker (bits per token, BLIP flip probability).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from privacy.encoded import TokenTable


@dataclass(frozen=True)
class Unit:
    """Tokens aligned with bit positions.

    Attributes:
        tokens: the tokens (always together where they were found).
        positions: the bit positions they set, as the attacker sees the segment.
    """

    tokens: tuple[str, ...]
    positions: np.ndarray


@dataclass(frozen=True)
class AttackParams:
    """What the attacker knows or chooses.

    Attributes:
        bits_per_token: bits one token sets (from the schema).
        segment_bits: hashed length of the segment before folding.
        folded_bits: bits the attacker sees per segment.
        flip_probability: BLIP's flip probability in this segment (0 without).
        min_count: fewest records a token must cover in a part to be aligned.
        support_tolerance: relative tolerance between a token's frequency and
            the support of the positions aligned with it.
        max_units: budget of alignments per segment.
    """

    bits_per_token: int
    segment_bits: int
    folded_bits: int
    flip_probability: float = 0.0
    min_count: int = 12
    support_tolerance: float = 0.35
    max_units: int = 300

    @property
    def bit_tolerance(self) -> float:
        """Share of a unit's positions allowed unset in a record that holds it."""
        if self.folded_bits < self.segment_bits:
            # XOR folding cancels a position whenever two tokens hit it.
            return 0.25
        return min(0.45, 2.5 * self.flip_probability)

    def expected_positions(self, tokens: int) -> float:
        """Distinct positions ``tokens`` tokens set (after folding)."""
        hits = tokens * self.bits_per_token
        return self.folded_bits * (1 - (1 - 1 / self.folded_bits) ** hits)


# Seeds tried per alignment: more find rarer tokens, at a linear cost in time.
SEEDS = 12

PositionFinder = Callable[[np.ndarray, float, float, AttackParams], "np.ndarray | None"]


def _fuzzy_all(bits: np.ndarray, positions: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows with at least ``1 - tolerance`` of ``positions`` set."""
    if positions.size == 0:
        return np.zeros(bits.shape[0], dtype=bool)
    return bits[:, positions].mean(axis=1) >= 1 - tolerance - 1e-9


def _support_ok(support: float, frequency: float, size: int, density: float,
                params: AttackParams) -> bool:
    background = density ** max(size, 1)
    low = frequency * (1 - params.support_tolerance)
    high = frequency * (1 + params.support_tolerance) + background
    return low <= support <= high


def refine_bicluster(bits: np.ndarray, rows: np.ndarray, rows_wanted: int,
                     columns_wanted: int, usable: np.ndarray, tolerance: float,
                     iterations: int = 8) -> tuple[np.ndarray, np.ndarray, float]:
    """Grow a seed set of records into the token's block of ones.

    A token present in ``f * n`` records sets the same positions in all of
    them: a block of ones (``f * n`` rows by its positions). Alternately,
    the positions set most often in the current rows are taken (as many as
    the token's size says), then the rows holding most of those positions
    (as many as the token's frequency says), until nothing changes.

    Returns:
        The rows, the positions (those set in nearly all the rows) and the
        block's density.
    """
    columns = np.arange(0)
    for _ in range(iterations):
        conditional = np.where(usable, bits[rows].mean(axis=0), -1.0)
        new = np.sort(np.argsort(-conditional, kind="stable")[:columns_wanted])
        if np.array_equal(new, columns):
            break
        columns = new
        share = bits[:, columns].mean(axis=1)
        rows = np.argsort(-share, kind="stable")[:rows_wanted]
    conditional = bits[rows].mean(axis=0)
    keep = columns[conditional[columns] >= 1 - tolerance - 0.1]
    if keep.size == 0:
        return rows, keep, 0.0
    return rows, np.sort(keep), float(bits[np.ix_(rows, keep)].mean())


def _best_block(bits: np.ndarray, seeds: list[np.ndarray], frequency: float, expected: float,
                params: AttackParams, usable: np.ndarray) -> np.ndarray | None:
    """Refine each seed (a set of rows); keep the block that best fits the token.

    Fit: dense (the token's positions are set wherever it is) and with a
    support (records holding the positions) close to the token's frequency.
    """
    n = bits.shape[0]
    density = float(bits.mean())
    tolerance = params.bit_tolerance
    rows_wanted = max(2, round(frequency * n))
    columns_wanted = max(2, round(expected))
    best, best_fit = None, -np.inf
    floor = 0.9 * (1 - params.flip_probability) - 0.05
    for seed in seeds:
        _, positions, block = refine_bicluster(bits, seed, rows_wanted, columns_wanted, usable,
                                               tolerance)
        if positions.size < max(2, int(0.5 * expected)) or block < floor:
            continue
        support = float(_fuzzy_all(bits, positions, tolerance).mean())
        if not _support_ok(support, frequency, positions.size, density, params):
            continue
        fit = block - abs(support - frequency) / frequency
        if fit > best_fit:
            best, best_fit = positions, fit
    return best


def frequency_finder(bits: np.ndarray, frequency: float, expected: float,
                     params: AttackParams) -> np.ndarray | None:
    """(a) Positions of the part's most frequent token, by position frequency.

    A position the token sets is set in a share ``f + (1 - f) * b`` of the
    records (``f`` the token's frequency, ``b`` the chance that other tokens
    set it). Positions whose frequency is closest to that are aligned with
    the token; the records that have each such position set seed a block,
    which is refined and checked against the token's frequency.
    """
    freq = bits.mean(axis=0)
    tolerance = params.bit_tolerance
    usable = freq < 1 - tolerance / 2
    background = float(freq[usable].mean()) if usable.any() else 0.0
    f = frequency * (1 - params.flip_probability)
    target = f + (1 - f) * background
    order = [int(p) for p in np.argsort(np.abs(freq - target)) if usable[p]]
    seeds = [np.flatnonzero(bits[:, p]) for p in order[:SEEDS]]
    seeds = [rows for rows in seeds if rows.size >= params.min_count]
    return _best_block(bits, seeds, frequency, expected, params, usable)


def identify_units(bits: np.ndarray, table: TokenTable, finder: PositionFinder,
                   params: AttackParams) -> list[Unit]:
    """Align tokens with bit positions by recursive partitioning.

    Each part pairs a group of encoded records with the group of list
    entries believed to correspond (same tokens known present or absent).
    Its most frequent not-yet-constant token is aligned (or its known
    positions reused), then both groups are split on it.
    """
    present = table.present
    units: dict[tuple[str, ...], Unit] = {}
    failures: Counter[int] = Counter()
    # Largest parts first: their frequencies are the most reliable.
    heap: list[tuple[int, int, np.ndarray, np.ndarray, frozenset[int]]] = []
    counter = 0
    heapq.heappush(heap, (-bits.shape[0], counter, np.arange(bits.shape[0]),
                          np.arange(present.shape[0]), frozenset()))
    steps = 0
    while heap and len(units) < params.max_units and steps < 4 * params.max_units:
        steps += 1
        _, _, enc, plain, excluded = heapq.heappop(heap)
        if len(enc) < 2 * params.min_count or len(plain) < 2 * params.min_count:
            continue
        part = present[plain]
        freq = part.mean(axis=0)
        freq[freq >= 1 - 1e-9] = 0  # known present throughout the part
        if excluded:
            freq[list(excluded)] = 0
        top = int(np.argmax(freq))
        if freq[top] * len(plain) < params.min_count:
            continue
        column = part[:, top]
        group = np.flatnonzero((part == column[:, None]).all(axis=0))
        tokens = tuple(table.vocab[i] for i in group)
        unit = units.get(tokens)
        part_bits = bits[enc]
        if unit is None:
            if failures[top] >= 3:
                positions = None
            else:
                positions = finder(part_bits, float(freq[top]),
                                   params.expected_positions(int(table.sizes[group].sum())), params)
            if positions is None:
                failures[top] += 1
                counter += 1
                heapq.heappush(heap, (-len(enc), counter, enc, plain,
                                      excluded | frozenset(int(g) for g in group)))
                continue
            unit = Unit(tokens, positions)
            units[tokens] = unit
        holds = _fuzzy_all(part_bits, unit.positions, params.bit_tolerance)
        for enc_part, plain_part in ((enc[holds], plain[column]), (enc[~holds], plain[~column])):
            counter += 1
            heapq.heappush(heap, (-len(enc_part), counter, enc_part, plain_part,
                                  excluded - frozenset(int(g) for g in group)))
    return list(units.values())


def unit_scores(bits: np.ndarray, table: TokenTable, units: list[Unit],
                params: AttackParams, penalty: float = 1.0) -> np.ndarray:
    """Score every (encoded record, list entry) pair from the identified units.

    A unit decoded as present in a record and held by the entry adds its
    surprisal ``-log(frequency)``; decoded present but not held, or held
    but decoded absent, costs ``penalty`` (typos and noise make either
    possible, so neither rules a pair out).
    """
    if not units:
        return np.zeros((bits.shape[0], table.present.shape[0]), dtype=np.float32)
    decoded = np.stack([_fuzzy_all(bits, u.positions, params.bit_tolerance) for u in units],
                       axis=1).astype(np.float32)
    held = np.stack([np.array([set(u.tokens) <= s for s in table.all_groups])
                     for u in units], axis=1).astype(np.float32)
    freq = np.clip(held.mean(axis=0), 1.0 / held.shape[0], 1.0)
    weight = -np.log(freq)
    return (decoded * weight) @ held.T - penalty * (decoded @ (1 - held).T) \
        - penalty * ((1 - decoded) @ held.T)


def pattern_alignment_scores(bits: np.ndarray, table: TokenTable,
                             min_count: int = 4) -> np.ndarray:
    """(a) Align whole bit patterns with whole values by frequency rank.

    Identical values give identical patterns (unless BLIP adds noise), so
    the k-th most frequent pattern is taken to be the k-th most frequent
    value while both are frequent. Aligned pairs score the value's
    surprisal.
    """
    n, m = bits.shape[0], len(table.all_groups)
    scores = np.zeros((n, m), dtype=np.float32)
    packed = np.packbits(bits, axis=1)
    _, inverse, counts = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    value_counts = Counter(table.all_groups)
    values = [(c, v) for v, c in value_counts.items() if c >= min_count and v]
    values.sort(key=lambda cv: -cv[0])
    patterns = sorted(((c, g) for g, c in enumerate(counts) if c >= min_count),
                      key=lambda cg: -cg[0])
    value_of_entry: dict[frozenset[str], np.ndarray] = {}
    for j, value in enumerate(table.all_groups):
        value_of_entry.setdefault(value, []).append(j)  # type: ignore[arg-type]
    for (p_count, group), (v_count, value) in zip(patterns, values, strict=False):
        ratio = p_count / v_count
        if not 0.5 <= ratio <= 2.0:
            break
        rows = np.flatnonzero(inverse == group)
        cols = np.array(value_of_entry[value])
        scores[np.ix_(rows, cols)] += math.log(m / v_count)
    return scores
