"""Safe publication of capture-history tables: small-cell suppression.

What is published, and what an intruder can do with it:

* every non-zero capture-history cell (people seen by exactly that set of
  parties) unless suppressed; zero cells are left out, so a listed cell,
  even suppressed, is known to be at least 1;
* the totals ``unique_entities`` (the sum of all cells) and
  ``unique_per_party`` (for each party, the sum of the cells containing it);
* for stratified tables, the same per stratum and overall, where every
  overall cell is the sum of the stratum cells with the same history.

Each published number is a linear equation in the exact cells. A suppressed
cell is protected when, given all published equations, non-negativity, and
the known ``>= 1`` of listed cells, its feasible range (computed with a
linear program, the "audit") is wide enough:

* a primary cell (``0 < count < K``) must be able to reach ``K``: nobody can
  tell that it is a small cell;
* any other suppressed number (secondary cells, totals) must not be exactly
  recoverable (its integer range holds at least two values).

:func:`suppress` finds a pattern: primary cells first, then secondary
suppression chosen greedily (the cell of smallest count that fixes, or most
widens, a failing cell), escalating to totals only when no set of cells can
protect (two parties: the totals alone give the overlap by
inclusion-exclusion), then publishing back whatever the audit shows is not
needed. :func:`audit` is independent of how the pattern was found.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import linprog

DEFAULT_MIN_CELL_COUNT = 5

_EPS = 1e-7
_MAX_TRIALS = 40


@dataclass(frozen=True)
class Item:
    """One published number: the sum of some exact base cells.

    Attributes:
        key: identifies the item for the caller (e.g. a history, a total name).
        support: indices of the base cells it adds up.
        value: its exact value.
        kind: ``cell`` (may be suppressed freely), ``total`` (an exact sum,
            suppressed only when cells cannot protect), ``count`` (an exact
            sum that involves more than cells, such as a stratum's record
            count, which adds unobserved duplicate counts; withheld after
            totals) or ``bound`` (a published upper bound on the sum, such
            as a party's record count, which is at least its number of
            unique people).
    """

    key: Any
    support: tuple[int, ...]
    value: int
    kind: Literal["cell", "total", "count", "bound"]


@dataclass(frozen=True)
class Interval:
    """An intruder's feasible range for a suppressed number (integer-rounded)."""

    low: float
    high: float

    @property
    def width(self) -> float:
        """``high - low`` (``inf`` when unbounded)."""
        return self.high - self.low


def feasible_interval(
    nbase: int, items: Sequence[Item], hidden: Iterable[int], target: int
) -> Interval:
    """Smallest and largest value of ``items[target]`` consistent with what is published.

    Linear-programming bounds over non-negative base cells subject to every
    published (not hidden) item's equation and ``>= 1`` for hidden non-zero
    cells; rounded inwards to integers since counts are integers.
    """
    hidden = set(hidden)
    eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []
    for i, item in enumerate(items):
        row = np.zeros(nbase)
        row[list(item.support)] = 1.0
        if i not in hidden and item.kind == "bound":
            ub_rows.append(row)
            ub_rhs.append(float(item.value))
        elif i not in hidden:
            eq_rows.append(row)
            eq_rhs.append(float(item.value))
        elif item.kind == "cell" and item.value > 0:
            ub_rows.append(-row)
            ub_rhs.append(-1.0)
    objective = np.zeros(nbase)
    objective[list(items[target].support)] = 1.0
    kwargs: dict[str, Any] = {"bounds": (0, None), "method": "highs"}
    if eq_rows:
        kwargs["A_eq"], kwargs["b_eq"] = np.array(eq_rows), np.array(eq_rhs)
    if ub_rows:
        kwargs["A_ub"], kwargs["b_ub"] = np.array(ub_rows), np.array(ub_rhs)
    low = linprog(objective, **kwargs)
    high = linprog(-objective, **kwargs)
    lo = math.ceil(low.fun - _EPS) if low.status == 0 else 0.0
    if high.status == 3:  # unbounded
        hi = math.inf
    elif high.status == 0:
        hi = math.floor(-high.fun + _EPS)
    else:  # infeasible cannot happen for true data; treat as exposed
        hi = lo
    return Interval(float(lo), float(hi))


