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
            suppressed only when cells cannot protect) or ``bound`` (a
            published upper bound on the sum, such as a party's record
            count, which is at least its number of unique people).
    """

    key: Any
    support: tuple[int, ...]
    value: int
    kind: Literal["cell", "total", "bound"]


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


def suppress(nbase: int, items: Sequence[Item], min_cell_count: int) -> frozenset[int]:
    """A suppression pattern (item indices) that passes :func:`audit`.

    Args:
        nbase: number of exact base cells.
        items: every published number (cells and totals).
        min_cell_count: K; cells with ``0 < value < K`` are primary. 0 or 1
            turns suppression off.
    """
    if min_cell_count <= 1:
        return frozenset()
    hidden = {
        i for i, it in enumerate(items) if it.kind == "cell" and 0 < it.value < min_cell_count
    }
    if not hidden:
        return frozenset()
    primary = frozenset(hidden)

    def failing() -> list[int]:
        verdicts = audit(nbase, items, hidden, min_cell_count)
        bad = [i for i, (_, ok) in verdicts.items() if not ok]
        return sorted(bad, key=lambda i: (i not in primary, i))

    def candidates(kind: str, target: int) -> list[int]:
        # Base cells that share a published equation (other than a grand
        # total) with the target: hiding one of them is what can help.
        tsup = set(items[target].support)
        near: set[int] = set()
        for it in items:
            if len(it.support) < nbase and tsup.intersection(it.support):
                near.update(it.support)
        pool = [
            i
            for i, it in enumerate(items)
            if i not in hidden and it.kind == kind and (it.value > 0 or kind != "cell")
        ]
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
        for kind in ("cell", "total", "bound"):
            best_gain, best = 0.0, None
            # Trying every candidate costs two LPs each; the related,
            # cheapest ones are tried first and the search is capped.
            for c in candidates(kind, target)[:_MAX_TRIALS]:
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
                pool = candidates(kind, target)
                choice = pool[0] if pool else None
            if choice is not None:
                break
        if choice is None:
            break  # everything is hidden already
        hidden.add(choice)
        bad = failing()
    # Publish back what is not needed, most valuable first (grand totals,
    # then group totals, then large cells).
    secondary = sorted(
        (i for i in hidden if i not in primary),
        key=lambda i: (items[i].kind == "cell", -len(items[i].support), -items[i].value),
    )
    for i in secondary:
        trial = hidden - {i}
        if all(ok for _, ok in audit(nbase, items, trial, min_cell_count).values()):
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


def stratified_counts(
    parties: Sequence[str],
    strata: Mapping[str, Mapping[frozenset[str], int]],
    min_cell_count: int = DEFAULT_MIN_CELL_COUNT,
) -> dict[str, Any]:
    """Per-stratum and overall capture histories, protected jointly.

    A stratum is a clear, non-identifying attribute that travels in the
    extract (sex, age band). Published: for every stratum and overall, the
    non-zero cells, ``unique_entities`` and ``unique_per_party``. Because
    overall cells are sums of stratum cells, a stratum cell suppressed on
    its own could be recovered by subtraction; the joint audit covers that.

    Args:
        parties: the parties.
        strata: for each stratum label, exact counts by set of parties.
        min_cell_count: K; 0 turns suppression off.

    Returns:
        ``{"parties", "min_cell_count", "overall": {...}, "strata": {label:
        {...}}}`` where each block has ``unique_entities``,
        ``unique_per_party`` (``None`` where withheld) and
        ``capture_histories`` in the COUNTS.json cell format.
    """
    names = sorted(parties)
    labels = sorted(strata)
    tables = [strata[label] for label in labels]
    if not tables:
        raise ValueError("stratified_counts needs at least one stratum")
    # One stratum is the overall table itself: no separate overall items.
    item_labels: list[str | None] = list(labels) if len(tables) > 1 else [None]
    nbase, items = table_items(names, tables, item_labels)
    hidden = suppress(nbase, items, min_cell_count)
    hidden_keys = {items[i].key for i in hidden}

    def block(label: str | None) -> dict[str, Any]:
        label_key = label if len(tables) > 1 else None
        values = {
            it.key[2]: it.value for it in items if it.kind == "cell" and it.key[1] == label_key
        }
        cells_hidden = {k[2] for k in hidden_keys if k[0] == "cell" and k[1] == label_key}
        totals = {it.key: it.value for it in items if it.kind == "total" and it.key[1] == label_key}
        return {
            "unique_entities": None
            if ("unique_entities", label_key, None) in hidden_keys
            else totals[("unique_entities", label_key, None)],
            "unique_per_party": {
                p: None
                if ("unique_per_party", label_key, p) in hidden_keys
                else totals[("unique_per_party", label_key, p)]
                for p in names
            },
            "capture_histories": _cells_json(names, values, cells_hidden),
        }

    doc: dict[str, Any] = {"parties": names, "min_cell_count": min_cell_count}
    doc["overall"] = block(None)
    doc["strata"] = {label: block(label) for label in labels}
    return doc


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
