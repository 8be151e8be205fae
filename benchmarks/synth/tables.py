"""Agency tables and the truth summary (CONTRACT COUNTS.json shape)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.config import AgencyConfig


@dataclass(frozen=True)
class Table:
    """One agency's file, rows in their (shuffled) output order.

    Attributes:
        party: the agency name.
        columns: CONTRACT columns (object arrays of str), ``record_id`` first.
        entity: (R,) int64 true entity index (person or case) of each row.
        truth_ids: (R,) the entity id written to the truth file.
        flags: per-row noise flags (see ``render.Rendered.flags``).
    """

    party: str
    columns: dict[str, np.ndarray]
    entity: np.ndarray
    truth_ids: np.ndarray
    flags: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.entity.shape[0])


def _record_ids(prefix: str, count: int) -> np.ndarray:
    width = max(6, len(str(count)))
    return np.array([f"{prefix}-{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def entity_ids(prefix: str, index: np.ndarray, total: int) -> np.ndarray:
    """Truth ids like ``P000042`` for entity indices."""
    width = max(6, len(str(total)))
    return np.array([f"{prefix}{i:0{width}d}" for i in index.tolist()], dtype=object)


def build_tables(
    agencies: tuple[AgencyConfig, ...],
    entity: np.ndarray,
    agency: np.ndarray,
    columns: dict[str, np.ndarray],
    flags: dict[str, np.ndarray],
    *,
    id_infix: str,
    entity_prefix: str,
    total: int,
    rng: np.random.Generator,
) -> tuple[Table, ...]:
    """Split records by agency, shuffle the rows, number them.

    Record ids are given after shuffling, so they say nothing about the
    person or about which records are duplicates.

    Args:
        agencies: the parties, in configuration order.
        entity: (R,) entity index of each record.
        agency: (R,) agency index of each record.
        columns: (R,) arrays of the CONTRACT columns except ``record_id``.
        flags: (R,) noise flag arrays.
        id_infix: text after the agency prefix in record ids (``-C`` for cases).
        entity_prefix: prefix of truth ids (``P`` people, ``C`` cases).
        total: number of entities (sets the id width).
        rng: random generator for the shuffle.
    """
    order = np.lexsort((rng.random(entity.shape[0]), agency))
    bounds = np.searchsorted(agency[order], np.arange(len(agencies) + 1))
    tables = []
    for j, ag in enumerate(agencies):
        rows = order[bounds[j] : bounds[j + 1]]
        cols = {"record_id": _record_ids(ag.prefix + id_infix, rows.size)}
        cols.update({name: values[rows] for name, values in columns.items()})
        tables.append(
            Table(
                party=ag.name,
                columns=cols,
                entity=entity[rows],
                truth_ids=entity_ids(entity_prefix, entity[rows], total),
                flags={name: values[rows] for name, values in flags.items()},
            )
        )
    return tuple(tables)


def capture_histories(held: np.ndarray, parties: tuple[str, ...]) -> list[dict]:
    """Counts of entities by the exact set of parties holding them.

    Args:
        held: (N, A) bool: entity held by party.
        parties: party names in column order.

    Returns:
        CONTRACT ``capture_histories``: one ``{"parties": [...], "count": n}``
        per non-empty set with a non-zero count; names sorted within a set,
        sets ordered by size then names.
    """
    seen = held[held.any(axis=1)]
    codes = (seen.astype(np.int64) << np.arange(held.shape[1])).sum(axis=1)
    values, counts = np.unique(codes, return_counts=True)
    out = []
    for code, count in zip(values.tolist(), counts.tolist(), strict=True):
        members = sorted(p for j, p in enumerate(parties) if code >> j & 1)
        out.append({"parties": members, "count": int(count)})
    out.sort(key=lambda h: (len(h["parties"]), h["parties"]))
    return out


def summarise(held: np.ndarray, tables: tuple[Table, ...], total: int, label: str) -> dict:
    """Truth summary in the CONTRACT COUNTS.json shape, plus the true total.

    Args:
        held: (N, A) bool: entity held by party (columns in table order).
        tables: the agency tables.
        total: the true number of entities (N).
        label: key for ``total`` (``population`` or ``cases``).
    """
    parties = tuple(t.party for t in tables)
    by_name = sorted(range(len(parties)), key=lambda j: parties[j])
    observed = int(held.any(axis=1).sum())
    return {
        label: int(total),
        "parties": sorted(parties),
        "records": {parties[j]: len(tables[j]) for j in by_name},
        "unique_entities": observed,
        "unique_per_party": {parties[j]: int(held[:, j].sum()) for j in by_name},
        "capture_histories": capture_histories(held, parties),
        "unobserved": int(total) - observed,
        "duplicate_records": {parties[j]: len(tables[j]) - int(held[:, j].sum()) for j in by_name},
    }