def is_protected(item: Item, interval: Interval, min_cell_count: int) -> bool:
    """The protection rule (see the module docstring)."""
    if item.kind == "cell" and 0 < item.value < min_cell_count:
        return interval.high >= min_cell_count and interval.width >= 1
    return interval.width >= 1


def audit(
    nbase: int, items: Sequence[Item], hidden: Iterable[int], min_cell_count: int
) -> dict[int, tuple[Interval, bool]]:
    """Feasible interval and protection verdict of every hidden item."""
    hidden = set(hidden)
    out = {}
    for i in sorted(hidden):
        interval = feasible_interval(nbase, items, hidden, i)
        out[i] = (interval, is_protected(items[i], interval, min_cell_count))
    return out


def suppress(
    nbase: int,
    items: Sequence[Item],
    min_cell_count: int,
    start: Iterable[int] = (),
    fixed: Iterable[int] = (),
    release: Iterable[int] | None = None,
) -> frozenset[int]:
    """A suppression pattern (item indices) that passes :func:`audit`.

    Args:
        nbase: number of exact base cells.
        items: every published number (cells and totals).
        min_cell_count: K; cells with ``0 < value < K`` are primary. 0 or 1
            turns suppression off.
        start: items to withhold from the outset besides the primary cells
            (a pattern built another way, completed here).
        fixed: items never chosen for secondary suppression (unless nothing
            else is left), such as an overall table already published.
        release: the secondary items that may be published back at the end
            when the audit allows (default: all of them).
    """
    if min_cell_count <= 1:
        return frozenset()
    hidden = {
        i for i, it in enumerate(items) if it.kind == "cell" and 0 < it.value < min_cell_count
    }
    if not hidden:
        return frozenset()
    primary = frozenset(hidden)
    hidden |= set(start)
    keep_out = frozenset(fixed)

    def first_failing(pattern: set[int], order: Sequence[int]) -> int | None:
        # Only the first failing item (in ``order``) is needed, so the audit
        # stops there: the same answer as a full audit, with fewer LPs.
        for i in order:
            interval = feasible_interval(nbase, items, pattern, i)
            if not is_protected(items[i], interval, min_cell_count):
                return i
        return None

    def failing() -> list[int]:
        order = sorted(hidden, key=lambda i: (i not in primary, i))
        bad = first_failing(hidden, order)
        return [] if bad is None else [bad]

    # The grand total(s): an equation over everything says nothing about
    # which cells are related.
    grand = max((len(it.support) for it in items if it.kind == "total"), default=nbase)

    def candidates(kind: str, target: int, allow_fixed: bool = False) -> list[int]:
        # Base cells that share a published equation (other than a grand
        # total) with the target: hiding one of them is what can help.
        tsup = set(items[target].support)
        near: set[int] = set()
        for it in items:
            if (
                not (it.kind == "total" and len(it.support) >= grand)
                and len(it.support) < nbase
                and tsup.intersection(it.support)
            ):
                near.update(it.support)
        pool = [
            i
            for i, it in enumerate(items)
            if i not in hidden and it.kind == kind and (it.value > 0 or kind != "cell")
        ]
        if not allow_fixed:
            pool = [i for i in pool if i not in keep_out]
        # Related first, then cheapest: small cells lose least; for totals,
        # per-group totals before grand totals (larger support last).
        return sorted(
            pool,
            key=lambda i: (
                not near.intersection(items[i].support),
                len(items[i].support),
                items[i].value,
                i,
            ),
        )

    bad = failing()
    while bad:
        target = bad[0]
        before = feasible_interval(nbase, items, hidden, target)
        choice = None
        # Fixed items are the very last resort, after every kind of the others.
        passes = [(kind, False) for kind in ("cell", "total", "count", "bound")]
        if keep_out:
            passes += [(kind, True) for kind in ("cell", "total", "count", "bound")]
        for kind, allow_fixed in passes:
            best_gain, best = 0.0, None
            # Trying every candidate costs two LPs each; the related,
            # cheapest ones are tried first and the search is capped.
            for c in candidates(kind, target, allow_fixed)[:_MAX_TRIALS]:
                after = feasible_interval(nbase, items, hidden | {c}, target)
                if is_protected(items[target], after, min_cell_count):
                    choice = c
                    break
                gain = after.width - before.width
                if gain > best_gain:
                    best_gain, best = gain, c
            if choice is None and best is not None:
                choice = best
            if choice is None:
                # No single addition helps yet (several are needed together):
                # take the cheapest and go on; hiding more never hurts.
                pool = candidates(kind, target, allow_fixed)
                choice = pool[0] if pool else None
            if choice is not None:
                break
        if choice is None:
            break  # everything is hidden already
        hidden.add(choice)
        bad = failing()
    # Publish back what is not needed, most valuable first (grand totals,
    # then group totals, then large cells).
    releasable = set(hidden) if release is None else set(release) | (hidden - set(start))
    secondary = sorted(
        (i for i in hidden if i not in primary and i in releasable),
        key=lambda i: (items[i].kind == "cell", -len(items[i].support), -items[i].value),
    )
    for i in secondary:
        trial = hidden - {i}
        # Items sharing a base cell with the one published back are the
        # likeliest to fail: check them first (the verdict is the same).
        support = set(items[i].support)
        order = sorted(trial, key=lambda j: (not support.intersection(items[j].support), j))
        if first_failing(trial, order) is None:
            hidden = trial
    return frozenset(hidden)


