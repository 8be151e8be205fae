"""Command line: write a synthetic data set to a directory.

Usage (from the repository root)::

    python benchmarks/synth/cli.py --out /tmp/synth --seed 7
    python benchmarks/synth/cli.py --out /tmp/big --records 1000000 --no-cases

or, from ``benchmarks/``, ``python -m synth ...`` with the same options.
Prints a one-line JSON summary (sizes and timings) on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``synth`` importable from its parent folder.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.config import DEFAULT_AGENCIES, WorldConfig, make_config
from synth.generator import generate, population_for_records
from synth.noise import PRESETS, NoiseConfig
from synth.output import write_dataset


def _overrides(pairs: Sequence[str]) -> dict[str, float]:
    known = set(NoiseConfig.__dataclass_fields__)
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            raise ValueError(f"--set expects NAME=RATE with NAME a noise setting, got {name!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"--set {name}: rate is not a number") from None
        if not 0.0 <= out[name] <= (10.0 if name == "native_script" else 1.0):
            raise ValueError(f"--set {name}: rate out of range")
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="synth",
        description="Write a synthetic multi-agency trafficking register with known truth.",
    )
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--population", type=int, default=5000, help="true number of victims N")
    size.add_argument(
        "--records", type=int, help="aim at about this many victim records in total (sets N)"
    )
    p.add_argument(
        "--agencies",
        default=",".join(DEFAULT_AGENCIES),
        help="comma-separated party names, 2 to 8 (default police,welfare,ngo,embassy; "
        "also known: immigration, labour, shelter, hotline)",
    )
    p.add_argument("--noise", choices=sorted(PRESETS), default="default", help="noise preset")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help="override one noise rate (repeatable), e.g. --set typo=0.1",
    )
    p.add_argument("--duplicate-rate", type=float, default=0.07, help="within-agency duplicates")
    p.add_argument("--heterogeneity", type=float, default=1.0, help="sd of latent visibility")
    p.add_argument("--no-cases", action="store_true", help="victim records only")
    return p


def _config(args: argparse.Namespace) -> WorldConfig:
    """The world described by the command-line options."""
    agencies = [a.strip() for a in args.agencies.split(",") if a.strip()]
    knobs = {
        "noise": args.noise,
        "noise_overrides": _overrides(args.set),
        "duplicate_rate": args.duplicate_rate,
        "heterogeneity": args.heterogeneity,
        "cases": not args.no_cases,
    }
    config = make_config(agencies, population=args.population, **knobs)
    if args.records is None:
        return config
    if args.records < 1:
        raise ValueError("--records must be at least 1")
    population = population_for_records(config, args.records, args.seed)
    return make_config(agencies, population=population, **knobs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status (2 on bad options or output)."""
    args = build_parser().parse_args(argv)
    try:
        config = _config(args)
        started = time.perf_counter()
        dataset = generate(config, args.seed)
        generated = time.perf_counter()
        write_dataset(dataset, args.out)
        written = time.perf_counter()
    except (ValueError, OSError) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            message = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
        else:
            message = str(exc)
        print(f"synth: error: {message}", file=sys.stderr)
        return 2
    summary = {
        "out": str(args.out),
        "seed": args.seed,
        "population": dataset.truth["population"],
        "records": sum(dataset.truth["records"].values()),
        "unique_entities": dataset.truth["unique_entities"],
        "case_records": sum(len(t) for t in dataset.cases),
        "generate_seconds": round(generated - started, 2),
        "write_seconds": round(written - generated, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
