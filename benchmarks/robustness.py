"""The engine's defaults on register sets unlike the ones they were chosen on.

The defaults of the decision model were compared on four-agency registers
of the generator's default settings (``benchmarks/model_variants.py``).
Real extracts differ: two or eight agencies, cleaner or messier data,
more or no duplicates within an agency, more or less even visibility,
smaller registers. This benchmark generates one register set per such
variation (population 5,000 unless stated, victim records only, one seed)
and scores ``tiplink`` with default settings, and optionally anonlink +
clkhash (greedy solver, Dice 0.8) on the same records, with the accuracy
benchmark's metrics. Nothing here was used to tune the engine.

Usage::

    python benchmarks/robustness.py [--variants '2 agencies;hard noise']
        [--methods tiplink,anonlink] [--seed 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import evaluate, load_synth, run_anonlink, run_tiplink  # noqa: E402

CACHE = HERE / ".cache" / "robustness"

#: Generator settings of each variation (``synth.make_config`` keywords).
VARIATIONS: dict[str, dict[str, Any]] = {
    "default (4 agencies)": {},
    "2 agencies": {"agencies": ("police", "ngo")},
    "3 agencies": {"agencies": ("police", "welfare", "ngo")},
    "6 agencies": {"agencies": ("police", "welfare", "ngo", "embassy", "immigration",
                                "shelter")},
    "8 agencies": {"agencies": ("police", "welfare", "ngo", "embassy", "immigration",
                                "labour", "shelter", "hotline")},
    "clean noise": {"noise": "clean"},
    "hard noise": {"noise": "hard"},
    "duplicates 0.25": {"duplicate_rate": 0.25},
    "no duplicates": {"duplicate_rate": 0.0},
    "heterogeneity 0.3": {"heterogeneity": 0.3},
    "population 1500": {"population": 1500},
}


def register_set(name: str, seed: int) -> Path:
    """Directory of the variation's registers, generated on first use."""
    from synth import generate, make_config, write_dataset

    directory = CACHE / f"{name.replace(' ', '-').replace('(', '').replace(')', '')}-{seed}"
    if not (directory / "truth.csv").exists():
        settings: dict[str, Any] = {"population": 5000, "cases": False, **VARIATIONS[name]}
        write_dataset(generate(make_config(**settings), seed=seed), directory)
    return directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default=";".join(VARIATIONS),
                        help="semicolon-separated names of the variations")
    parser.add_argument("--methods", default="tiplink,anonlink")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every row here")
    args = parser.parse_args()
    names = [v for v in args.variants.split(";") if v]
    unknown = set(names) - set(VARIATIONS)
    if unknown:
        parser.error(f"unknown variation(s): {', '.join(sorted(unknown))}")
    rows = []
    for name in names:
        data = load_synth(register_set(name, args.seed), args.seed)
        for method in args.methods.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                run = run_tiplink if method == "tiplink" else run_anonlink
                clusters = run(data, Path(tmp))
            records = sum(len(frame) for frame in data.parties.values())
            rows.append({"variation": name, "method": method, "records": records,
                         **evaluate(data, clusters)})
            print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)
    print(frame[["variation", "method", "records", "precision", "recall", "f1",
                 "unique_count_error_pct", "capture_history_error_pct"]].to_string(index=False))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