# --------------------------------------------------------------------------
# Capture-history tables
# --------------------------------------------------------------------------


def _masks(parties: Sequence[str]) -> list[int]:
    return list(range(1, 1 << len(parties)))


def _mask_of(key: Iterable[str], index: Mapping[str, int]) -> int:
    return sum(1 << index[p] for p in key)


def _key_of(mask: int, parties: Sequence[str]) -> frozenset[str]:
    return frozenset(p for i, p in enumerate(parties) if mask >> i & 1)


def table_items(
    parties: Sequence[str],
    tables: Sequence[Mapping[frozenset[str], int]],
    labels: Sequence[str | None],
) -> tuple[int, list[Item]]:
    """Published items for one or more strata of the same parties.

    With one table (label ``None``) the items are its cells and totals. With
    several, base cells are (stratum, history) pairs and the items are each
    stratum's cells and totals plus the overall cells and totals.
    """
    index = {p: i for i, p in enumerate(parties)}
    masks = _masks(parties)
    ncell = len(masks)
    items: list[Item] = []
    for s, (table, label) in enumerate(zip(tables, labels, strict=True)):
        values = [0] * ncell
        for key, count in table.items():
            if key:
                values[_mask_of(key, index) - 1] += int(count)
        offset = s * ncell
        for j, mask in enumerate(masks):
            items.append(
                Item(("cell", label, _key_of(mask, parties)), (offset + j,), values[j], "cell")
            )
        items.append(
            Item(
                ("unique_entities", label, None),
                tuple(range(offset, offset + ncell)),
                sum(values),
                "total",
            )
        )
        for p, i in index.items():
            support = tuple(offset + j for j, mask in enumerate(masks) if mask >> i & 1)
            items.append(
                Item(
                    ("unique_per_party", label, p),
                    support,
                    sum(values[j] for j, mask in enumerate(masks) if mask >> i & 1),
                    "total",
                )
            )
    nbase = ncell * len(tables)
    if len(tables) > 1:
        base_values = {}
        for it in items:
            if it.kind == "cell":
                base_values[it.support[0]] = it.value
        for j, mask in enumerate(masks):
            support = tuple(s * ncell + j for s in range(len(tables)))
            items.append(
                Item(
                    ("cell", None, _key_of(mask, parties)),
                    support,
                    sum(base_values[b] for b in support),
                    "cell",
                )
            )
        everything = tuple(range(nbase))
        items.append(
            Item(("unique_entities", None, None), everything, sum(base_values.values()), "total")
        )
        for p, i in index.items():
            support = tuple(
                s * ncell + j
                for s in range(len(tables))
                for j, mask in enumerate(masks)
                if mask >> i & 1
            )
            items.append(
                Item(
                    ("unique_per_party", None, p),
                    support,
                    sum(base_values[b] for b in support),
                    "total",
                )
            )
    return nbase, items


