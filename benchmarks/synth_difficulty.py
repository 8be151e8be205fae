"""How hard the synthetic registers are, per noise preset.

For every pair of records of the same person (within and across agencies),
the share whose fields agree exactly, and after a simple normalisation
(transliteration to ASCII with ``anyascii``, lower case, spaces removed):
a rough picture of what an exact-match linker would get right. Also the share
of records with each field empty, and how dependent the lists are.

Usage::

    python benchmarks/synth_difficulty.py [--population 20000] [--seed 1]

Prints one JSON object; docs/synthetic-data.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from anyascii import anyascii

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import PRESETS, VICTIM_COLUMNS, generate, make_config


def _normalise(value: str) -> str:
    """ASCII transliteration, lower case, no spaces (fields kept apart by ``|``)."""
    return "".join(anyascii(value).lower().split())


def _pair_agreement(entity: np.ndarray, values: np.ndarray) -> float:
    """Share of same-entity record pairs whose values are equal."""
    order = np.argsort(entity, kind="stable")
    entity, values = entity[order], values[order]
    bounds = np.flatnonzero(np.diff(entity)) + 1
    agree = total = 0
    for group in np.split(values, bounds):
        if group.size < 2:
            continue
        _, counts = np.unique(group, return_counts=True)
        agree += int((counts * (counts - 1) // 2).sum())
        total += group.size * (group.size - 1) // 2
    return agree / total if total else float("nan")


def measure(preset: str, population: int, seed: int) -> dict:
    """Agreement and emptiness figures for one preset."""
    data = generate(make_config(population=population, noise=preset, cases=False), seed)
    entity = np.concatenate([t.entity for t in data.victims])
    cols = {c: np.concatenate([t.columns[c] for t in data.victims]) for c in VICTIM_COLUMNS[1:]}
    names = list(zip(cols["given_name"].tolist(), cols["family_name"].tolist(), strict=True))
    exact = np.array([f"{g}|{f}" for g, f in names])
    normalised = np.array([_normalise(f"{g}|{f}") for g, f in names])
    # Name parts in any order and any field (undoes swaps and one-field names).
    tokens = np.array([" ".join(sorted(anyascii(f"{g} {f}").lower().split())) for g, f in names])
    return {
        "records": int(entity.size),
        "people_seen": data.truth["unique_entities"],
        "pairs_same_name_exact": round(_pair_agreement(entity, exact), 3),
        "pairs_same_name_normalised": round(_pair_agreement(entity, normalised), 3),
        "pairs_same_name_parts_any_order": round(_pair_agreement(entity, tokens), 3),
        "pairs_same_dob": round(_pair_agreement(entity, cols["date_of_birth"]), 3),
        "pairs_all_fields_exact": round(
            _pair_agreement(
                entity, np.array(["|".join(r) for r in zip(*cols.values(), strict=True)])
            ),
            3,
        ),
        "empty_share": {c: round(float((v == "").mean()), 3) for c, v in cols.items()},
        # Dependence between lists: people on every list, against what
        # independent lists of the same sizes would give.
        "all_lists_vs_independence": round(
            float(data.held.all(axis=1).mean() / np.prod(data.held.mean(axis=0))), 2
        ),
    }


def main() -> int:
    """Print the difficulty figures for every preset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report = {
        "command": " ".join(["python", *sys.argv]),
        "presets": {p: measure(p, args.population, args.seed) for p in PRESETS},
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
