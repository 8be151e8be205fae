"""(b) The pattern-mining attack (after Christen, Vidanage, Ranbaduge and Schnell 2018).

A token present in ``f * n`` records sets the same bit positions in each of
them, so the encodings hold a block of ones, ``f * n`` records by the
token's positions: a frequent itemset of positions whose support is the
token's frequency. The attack

1. mines maximal frequent itemsets (:func:`mine_blocks`): from every
   position, the records that have it set seed a block, which is grown
   alternately (the positions set in nearly all of its records, then the
   records holding nearly all of its positions) until it is stable;
2. aligns itemsets with tokens (:func:`align_blocks`): first by support
   against the token's frequency in the public list and by size against the
   positions the token (with the tokens that always come with it) sets;
   then, repeatedly, by how each itemset co-occurs with the itemsets
   already aligned, against how its token co-occurs with their tokens in
   the list. A one-to-one assignment (Hungarian) with a reject option
   keeps only consistent alignments.

The aligned tokens then score (encoded record, list entry) pairs exactly
as in :func:`privacy.token_attacks.unit_scores`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from privacy.encoded import TokenTable
from privacy.token_attacks import AttackParams, Unit


@dataclass(frozen=True)
class Block:
    """A maximal frequent itemset and the records that hold it."""

    positions: np.ndarray
    rows: np.ndarray
    support: float


def _grow(bits: np.ndarray, rows: np.ndarray, width: int, usable: np.ndarray,
          threshold: float, min_rows: int, iterations: int = 12
          ) -> tuple[np.ndarray, np.ndarray] | None:
    conditional = np.where(usable, bits[rows].mean(axis=0), -1.0)
    columns = np.sort(np.argsort(-conditional, kind="stable")[:width])
    for _ in range(iterations):
        holding = bits[:, columns].mean(axis=1) >= threshold
        if holding.sum() < min_rows:
            return None
        new = np.flatnonzero(usable & (bits[holding].mean(axis=0) >= threshold))
        if new.size < 2:
            return None
        if np.array_equal(new, columns):
            return columns, holding
        columns = new
    return columns, holding


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def mine_blocks(bits: np.ndarray, params: AttackParams, width: int) -> list[Block]:
    """Mine maximal frequent itemsets (blocks of ones) seeded from every position.

    Args:
        bits: the segment's encodings (records x positions).
        params: tolerances from the schema.
        width: positions taken from each seed (about the smallest token group).
    """
    n = bits.shape[0]
    freq = bits.mean(axis=0)
    tolerance = params.bit_tolerance
    usable = (freq < 1 - tolerance / 2) & (freq > 0)
    threshold = 1 - tolerance - 0.1
    blocks: list[Block] = []
    seen_columns: list[set[int]] = []
    for position in np.argsort(-freq):
        if not usable[position] or freq[position] * n < params.min_count:
            continue
        grown = _grow(bits, np.flatnonzero(bits[:, position]), width, usable, threshold,
                      params.min_count)
        if grown is None:
            continue
        columns, holding = grown
        as_set = set(columns.tolist())
        if any(len(as_set & other) >= 0.8 * max(len(as_set), len(other))
               for other in seen_columns):
            continue
        density = float(bits[np.ix_(holding, columns)].mean())
        if density < 0.9 * (1 - params.flip_probability) - 0.05:
            continue
        seen_columns.append(as_set)
        blocks.append(Block(columns, holding, float(holding.mean())))
    return blocks


def _closure_sizes(table: TokenTable, kept: np.ndarray) -> np.ndarray:
    """Tokens that a block seeded in each group would include.

    A group's block also covers the groups present in every record that has
    it (a year's block includes its three window tokens).
    """
    present = table.present[:, kept].astype(np.float32)
    counts = present.sum(axis=0)
    together = present.T @ present
    conditional = together / np.maximum(counts[:, None], 1)
    always = conditional >= 0.97
    return always.astype(np.float32) @ table.sizes[kept].astype(np.float32)


def align_blocks(blocks: list[Block], table: TokenTable, params: AttackParams,
                 rounds: int = 5, reject: float = 6.0) -> list[Unit]:
    """Align mined blocks with token groups (see the module docstring)."""
    if not blocks:
        return []
    m = table.present.shape[0]
    counts = table.present.sum(axis=0)
    kept = np.flatnonzero(counts >= params.min_count)
    if kept.size == 0:
        return []
    freq = counts[kept] / m
    sizes = np.array([params.expected_positions(int(z)) for z in _closure_sizes(table, kept)])
    support = np.array([b.support for b in blocks])
    width = np.array([b.positions.size for b in blocks], dtype=float)
    rows = np.stack([b.rows for b in blocks], axis=1).astype(np.float32)
    block_cond = (rows.T @ rows) / np.maximum(rows.sum(axis=0)[:, None], 1)
    present = table.present[:, kept].astype(np.float32)
    token_cond = (present.T @ present) / np.maximum(present.sum(axis=0)[:, None], 1)
    def base_cost(scale: float) -> np.ndarray:
        return (np.abs(np.log(support[:, None] / (scale * freq[None, :]))) / 0.35
                + np.abs(width[:, None] - sizes[None, :]) / (0.25 * sizes[None, :]))

    # Registers record fewer tokens than a clean public list (typos, partial
    # dates): supports are scaled down by a factor the attacker estimates
    # from its own alignment, starting from none.
    scale = 1.0
    base = base_cost(scale)
    cost = base
    pairs: list[tuple[int, int]] = []
    share = 0.1
    for round_ in range(rounds + 1):
        padded = np.hstack([cost, np.full((len(blocks), len(blocks)), reject)])
        r, c = linear_sum_assignment(padded)
        pairs = [(int(i), int(j)) for i, j in zip(r, c, strict=True)
                 if j < cost.shape[1] and cost[i, j] < reject]
        if round_ == rounds or len(pairs) < 3:
            break
        # Anchors: the alignments that stand out most from their runner-up,
        # in the block's row and in the token's column.
        margins = []
        for i, j in pairs:
            row = np.delete(cost[i], j)
            column = np.delete(cost[:, j], i)
            runner_up = min(row.min() if row.size else reject, column.min() if column.size else reject)
            margins.append(runner_up - cost[i, j])
        order = np.argsort(margins)[::-1]
        anchors = [pairs[k] for k in order[:max(3, int(share * len(pairs)))]]
        share = min(1.0, share * 2)
        a_blocks = [i for i, _ in anchors]
        a_tokens = [j for _, j in anchors]
        scale = float(np.median(support[a_blocks] / freq[a_tokens]))
        base = base_cost(scale)
        # How each block co-occurs with the anchor blocks (both directions),
        # against how each token co-occurs with the anchor tokens.
        forward = np.abs(block_cond[:, a_blocks][:, None, :]
                         - token_cond[:, a_tokens][None, :, :]).mean(axis=2)
        backward = np.abs(block_cond[a_blocks, :].T[:, None, :]
                          - token_cond[a_tokens, :].T[None, :, :]).mean(axis=2)
        cost = base + (forward + backward) / 0.05
    return [Unit((table.vocab[kept[j]],), blocks[i].positions) for i, j in pairs]


def pattern_mining_units(bits: np.ndarray, table: TokenTable,
                         params: AttackParams) -> list[Unit]:
    """Mine itemsets and align them: the whole attack up to re-identification."""
    counts = table.present.sum(axis=0)
    frequent = counts >= params.min_count
    if not frequent.any():
        return []
    smallest = int(table.sizes[frequent].min())
    width = max(2, int(0.8 * params.expected_positions(smallest)))
    return align_blocks(mine_blocks(bits, params, width), table, params)