@dataclass(frozen=True)
class TableProtection:
    """The suppression pattern of one (unstratified) table.

    Attributes:
        suppressed: histories whose counts are withheld.
        suppressed_totals: ``"unique_entities"``, ``"unique_per_party:NAME"``
            and/or ``"records:NAME"`` withheld because cells alone could not
            protect.
        intervals: each withheld history's feasible range for an intruder.
    """

    suppressed: frozenset[frozenset[str]]
    suppressed_totals: frozenset[str]
    intervals: Mapping[frozenset[str], Interval]


def _total_name(key: tuple) -> str:
    return "unique_entities" if key[0] == "unique_entities" else f"{key[0]}:{key[2]}"


def record_bounds(
    parties: Sequence[str], records: Mapping[str, int] | None, items: Sequence[Item]
) -> list[Item]:
    """Published record counts as upper bounds on each party's unique people."""
    out = []
    for it in items:
        if it.kind == "total" and it.key[0] == "unique_per_party" and it.key[1] is None:
            party = it.key[2]
            value = (records or {}).get(party)
            # A record count below the unique count is not real data; skip it.
            if isinstance(value, int) and value >= it.value:
                out.append(Item(("records", None, party), it.support, value, "bound"))
    return out


def protect_table(
    parties: Sequence[str],
    histories: Mapping[frozenset[str], int],
    min_cell_count: int = DEFAULT_MIN_CELL_COUNT,
    records: Mapping[str, int] | None = None,
) -> TableProtection:
    """Suppress small cells of one capture-history table, with secondary suppression.

    Args:
        parties: the parties (sorted or not; order is irrelevant).
        histories: exact counts by set of parties.
        min_cell_count: K; 0 turns suppression off.
        records: published record counts per party; each bounds the party's
            unique count from above (a party with 3 records has at most 3
            people), so the audit uses them too.
    """
    parties = list(parties)
    if min_cell_count <= 1 or not any(0 < v < min_cell_count for v in histories.values()):
        return TableProtection(frozenset(), frozenset(), {})
    nbase, items = table_items(parties, [histories], [None])
    items = items + record_bounds(parties, records, items)
    hidden = suppress(nbase, items, min_cell_count)
    verdicts = audit(nbase, items, hidden, min_cell_count)
    cells = {items[i].key[2]: verdicts[i][0] for i in hidden if items[i].kind == "cell"}
    totals = frozenset(_total_name(items[i].key) for i in hidden if items[i].kind != "cell")
    return TableProtection(frozenset(cells), totals, cells)


def _cells_json(
    parties: Sequence[str], values: Mapping[frozenset[str], int], hidden: set[frozenset[str]]
) -> list[dict[str, Any]]:
    out = []
    for key in sorted(
        (k for k, v in values.items() if v > 0 and k), key=lambda k: (len(k), sorted(k))
    ):
        if key in hidden:
            out.append({"parties": sorted(key), "count": None, "suppressed": True})
        else:
            out.append({"parties": sorted(key), "count": values[key], "suppressed": False})
    return out


# --------------------------------------------------------------------------
# Stratified releases
# --------------------------------------------------------------------------

#: A block of a stratified release: ``None`` for the overall table, else
#: ``(variable, value)``, e.g. ``("sex", "F")``.
Block = tuple[str, str] | None
Combo = tuple[str, ...]


