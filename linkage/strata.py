"""Clear strata per entity: which stratum (sex, age band, ...) each person is counted in.

A schema may declare a few non-identifying attributes that travel in clear
in the extract (column ``stratum.<name>``). They are recorded per *record*,
and the records of one entity may disagree (a clerk's error, an estimated
date of birth) or be empty. Counts are per *entity*, so each entity gets one
value per stratum by this rule:

1. the most frequent non-empty value among the entity's records;
2. a tie between values goes to the value of the entity's first record in a
   canonical order that does not depend on the order the inputs were given
   in (parties sorted by name, then records in extract order), so the same
   linkage always gives the same strata, offline and on the service, and no
   value is favoured over another (ordering the values themselves would,
   say, always count F before M);
3. an entity none of whose records has a value is :data:`UNKNOWN`.

Records are counted in their entity's stratum (not by their own value), so
per-stratum record counts add up to the overall ones and are never below the
stratum's unique count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tiplink.encoders.extract import Extract

#: The stratum of an entity whose records carry no value.
UNKNOWN = "unknown"


def record_strata(extracts: Sequence[Extract]) -> dict[str, list[str]]:
    """Clear strata of every record, over all inputs in input order.

    Stratum names are the union over the inputs (in first-seen order); a
    record whose input lacks a stratum, or holds null there, gets ``""``.
    """
    names: list[str] = []
    for extract in extracts:
        for name in extract.header.strata:
            if name not in names:
                names.append(name)
    out: dict[str, list[str]] = {name: [] for name in names}
    for extract in extracts:
        n = len(extract.record_ids)
        for name in names:
            values = extract.strata.get(name)
            if values is None:
                out[name].extend([""] * n)
            else:
                out[name].extend("" if v is None else str(v) for v in values)
    return out


def canonical_rank(group: np.ndarray, parties: Sequence[str]) -> np.ndarray:
    """Position of each record in the canonical order (party name, then input order)."""
    group = np.asarray(group, dtype=np.int64)
    name_rank = np.empty(len(parties), dtype=np.int64)
    name_rank[np.argsort(np.asarray(parties, dtype=object), kind="stable")] = np.arange(
        len(parties)
    )
    order = np.lexsort((np.arange(len(group)), name_rank[group]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group))
    return rank


def entity_values(
    labels: np.ndarray, values: Sequence[str], rank: np.ndarray, n_entities: int
) -> list[str]:
    """One value per entity by the module's rule (see the module docstring).

    Args:
        labels: entity index of each record (``0 .. n_entities - 1``).
        values: the record's clear value (``""`` when empty).
        rank: each record's position in the canonical order (ties).
        n_entities: number of entities.
    """
    out = [UNKNOWN] * n_entities
    frame = pd.DataFrame(
        {
            "entity": np.asarray(labels, dtype=np.int64),
            "value": np.asarray(values, dtype=object),
            "rank": np.asarray(rank, dtype=np.int64),
        }
    )
    frame = frame[frame["value"] != ""]
    if frame.empty:
        return out
    per_value = (
        frame.groupby(["entity", "value"], sort=False)
        .agg(count=("rank", "size"), first=("rank", "min"))
        .reset_index()
    )
    per_value = per_value.sort_values(
        ["entity", "count", "first"], ascending=[True, False, True], kind="stable"
    )
    best = per_value.drop_duplicates("entity", keep="first")
    for entity, value in zip(best["entity"].tolist(), best["value"].tolist(), strict=True):
        out[entity] = str(value)
    return out


@dataclass(frozen=True)
class EntityStrata:
    """Each entity's stratum values, and records per combination of values.

    Attributes:
        names: the stratum variables (e.g. ``("sex",)``).
        values: per variable, the value of every entity (index = entity id).
        combo_records: per combination of values (one per variable, in
            ``names`` order), per party, the number of records of the
            entities with those values.
    """

    names: tuple[str, ...]
    values: Mapping[str, Sequence[str]]
    combo_records: Mapping[tuple[str, ...], Mapping[str, int]]

    def combos(self) -> list[tuple[str, ...]]:
        """The combination of values of every entity (one entry per variable)."""
        columns = [self.values[name] for name in self.names]
        return list(zip(*columns, strict=True)) if columns else []

    def records(self, name: str) -> dict[str, dict[str, int]]:
        """Records per value of variable ``name`` and per party."""
        at = self.names.index(name)
        out: dict[str, dict[str, int]] = {}
        for combo, per_party in self.combo_records.items():
            row = out.setdefault(combo[at], {})
            for party, count in per_party.items():
                row[party] = row.get(party, 0) + int(count)
        return out


def entity_strata(
    labels: np.ndarray,
    group: np.ndarray,
    parties: Sequence[str],
    record_values: Mapping[str, Sequence[str]],
) -> EntityStrata:
    """Strata per entity from the records' clear values.

    Args:
        labels: entity index of each record.
        group: party index (into ``parties``) of each record.
        parties: party names.
        record_values: per stratum variable, each record's value (``""``: none).
    """
    labels = np.asarray(labels, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    n_entities = int(labels.max()) + 1 if len(labels) else 0
    rank = canonical_rank(group, parties)
    names = tuple(record_values)
    values = {name: entity_values(labels, record_values[name], rank, n_entities) for name in names}
    combos = list(zip(*(values[name] for name in names), strict=True)) if names else []
    counts: Counter[tuple[tuple[str, ...], str]] = Counter()
    for label, g in zip(labels.tolist(), group.tolist(), strict=True):
        counts[(combos[label], parties[g])] += 1
    combo_records: dict[tuple[str, ...], dict[str, int]] = {}
    for (combo, party), count in counts.items():
        combo_records.setdefault(combo, {p: 0 for p in parties})[party] = int(count)
    return EntityStrata(names=names, values=values, combo_records=combo_records)


def strata_of_result(result: object) -> EntityStrata | None:
    """The :class:`EntityStrata` of a linkage result, or ``None`` without strata.

    Args:
        result: a :class:`tiplink.linkage.engine.LinkageResult` whose
            ``record_strata`` holds the records' clear values.
    """
    record_values = getattr(result, "record_strata", None) or {}
    if not record_values:
        return None
    clusters = result.clusters  # type: ignore[attr-defined]
    parties = list(result.parties)  # type: ignore[attr-defined]
    index = {p: i for i, p in enumerate(parties)}
    group = np.fromiter((index[p] for p in clusters["party"]), dtype=np.int64, count=len(clusters))
    return entity_strata(clusters["entity_id"].to_numpy(), group, parties, record_values)


#: Label of the pooled small values of a stratum variable.
POOLED = "other"


def pool_small_values(
    strata: EntityStrata, min_entities: int
) -> tuple[EntityStrata, dict[str, dict[str, Any]]]:
    """Publish rare values together: values held by fewer than ``min_entities`` entities.

    A stratum of a handful of people has nothing but small cells;
    publishing it on its own withholds almost all of it and, because the
    overall table is the sum of the strata, forces about as many withheld
    cells in the other strata. Statistical offices recode such categories;
    here the values of a variable held by fewer than ``min_entities``
    entities (``unknown`` included) are counted together under
    :data:`POOLED`; when only one value is that small, the next smallest
    value joins it (a pool of one would hide nothing).

    Returns:
        The recoded strata and, per variable that was recoded,
        ``{"label": the pooled label, "values": the values pooled (sorted)}``.
    """
    if min_entities <= 1 or not strata.names:
        return strata, {}
    values = {name: list(v) for name, v in strata.values.items()}
    pooled: dict[str, dict[str, Any]] = {}
    maps: dict[str, dict[str, str]] = {}
    for name in strata.names:
        sizes = Counter(values[name])
        small = sorted(v for v, n in sizes.items() if n < min_entities)
        rest = sorted((n, v) for v, n in sizes.items() if n >= min_entities)
        if len(small) == 1 and rest:
            small.append(rest[0][1])
        small.sort()
        if len(small) < 2:
            continue
        label = POOLED if POOLED not in sizes or POOLED in small else f"{POOLED} (pooled)"
        pooled[name] = {"label": label, "values": small}
        maps[name] = {v: label for v in small}
        values[name] = [maps[name].get(v, v) for v in values[name]]
    if not pooled:
        return strata, {}
    combo_records: dict[tuple[str, ...], dict[str, int]] = {}
    for combo, per_party in strata.combo_records.items():
        new = tuple(
            maps.get(name, {}).get(v, v) for name, v in zip(strata.names, combo, strict=True)
        )
        row = combo_records.setdefault(new, {})
        for party, count in per_party.items():
            row[party] = row.get(party, 0) + int(count)
    return EntityStrata(names=strata.names, values=values, combo_records=combo_records), pooled
