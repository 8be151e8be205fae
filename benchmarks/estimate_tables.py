"""Validation and timing: every shared capture table by every method.

Prints a Markdown table (estimate, model, BCa 95% interval, seconds) for the
published MSE data sets in ../shared/mse (or tests/data/mse), the figures
quoted in docs/estimation.md. Reference figures from the R package
MultipleSystemsEstimation are shown where they are public.

    .venv/bin/python benchmarks/estimate_tables.py \\
        --stepwise-bootstrap 1000 --bic-bootstrap 200 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tiplink.linkage.counts import read_capture_csv
from tiplink.linkage.estimate import EstimationError, estimate

ROOT = Path(__file__).resolve().parent.parent
TABLES = ["UKdat_5", "UKdat", "Ned_5", "Ned", "NewOrl_5", "NewOrl", "Western", "Kosovo", "Korea"]
# Public figures from MultipleSystemsEstimation (shared/mse/README.md and the
# package vignettes); the others are withheld.
REFERENCE = {
    ("UKdat_5", "stepwise"): "11,313 [12,13,24,25,35,45]",
    ("UKdat", "stepwise"): "11,418 [12,13,24,25,35,36,45]",
    ("UKdat_5", "bic"): "25,311 [123,25,34]",
    ("Korea", "stepwise"): "268.78 [12,3]",
    ("Korea", "bic"): "157.17 [12,23]",
    ("NewOrl", "stepwise"): "1,110.49",
}


def data_dir() -> Path:
    shared = ROOT.parent / "shared" / "mse"
    return shared if shared.is_dir() else ROOT / "tests" / "data" / "mse"


def main() -> int:
    """Run the grid and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stepwise-bootstrap", type=int, default=1000)
    parser.add_argument("--bic-bootstrap", type=int, default=200)
    parser.add_argument("--bic-bootstrap-max-lists", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tables", nargs="*", default=TABLES)
    args = parser.parse_args()
    print(
        "| table | lists | observed | method | estimate | model | 95% BCa | B | seconds | R reference |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.tables:
        table = read_capture_csv(data_dir() / f"{name}.csv")
        for method in ("stepwise", "bic"):
            if method == "stepwise":
                nboot = args.stepwise_bootstrap
            else:
                nboot = args.bic_bootstrap if table.nlists <= args.bic_bootstrap_max_lists else 0
            start = time.perf_counter()
            try:
                result = estimate(
                    table, method, bootstrap=nboot, seed=args.seed, workers=args.workers
                )
            except EstimationError as exc:
                seconds = time.perf_counter() - start
                print(
                    f"| {name} | {table.nlists} | {table.observed:,} | {method} | – | – | – | – "
                    f"| {seconds:.1f} | {exc.message} |"
                )
                continue
            seconds = time.perf_counter() - start
            ci = f"{result.ci95[0]:,.0f} – {result.ci95[1]:,.0f}" if result.ci95 else "–"
            print(
                f"| {name} | {table.nlists} | {table.observed:,} | {method} | "
                f"{result.population:,.2f} | {result.model} | {ci} | {nboot} | {seconds:.1f} | "
                f"{REFERENCE.get((name, method), 'withheld')} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
