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
    person = {(p, r): x for p, r, x in truth[["party", "record_id", "person_id"]].itertuples(
        index=False)}
    clusters = pd.read_csv(args.clusters, dtype=str, keep_default_na=False)
    scores = evaluate(Dataset("given", "victim", {}, person), clusters)
    print(json.dumps({"accuracy_against_truth": scores}, indent=2))


if __name__ == "__main__":
    main()
