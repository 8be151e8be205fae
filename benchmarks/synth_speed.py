"""Generation speed of the synthetic register generator (``benchmarks/synth``).

Generates about ``--records`` victim records across four agencies (the
engine's scale benchmark input), writes them as CSV, and reports wall time of
each stage, CPU time, records per second, peak memory, the machine's load
average (other jobs slow the wall time down), and the ratio to the budget of
one minute for one million records.

Usage::

    python benchmarks/synth_speed.py [--records 1000000] [--repeat 3] [--cases]

Prints one JSON object; the figures in docs/synthetic-data.md come from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import generate, make_config, population_for_records, write_dataset

BUDGET_SECONDS_PER_MILLION = 60.0


def run_once(records: int, seed: int, cases: bool) -> dict[str, float]:
    """Size, generate and write one data set; return stage timings.

    Wall time depends on what else the machine runs; CPU time (this process)
    much less, so both are reported.
    """
    cpu_start = time.process_time()
    start = time.perf_counter()
    base = make_config(population=1, cases=cases)
    population = population_for_records(base, records, seed)
    config = make_config(population=population, cases=cases)
    sized = time.perf_counter()
    dataset = generate(config, seed)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        write_dataset(dataset, out)
        written = time.perf_counter()
    return {
        "population": population,
        "records": sum(dataset.truth["records"].values()),
        "case_records": sum(len(t) for t in dataset.cases),
        "size_seconds": sized - start,
        "generate_seconds": generated - sized,
        "write_seconds": written - generated,
        "total_seconds": written - start,
        "cpu_seconds": time.process_time() - cpu_start,
    }


def main() -> int:
    """Run the benchmark and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", action="store_true", help="also generate case records")
    args = parser.parse_args()
    runs = [run_once(args.records, args.seed + i, args.cases) for i in range(args.repeat)]
    best = min(runs, key=lambda r: r["total_seconds"])
    budget = BUDGET_SECONDS_PER_MILLION * args.records / 1_000_000
    report = {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "agencies": 4,
        "runs": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in runs
        ],
        "best_total_seconds": round(best["total_seconds"], 2),
        "best_cpu_seconds": round(min(r["cpu_seconds"] for r in runs), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "records_per_second": round(best["records"] / best["total_seconds"]),
        "ratio_to_budget": round(best["total_seconds"] / budget, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
