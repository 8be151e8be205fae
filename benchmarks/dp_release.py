"""Accuracy cost of a differentially private table release, by epsilon.

For each shared capture table and each epsilon, releases the table many
times with discrete Laplace noise (seeded numpy sampler, so the figures are
reproducible; the OpenDP sampler has the same distribution) and reports:

* cell MAE: mean absolute error of the released cells (all ``2**m - 1``);
* unique MAE: mean absolute error of ``unique_entities`` derived from them;
* estimate error: median absolute relative error of the stepwise population
  estimate on the noisy table against the estimate on the exact table, and
  the share of releases where no finite estimate exists;
* the same for small-cell suppression (K = 5), whose cells are exact but
  cannot be used to estimate at all (shown for comparison).

    .venv/bin/python benchmarks/dp_release.py --trials 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from tiplink.linkage.counts import read_capture_csv
from tiplink.linkage.dp import dp_release
from tiplink.linkage.estimate import CaptureTable, EstimationError, stepwise_fit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from estimate_tables import data_dir


def main() -> int:
    """Run the grid and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--epsilons", type=float, nargs="*", default=[0.1, 0.5, 1.0, 2.0, 5.0])
    parser.add_argument("--tables", nargs="*", default=["UKdat_5", "Kosovo", "Western", "Korea"])
    args = parser.parse_args()
    print(
        "| table | epsilon | cell MAE | unique MAE | estimate median rel. error | no estimate | s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.tables:
        table = read_capture_csv(data_dir() / f"{name}.csv")
        lists = table.lists
        exact_hist = {
            frozenset(p for i, p in enumerate(lists) if m >> i & 1): c
            for m, c in enumerate(table.cells)
            if m
        }
        truth = stepwise_fit(table).population
        order = sorted(lists)
        perm = [order.index(p) for p in lists]  # dp_release sorts the parties
        exact_sorted = [0] * len(table.cells)
        for mask, count in enumerate(table.cells):
            exact_sorted[sum(1 << perm[i] for i in range(len(lists)) if mask >> i & 1)] = count
        for eps in args.epsilons:
            start = time.perf_counter()
            cell_err, uniq_err, est_err, failed = [], [], [], 0
            for trial in range(args.trials):
                noisy = dp_release(lists, exact_hist, eps, seed=trial)
                diff = np.abs(np.array(noisy.cells[1:]) - np.array(exact_sorted[1:]))
                cell_err.append(diff.mean())
                uniq_err.append(abs(sum(noisy.cells) - table.observed))
                try:
                    est = stepwise_fit(CaptureTable(noisy.parties, noisy.cells)).population
                    est_err.append(abs(est - truth) / truth)
                except EstimationError:
                    failed += 1
            seconds = time.perf_counter() - start
            med = f"{np.median(est_err):.1%}" if est_err else "–"
            print(
                f"| {name} | {eps:g} | {np.mean(cell_err):.2f} | {np.mean(uniq_err):.1f} | "
                f"{med} | {failed / args.trials:.0%} | {seconds:.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