def stratified_items(
    parties: Sequence[str],
    variables: Sequence[str],
    joint: Mapping[tuple[Combo, frozenset[str]], int],
    combo_records: Mapping[Combo, Mapping[str, int]] | None = None,
) -> tuple[int, list[Item]]:
    """Published items of an overall table and its strata, over joint base cells.

    Base cells are the exact counts by (combination of stratum values,
    capture history): the finest table, never published itself. Every
    published block (the overall table, and each value of each stratum
    variable) is a set of sums of base cells: its non-zero cells, its
    ``unique_entities`` and ``unique_per_party``. With record counts, each
    (combination, party) also gets a free non-negative base variable, its
    duplicate records, so a block's record count per party is an exact sum
    (``count`` item): the unique people plus their duplicates. That is
    exactly what an intruder knows: record counts add up over strata and
    are never below the unique counts.

    Args:
        parties: the parties.
        variables: the stratum variables (each combination has one value per
            variable, in this order).
        joint: exact counts by (combination, set of parties).
        combo_records: records per combination and party, or ``None`` when
            record counts are not published per stratum.

    Returns:
        ``(nbase, items)``; item keys are ``(kind, block, detail)`` with kind
        ``cell`` (detail: the history), ``unique_entities`` (``None``),
        ``unique_per_party`` or ``records`` (the party).
    """
    names = list(parties)
    index = {p: i for i, p in enumerate(names)}
    masks = _masks(names)
    ncell = len(masks)
    combos = sorted({c for c, _ in joint} | set(combo_records or {}))
    at = {c: k for k, c in enumerate(combos)}
    values = [0] * (ncell * len(combos))
    for (combo, key), count in joint.items():
        if key:
            values[at[combo] * ncell + _mask_of(key, index) - 1] += int(count)
    ncellvars = ncell * len(combos)
    nbase = ncellvars + (len(combos) * len(names) if combo_records is not None else 0)

    blocks: list[tuple[Block, list[int]]] = [(None, list(range(len(combos))))]
    for v, variable in enumerate(variables):
        for value in sorted({c[v] for c in combos}):
            blocks.append(((variable, value), [k for k, c in enumerate(combos) if c[v] == value]))

    items: list[Item] = []
    for block, members in blocks:
        for j, mask in enumerate(masks):
            support = tuple(k * ncell + j for k in members)
            items.append(
                Item(
                    ("cell", block, _key_of(mask, names)),
                    support,
                    sum(values[b] for b in support),
                    "cell",
                )
            )
        support = tuple(k * ncell + j for k in members for j in range(ncell))
        items.append(
            Item(
                ("unique_entities", block, None), support, sum(values[b] for b in support), "total"
            )
        )
        for p, i in index.items():
            support = tuple(
                k * ncell + j for k in members for j, mask in enumerate(masks) if mask >> i & 1
            )
            items.append(
                Item(
                    ("unique_per_party", block, p),
                    support,
                    sum(values[b] for b in support),
                    "total",
                )
            )
        if combo_records is not None:
            for p, i in index.items():
                cells = tuple(
                    k * ncell + j for k in members for j, mask in enumerate(masks) if mask >> i & 1
                )
                dups = tuple(ncellvars + k * len(names) + i for k in members)
                total = sum(int(combo_records.get(combos[k], {}).get(p, 0)) for k in members)
                items.append(Item(("records", block, p), cells + dups, total, "count"))
    return nbase, items


@dataclass(frozen=True)
class StratifiedProtection:
    """The suppression pattern of a stratified release.

    Attributes:
        hidden: keys (as in :func:`stratified_items`) of the withheld items.
        intervals: each withheld item's feasible range for an intruder.
    """

    hidden: frozenset[tuple]
    intervals: Mapping[tuple, Interval]

    def cells(self, block: Block) -> set[frozenset[str]]:
        """Withheld histories of one block."""
        return {k[2] for k in self.hidden if k[0] == "cell" and k[1] == block}

    def withheld(self, kind: str, block: Block, detail: str | None = None) -> bool:
        """Whether a total (``unique_entities``, ``unique_per_party``, ``records``) is withheld."""
        return (kind, block, detail) in self.hidden


