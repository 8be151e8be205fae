"""Score a CLUSTERS.csv against known truth (party, record_id, person_id).

Prints pairwise precision, recall and F1, the unique-count error and the
capture-history error, as the accuracy benchmark computes them.

Usage::

    python benchmarks/evaluate.py --clusters out/clusters.csv --truth examples/truth.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import Dataset, evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", required=True, type=Path)
    parser.add_argument("--truth", required=True, type=Path)
    args = parser.parse_args()
    truth = pd.read_csv(args.truth, dtype=str, keep_default_na=False)
    # Victim registers name the person, case registers the case.
    entity = next((c for c in ("person_id", "case_id") if c in truth.columns), None)
    if entity is None or not {"party", "record_id"} <= set(truth.columns):
        raise SystemExit(f"{args.truth}: needs columns party, record_id and person_id "
                         "(or case_id)")
    person = {(p, r): x for p, r, x in truth[["party", "record_id", entity]].itertuples(
        index=False)}
    clusters = pd.read_csv(args.clusters, dtype=str, keep_default_na=False)
    scores = evaluate(Dataset("given", "victim", {}, person), clusters)
    print(json.dumps({"accuracy_against_truth": scores}, indent=2))


if __name__ == "__main__":
    main()
