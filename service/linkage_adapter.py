"""Bridge from the service to the linkage engine and the schema loader.

TEMPORARY FALLBACK (remove once the real modules are on main):

* ``tiplink.linkage.engine.link_extracts``: while it is not importable,
  :func:`link` groups records whose encodings are bit-identical.
* ``tiplink.linkage.counts.counts_document`` (now on main): while it is not
  importable, :func:`counts` builds the COUNTS.json fields itself, without an
  estimate, with :func:`tiplink.service.results.suppress_counts`.

Everything else in the service calls only these functions, so switching to
the real engine changes nothing else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tiplink.encoders.extract import Extract

ProgressFn = Callable[[float], None]


def real_engine_available() -> bool:
    """True when the linkage engine is importable."""
    try:
        import tiplink.linkage.engine  # noqa: F401
    except ImportError:
        return False
    return True


def real_counts_available() -> bool:
    """True when the counts (and protection) module is importable."""
    try:
        import tiplink.linkage.counts  # noqa: F401
    except ImportError:
        return False
    return True


def link(extracts: Sequence[Extract], progress: ProgressFn | None = None) -> pd.DataFrame:
    """Link extracts with the engine's defaults.

    Returns:
        DataFrame with columns ``party, record_id, entity_id``, one row per
        input record.
    """
    if real_engine_available():
        from tiplink.linkage.engine import link_extracts

        return link_extracts(extracts, progress=progress).clusters
    return _exact_grouping(extracts, progress)


def _exact_grouping(extracts: Sequence[Extract], progress: ProgressFn | None) -> pd.DataFrame:
    # TEMPORARY fallback: one entity per distinct encoding.
    entity_of: dict[bytes, int] = {}
    frames = []
    for i, extract in enumerate(extracts):
        ids = [entity_of.setdefault(row.tobytes(), len(entity_of)) for row in extract.clks]
        frames.append(pd.DataFrame({
            "party": extract.header.party, "record_id": extract.record_ids, "entity_id": ids}))
        if progress is not None:
            progress((i + 1) / len(extracts))
    return pd.concat(frames, ignore_index=True)


def counts(clusters: pd.DataFrame, extracts: Sequence[Extract],
           min_cell_count: int) -> dict[str, Any]:
    """The COUNTS.json document for linked extracts, small cells protected.

    Args:
        clusters: the engine's ``party, record_id, entity_id`` frame.
        extracts: the linked extracts (for the party list and record counts).
        min_cell_count: the project's small-cell threshold (0: off).
    """
    parties = [e.header.party for e in extracts]
    if real_counts_available():
        from tiplink.linkage.counts import counts_document

        records = {e.header.party: len(e.record_ids) for e in extracts}
        party_sets = clusters.groupby("entity_id")["party"].agg(frozenset).tolist()
        return counts_document(parties, records, party_sets, min_cell_count=min_cell_count)
    from tiplink.service.results import suppress_counts

    return suppress_counts(_plain_counts(clusters, parties), min_cell_count)


def _plain_counts(clusters: pd.DataFrame, parties: Sequence[str]) -> dict[str, Any]:
    # TEMPORARY fallback: the contract's fields without an estimate.
    parties = sorted(parties)
    records = clusters.groupby("party").size().to_dict()
    per_entity = clusters.groupby("entity_id")["party"].agg(lambda s: tuple(sorted(set(s))))
    histories = per_entity.value_counts()
    unique_per_party = {p: int(sum(1 for h in per_entity if p in h)) for p in parties}
    capture = [{"parties": list(h), "count": int(histories[h])}
               for n in range(1, len(parties) + 1)
               for h in itertools.combinations(parties, n) if h in histories.index]
    return {
        "parties": parties,
        "records": {p: int(records.get(p, 0)) for p in parties},
        "unique_entities": len(per_entity),
        "unique_per_party": unique_per_party,
        "capture_histories": capture,
    }


def schema_fingerprint(name_or_path: str) -> tuple[str, str]:
    """The (schema name, fingerprint) of a bundled schema name or a JSON path.

    Raises:
        SchemaError: the schema cannot be loaded.
    """
    from tiplink.encoders.schema import load_schema

    schema = load_schema(name_or_path)
    return schema.name or Path(name_or_path).stem, schema.fingerprint