def _block_tables(
    parties: Sequence[str],
    variables: Sequence[str],
    joint: Mapping[tuple[Combo, frozenset[str]], int],
    combo_records: Mapping[Combo, Mapping[str, int]] | None,
) -> dict[Block, tuple[Counter[frozenset[str]], dict[str, int] | None]]:
    """Exact histories and records of every block (overall and each value)."""
    out: dict[Block, tuple[Counter[frozenset[str]], dict[str, int] | None]] = {}
    combos = sorted({c for c, _ in joint} | set(combo_records or {}))
    blocks: list[tuple[Block, list[Combo]]] = [(None, combos)]
    for v, variable in enumerate(variables):
        for value in sorted({c[v] for c in combos}):
            blocks.append(((variable, value), [c for c in combos if c[v] == value]))
    for block, members in blocks:
        chosen = set(members)
        table: Counter[frozenset[str]] = Counter()
        for (combo, key), count in joint.items():
            if combo in chosen and key:
                table[key] += int(count)
        records = None
        if combo_records is not None:
            records = {
                p: sum(int(combo_records.get(c, {}).get(p, 0)) for c in members) for p in parties
            }
        out[block] = (table, records)
    return out


def _block_start(
    parties: Sequence[str],
    variables: Sequence[str],
    items: Sequence[Item],
    tables: Mapping[Block, tuple[Counter[frozenset[str]], dict[str, int] | None]],
    min_cell_count: int,
) -> tuple[set[int], set[int]]:
    """A first stratified pattern built block by block; returns ``(hidden, overall)``.

    1. The overall table is protected on its own, exactly as without strata
       (so strata never cost the headline table anything, where possible).
    2. Each stratum is protected on its own (:func:`protect_table`).
    3. Overall cells are sums of stratum cells, and overall totals sums of
       stratum totals: wherever exactly one stratum of a variable withholds
       a number the overall table publishes, subtraction would give it back,
       so the same number is withheld in a second stratum, the one where it
       is smallest (mirroring the first stratum's pattern keeps both valid).

    The joint audit in :func:`protect_stratified` checks the result.
    """
    where = {it.key: i for i, it in enumerate(items)}

    def keys_of(block: Block, protection: TableProtection) -> set[tuple]:
        keys = {("cell", block, h) for h in protection.suppressed}
        for name in protection.suppressed_totals:
            if name == "unique_entities":
                keys.add(("unique_entities", block, None))
            else:
                field, party = name.split(":", 1)
                keys.add((field, block, party))
        return keys

    hidden_keys: set[tuple] = set()
    overall_keys: set[tuple] = set()
    for block, (table, records) in tables.items():
        protection = protect_table(parties, table, min_cell_count, records)
        keys = keys_of(block, protection)
        hidden_keys |= keys
        if block is None:
            overall_keys = keys
    for variable in variables:
        values = [b for b in tables if b is not None and b[0] == variable]
        details = {(k[0], k[2]) for k in hidden_keys if k[1] in values}
        for kind, detail in sorted(details, key=repr):
            if (kind, None, detail) in hidden_keys:
                continue  # the overall number is withheld too
            holders = [b for b in values if (kind, b, detail) in hidden_keys]
            if len(holders) != 1:
                continue
            others = [
                (items[where[(kind, b, detail)]].value, b)
                for b in values
                if b not in holders and items[where[(kind, b, detail)]].value > 0
            ]
            if others:
                hidden_keys.add((kind, min(others, key=lambda t: (t[0], repr(t[1])))[1], detail))
            else:
                hidden_keys.add((kind, None, detail))
    hidden = {where[k] for k in hidden_keys if k in where}
    return hidden, {where[k] for k in overall_keys if k in where}


