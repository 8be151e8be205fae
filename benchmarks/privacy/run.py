"""Privacy benchmark: re-identification by three attacks, and accuracy cost, per hardening.

Usage (from the repository root)::

    python benchmarks/privacy/run.py                       # the full table
    python benchmarks/privacy/run.py --variants victim,victim+salt+blip16 \\
        --overlaps 0.8 --records 1000                      # a quick look

Variants are named by specification: ``plain-clk`` (clkhash-style
record-level CLK), ``victim`` or ``case`` (the schema with no hardening),
``victim-bundled`` (exactly as shipped), or a base followed by ``+``-joined
hardenings: ``bal`` (balancing), ``xor`` (one XOR fold), ``salt`` (names and
place salted with the birth year), ``rh`` (random hashing), ``blipE`` (BLIP
with epsilon E), ``sampN`` / ``dsampN`` (keyed sampling of N% of the tokens
of names and places / of dates). Results go to a JSON file and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from privacy.accuracy import measure_accuracy, measure_engine_accuracy
from privacy.attack_run import ATTACKS, run_attacks
from privacy.data import accuracy_data, attack_data
from privacy.variants import Variant, parse_variant

DEFAULT_VARIANTS = (
    "plain-clk", "plain-clk+rh", "victim", "victim+bal", "victim+xor", "victim+salt",
    "victim+blip24", "victim+blip16", "victim+samp30", "victim+samp30+dsamp60", "victim-bundled",
)
LABELS = {"frequency": "(a) frequency", "pattern_mining": "(b) pattern mining",
          "token_bound": "(a/b) bound", "graph": "(c) graph",
          "graph_refined": "(c) graph + refinement"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    parser.add_argument("--overlaps", default="1.0,0.8,0.5")
    parser.add_argument("--records", type=int, default=3000,
                        help="encoded records attacked (default 3000)")
    parser.add_argument("--population", type=int, default=3500,
                        help="hidden population of the accuracy benchmark (default 3500, "
                             "about 3,600 records in four registers)")
    parser.add_argument("--seeds", default="1",
                        help="comma-separated seeds: each draws its own data, lists and "
                             "secrets; tables show the mean and the worst case")
    parser.add_argument("--skip-attacks", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--engine", action="store_true",
                        help="measure accuracy with tiplink.linkage.engine (default settings) "
                             "instead of the interim oracle model")
    parser.add_argument("--output", default="benchmarks/privacy/results.json")
    parser.add_argument("--tables", nargs="+", metavar="RESULTS.json",
                        help="only print the tables of earlier runs' result files")
    args = parser.parse_args(argv)
    if args.tables:
        for path in args.tables:
            saved = json.loads(Path(path).read_text())
            names = list(dict.fromkeys([a["variant"] for a in saved["attacks"]]
                                       + [a["variant"] for a in saved["accuracy"]]))
            shown = sorted({a["overlap"] for a in saved["attacks"]}, reverse=True)
            print(f"{path}: {saved['command']}\n")
            print(markdown(saved, [parse_variant(v) for v in names], shown) + "\n")
        return 0

    variants = [parse_variant(v.strip()) for v in args.variants.split(",") if v.strip()]
    overlaps = [float(o) for o in args.overlaps.split(",")]
    started = time.perf_counter()
    seeds = [int(x) for x in args.seeds.split(",")]
    command = ["python", "benchmarks/privacy/run.py", *(sys.argv[1:] if argv is None else argv)]
    results: dict = {"command": " ".join(command), "records": args.records,
                     "accuracy_method": "engine" if args.engine else "oracle model",
                     "population": args.population, "seeds": seeds,
                     "attacks": [], "accuracy": []}
    kinds = sorted({v.kind for v in variants})
    for seed in seeds:
        if not args.skip_attacks:
            data = {kind: attack_data(args.records, seed, kind) for kind in kinds}
            for variant in variants:
                for overlap in overlaps:
                    outcome = run_attacks(variant.schema(), data[variant.kind], overlap,
                                          np.random.default_rng([seed, round(overlap * 100)]),
                                          variant=variant.key)
                    results["attacks"].append({"seed": seed, **asdict(outcome)})
                    shares = " ".join(f"{k}={100 * v:.1f}%" for k, v in outcome.shares.items())
                    print(f"seed {seed} {variant.key} overlap={overlap:g}: {shares} "
                          f"({outcome.seconds:.0f}s)", file=sys.stderr, flush=True)
        if not args.skip_accuracy:
            registers = {kind: accuracy_data(args.population, seed, kind) for kind in kinds}
            for variant in variants:
                if args.engine:
                    accuracy = measure_engine_accuracy(variant.schema(), registers[variant.kind])
                else:
                    accuracy = measure_accuracy(variant.schema(), registers[variant.kind],
                                                np.random.default_rng([seed, 2]))
                results["accuracy"].append({"seed": seed, "variant": variant.key,
                                            **asdict(accuracy)})
                print(f"seed {seed} {variant.key}: F1={accuracy.f1:.3f} "
                      f"unique={100 * accuracy.unique_error:+.1f}% "
                      f"capture={100 * accuracy.capture_error:.1f}%", file=sys.stderr, flush=True)
    results["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(markdown(results, variants, overlaps))
    return 0


def markdown(results: dict, variants: list[Variant], overlaps: list[float]) -> str:
    """The result tables in Markdown: attacks as mean (worst) over seeds, accuracy as mean."""
    lines = []
    seeds = len(results["seeds"])
    if results["attacks"]:
        head = "| encoding | overlap | " + " | ".join(LABELS[a] for a in ATTACKS) + " |"
        lines += [head, "|" + "---|" * (2 + len(ATTACKS))]
        for variant in variants:
            for overlap in overlaps:
                runs = [a for a in results["attacks"]
                        if a["variant"] == variant.key and a["overlap"] == overlap]
                if not runs:
                    continue
                cells = []
                for attack in ATTACKS:
                    values = [100 * r["shares"][attack] for r in runs]
                    cells.append(f"{np.mean(values):.1f}" if seeds == 1
                                 else f"{np.mean(values):.1f} ({max(values):.1f})")
                lines.append(f"| {variant.key} | {overlap:.0%} | {' | '.join(cells)} |")
        lines.append("")
    if results["accuracy"]:
        lines += ["| encoding | F1 | precision | recall | unique-count error | "
                  "capture-history error |", "|---|---|---|---|---|---|"]
        for variant in variants:
            runs = [a for a in results["accuracy"] if a["variant"] == variant.key]
            if not runs:
                continue

            def mean(key: str, runs: list = runs) -> float:
                return float(np.mean([r[key] for r in runs]))

            lines.append(f"| {variant.key} | {mean('f1'):.3f} | {mean('precision'):.3f} | "
                         f"{mean('recall'):.3f} | {100 * mean('unique_error'):+.1f}% | "
                         f"{100 * mean('capture_error'):.1f}% |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
