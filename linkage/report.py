"""COUNTS.json from a linkage result.

The counts document and the population estimate belong to
``tiplink.linkage.counts`` and ``tiplink.linkage.estimate``; where those are
installed they are used. Until then (or if they are absent) this module
builds the same document itself, with a simple estimate: Chapman's
two-list estimator, or a log-linear independence model for three or more
lists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tiplink.linkage.capture import basic_counts


def counts_for(result: Any, min_cell_count: int = 0) -> dict:
    """The COUNTS.json document of a :class:`~tiplink.linkage.engine.LinkageResult`."""
    try:
        from tiplink.linkage.counts import counts_document  # type: ignore[attr-defined]
    except ImportError:
        counts_document = None
    if counts_document is not None:
        return counts_document(parties=result.parties, records=result.records,
                               party_sets=result.party_sets, min_cell_count=min_cell_count)
    document = basic_counts(result.parties, result.records, result.party_sets)
    if len(result.parties) >= 2:
        estimate = fallback_estimate(document["parties"], document["capture_histories"])
        if estimate is not None:
            document["estimate"] = estimate
    if min_cell_count > 0:
        for cell in document["capture_histories"]:
            small = 0 < cell["count"] < min_cell_count
            cell["suppressed"] = small
            if small:
                cell["count"] = None
    return document


def fallback_estimate(parties: list[str], histories: list[dict]) -> dict | None:
    """A population estimate from capture histories (unsuppressed counts)."""
    k = len(parties)
    index = {p: i for i, p in enumerate(parties)}
    cells: dict[int, int] = {}
    for cell in histories:
        mask = sum(1 << index[p] for p in cell["parties"])
        cells[mask] = int(cell["count"])
    observed = sum(cells.values())
    if observed == 0:
        return None
    if k == 2:
        n1 = cells.get(1, 0) + cells.get(3, 0)
        n2 = cells.get(2, 0) + cells.get(3, 0)
        m = cells.get(3, 0)
        population = (n1 + 1) * (n2 + 1) / (m + 1) - 1
        variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
        half = 1.96 * math.sqrt(max(variance, 0.0))
        return {"population": round(population, 1),
                "ci95": [round(max(observed, population - half), 1), round(population + half, 1)],
                "method": "chapman", "model": "[1,2]"}
    try:
        import statsmodels.api as sm
    except ImportError:  # pragma: no cover - statsmodels is a dependency
        return None
    masks = np.arange(1, 2 ** k)
    design = np.array([[(m >> i) & 1 for i in range(k)] for m in masks], dtype=float)
    y = np.array([cells.get(int(m), 0) for m in masks], dtype=float)
    fit = sm.GLM(y, sm.add_constant(design), family=sm.families.Poisson()).fit()
    unseen = math.exp(fit.params[0])
    se = float(fit.bse[0])
    lo, hi = math.exp(fit.params[0] - 1.96 * se), math.exp(fit.params[0] + 1.96 * se)
    return {"population": round(observed + unseen, 1),
            "ci95": [round(observed + lo, 1), round(observed + hi, 1)],
            "method": "fixed", "model": "[" + ",".join(str(i + 1) for i in range(k)) + "]"}