def protect_stratified(
    parties: Sequence[str],
    variables: Sequence[str],
    joint: Mapping[tuple[Combo, frozenset[str]], int],
    combo_records: Mapping[Combo, Mapping[str, int]] | None = None,
    min_cell_count: int = DEFAULT_MIN_CELL_COUNT,
) -> StratifiedProtection:
    """Suppress small cells of an overall table and all its strata jointly.

    Every overall cell is the sum of its stratum cells, and (with several
    variables, such as sex and age band) every block is a sum over the same
    joint cells, so each block's suppression must hold against all the
    others. Primary cells are the small cells (``0 < count < K``) of any
    block. A first pattern is built block by block (:func:`_block_start`);
    the joint audit then checks every withheld number against everything
    published, and where it fails, the greedy secondary suppression of
    :func:`suppress` completes the pattern, preferring stratum numbers to
    the overall table's.

    Args:
        parties: the parties.
        variables: the stratum variables.
        joint: exact counts by (combination of values, set of parties).
        combo_records: records per combination and party (published per
            block), or ``None``.
        min_cell_count: K; 0 turns suppression off.
    """
    names = sorted(parties)
    nbase, items = stratified_items(names, variables, joint, combo_records)
    if min_cell_count <= 1 or not any(
        it.kind == "cell" and 0 < it.value < min_cell_count for it in items
    ):
        return StratifiedProtection(frozenset(), {})
    tables = _block_tables(names, variables, joint, combo_records)
    start, overall = _block_start(names, variables, items, tables, min_cell_count)
    verdicts = audit(nbase, items, start, min_cell_count)
    if all(ok for _, ok in verdicts.values()):
        hidden = frozenset(start)
    else:
        fixed = {i for i, it in enumerate(items) if it.key[1] is None} - overall
        hidden = suppress(nbase, items, min_cell_count, start=start, fixed=fixed, release=())
        verdicts = audit(nbase, items, hidden, min_cell_count)
    return StratifiedProtection(
        frozenset(items[i].key for i in hidden), {items[i].key: verdicts[i][0] for i in hidden}
    )


