"""Bridge from the service to the linkage engine, counts and schema loader.

Runs use the engine's defaults, exactly as ``tiplink link`` does, so a
project's counts equal the offline result on the same extracts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tiplink.encoders.extract import Extract
from tiplink.linkage.engine import LinkageResult

ProgressFn = Callable[[float], None]


def link(extracts: Sequence[Extract], progress: ProgressFn | None = None) -> LinkageResult:
    """Link extracts with the engine's defaults."""
    from tiplink.linkage.engine import link_extracts

    return link_extracts(extracts, progress=progress)


def counts(result: LinkageResult, min_cell_count: int) -> dict[str, Any]:
    """The COUNTS.json document of a run: estimate from exact counts, then
    small cells (below ``min_cell_count``; 0: off) protected. When the
    uploads carry clear strata (``stratum.<name>`` columns), the document
    has per-stratum counts and estimates (``strata``), protected jointly
    with the overall table, exactly as ``tiplink link`` writes them."""
    from tiplink.linkage.counts import counts_document
    from tiplink.linkage.strata import strata_of_result

    return counts_document(parties=result.parties, records_per_party=result.records,
                           entity_party_sets=result.party_sets,
                           min_cell_count=min_cell_count,
                           strata=strata_of_result(result))


def schema_fingerprint(name_or_path: str) -> tuple[str, str]:
    """The (schema name, fingerprint) of a bundled schema name or a JSON path.

    Raises:
        SchemaError: the schema cannot be loaded.
    """
    from tiplink.encoders.schema import load_schema

    schema = load_schema(name_or_path)
    return schema.name or Path(name_or_path).stem, schema.fingerprint