def stratified_counts(
    parties: Sequence[str],
    strata: Mapping[str, Mapping[frozenset[str], int]],
    min_cell_count: int = DEFAULT_MIN_CELL_COUNT,
    records: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """Per-stratum and overall capture histories of one stratum variable, protected jointly.

    A stratum is a clear, non-identifying attribute that travels in the
    extract (sex, age band). Published: for every stratum and overall, the
    non-zero cells, ``unique_entities`` and ``unique_per_party`` (and
    ``records`` when given). Because overall cells are sums of stratum
    cells, a stratum cell suppressed on its own could be recovered by
    subtraction; the joint audit covers that. (``tiplink link`` and the
    service build COUNTS.json's ``strata`` with :func:`protect_stratified`,
    which also handles several variables at once.)

    Args:
        parties: the parties.
        strata: for each stratum label, exact counts by set of parties.
        min_cell_count: K; 0 turns suppression off.
        records: for each stratum label, records per party (optional).

    Returns:
        ``{"parties", "min_cell_count", "overall": {...}, "strata": {label:
        {...}}}`` where each block has ``unique_entities``,
        ``unique_per_party`` (``None`` where withheld),
        ``capture_histories`` in the COUNTS.json cell format, and
        ``records`` when given.
    """
    names = sorted(parties)
    labels = sorted(strata)
    if not labels:
        raise ValueError("stratified_counts needs at least one stratum")
    joint = {((label,), key): count for label in labels for key, count in strata[label].items()}
    combo_records = (
        {(label,): dict(records.get(label, {})) for label in labels}
        if records is not None
        else None
    )
    protection = protect_stratified(names, ["stratum"], joint, combo_records, min_cell_count)
    _, items = stratified_items(names, ["stratum"], joint, combo_records)
    doc: dict[str, Any] = {"parties": names, "min_cell_count": min_cell_count}
    doc["overall"] = release_block(names, items, protection, None)
    doc["strata"] = {
        label: release_block(names, items, protection, ("stratum", label)) for label in labels
    }
    return doc


def release_block(
    parties: Sequence[str], items: Sequence[Item], protection: StratifiedProtection, block: Block
) -> dict[str, Any]:
    """One block of a stratified release in the COUNTS.json format.

    Returns:
        ``unique_entities``, ``unique_per_party``, ``capture_histories`` and,
        where the items have them, ``records``; withheld numbers are ``None``
        and suppressed cells ``{"count": null, "suppressed": true}``.
    """
    mine = [it for it in items if it.key[1] == block]
    values = {it.key[2]: it.value for it in mine if it.kind == "cell"}
    totals = {(it.key[0], it.key[2]): it.value for it in mine if it.kind != "cell"}

    def shown(kind: str, detail: str | None) -> int | None:
        return None if (kind, block, detail) in protection.hidden else totals[(kind, detail)]

    out: dict[str, Any] = {}
    if any(k == "records" for k, _ in totals):
        out["records"] = {p: shown("records", p) for p in parties}
    out["unique_entities"] = shown("unique_entities", None)
    out["unique_per_party"] = {p: shown("unique_per_party", p) for p in parties}
    out["capture_histories"] = _cells_json(parties, values, protection.cells(block))
    return out


def audit_stratified_document(
    parties: Sequence[str],
    variables: Sequence[str],
    joint: Mapping[tuple[Combo, frozenset[str]], int],
    combo_records: Mapping[Combo, Mapping[str, int]] | None,
    doc: Mapping[str, Any],
    min_cell_count: int,
) -> dict[tuple, tuple[Interval, bool]]:
    """Audit a published stratified COUNTS.json against the exact joint counts.

    Reads what the document withholds (suppressed cells, cells missing
    although non-zero, ``null`` totals and record counts) from the overall
    block (the document's top level) and from ``doc["strata"][variable]
    [value]``, and returns every withheld item's feasible interval given
    everything published, and whether it meets the protection rule. It does
    not look at how the pattern was chosen.
    """
    names = sorted(parties)
    nbase, items = stratified_items(names, variables, joint, combo_records)

    def block_doc(block: Block) -> Mapping[str, Any] | None:
        if block is None:
            return doc
        return doc.get("strata", {}).get(block[0], {}).get(block[1])

    hidden = set()
    for i, it in enumerate(items):
        published = block_doc(it.key[1])
        if published is None:
            # A whole block left out: all its non-zero numbers are withheld.
            if it.value > 0:
                hidden.add(i)
            continue
        kind, _, detail = it.key
        if kind == "cell":
            listed = {frozenset(c["parties"]): c for c in published.get("capture_histories", [])}
            cell = listed.get(detail)
            if it.value > 0 and (cell is None or cell.get("suppressed") or cell["count"] is None):
                hidden.add(i)
        elif kind == "unique_entities":
            if published.get("unique_entities") is None:
                hidden.add(i)
        else:
            field = "records" if kind == "records" else "unique_per_party"
            if (published.get(field) or {}).get(detail) is None:
                hidden.add(i)
    verdicts = audit(nbase, items, hidden, min_cell_count)
    return {items[i].key: verdicts[i] for i in hidden}


def audit_document_cells(
    parties: Sequence[str],
    exact: Mapping[frozenset[str], int],
    published: Sequence[Mapping[str, Any]],
    unique_entities: int | None,
    unique_per_party: Mapping[str, int | None],
    min_cell_count: int,
    records: Mapping[str, int | None] | None = None,
) -> dict[frozenset[str], tuple[Interval, bool]]:
    """Audit a published COUNTS.json-style block against the exact table.

    Used by tests and by operators to check a document independently of how
    its suppression pattern was chosen: returns each suppressed history's
    feasible interval and whether it meets the protection rule.
    """
    nbase, items = table_items(list(parties), [exact], [None])
    items = items + record_bounds(
        parties, {k: v for k, v in (records or {}).items() if v is not None}, items
    )
    shown = {frozenset(c["parties"]) for c in published if not c.get("suppressed")}
    hidden = set()
    for i, it in enumerate(items):
        if it.kind == "cell" and it.value > 0 and it.key[2] not in shown:
            hidden.add(i)
        if it.kind == "total":
            if it.key[0] == "unique_entities" and unique_entities is None:
                hidden.add(i)
            if it.key[0] == "unique_per_party" and unique_per_party.get(it.key[2]) is None:
                hidden.add(i)
    verdicts = audit(nbase, items, hidden, min_cell_count)
    return {items[i].key[2]: verdicts[i] for i in hidden if items[i].kind == "cell"}
