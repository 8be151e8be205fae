"""Decision-model options side by side on several multi-agency register sets.

The engine's defaults were chosen by comparing options of the decision
model on more than one data set; this script makes that comparison
reproducible. Each data set is encoded once with the bundled ``victim``
schema, then linked in-process with each variant and scored against the
truth with the accuracy benchmark's metrics.

Data sets: generator registers without the case layer (``--seeds``), with
it (``--case-seeds``), the bundled example, and optionally the cached
registers of ``scale.py curve`` (``--scale 10000,100000``).

Variants:

* ``default``: the engine as shipped;
* ``no monotone``: without the monotone likelihood-ratio constraint;
* ``ignorable missing``: ``m = u`` on the missing level;
* ``evidence 0.01``: pairs with posterior >= 0.01 (not 0.02) go to the
  people expectation and the clustering;
* ``outside sample 4M``: the random sample of pairs outside the LSH
  candidates fixed at its floor of 4M pairs instead of 40 per record (the
  same below 100k records; it matters at 1M);
* ``rival strength 0.3`` / ``0.7``: the exponent of the rival adjustment
  (``linkage/exclusivity.py``; default 0.5);
* ``cut floor 0.1``: the count-matched cut searched over [0.1, 0.5]
  instead of [0.03, 0.5];
* ``no rivals``: no rival adjustment, cut over [0.1, 0.5] (the engine
  with log-odds clustering only);
* ``additive no rivals``: also the clustering's first design,
  merge weights ``p - cut`` (about the engine of 2026-11-22).

Usage::

    python benchmarks/model_variants.py [--seeds 7,11] [--case-seeds 1,2]
        [--scale 10000,100000] [--variants default,no monotone] [--json OUT]

At 1M records (about 1.5 min per variant)::

    python benchmarks/model_variants.py --seeds '' --case-seeds '' --scale 1000000 \
        --variants 'default,no monotone,outside sample 4M'
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import Dataset, evaluate  # noqa: E402
from scale import CACHE as SCALE_CACHE  # noqa: E402
from scale import encode  # noqa: E402

from tiplink.linkage import clustering, engine, scoring  # noqa: E402
from tiplink.linkage.inputs import read_extract  # noqa: E402

CACHE = HERE / ".cache" / "variants"
EXAMPLES = HERE.parent / "examples"


def _model_options(**options: object) -> Callable[[], contextlib.AbstractContextManager]:
    def patch() -> contextlib.AbstractContextManager:
        fitted = functools.partial(scoring.fit_context_model, **options)
        return mock.patch.object(scoring, "fit_context_model", fitted)
    return patch


def _patched(*patches: tuple[object, str, object]
             ) -> Callable[[], contextlib.AbstractContextManager]:
    def patch() -> contextlib.AbstractContextManager:
        stack = contextlib.ExitStack()
        for target, name, value in patches:
            stack.enter_context(mock.patch.object(target, name, value))
        return stack
    return patch


def _additive_weights(prob, threshold):  # type: ignore[no-untyped-def]
    """The clustering's first merge weights: ``p - cut``, unscored pairs ``-cut``."""
    return prob - threshold, -float(threshold)


_NO_RIVALS = ((engine, "RIVAL_STRENGTH", 0.0), (engine, "CUT_RANGE", (0.1, 0.5)))

VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "default": contextlib.nullcontext,
    "no monotone": _model_options(monotone=False),
    "ignorable missing": _model_options(ignorable_missing=True),
    "evidence 0.01": lambda: mock.patch.object(engine, "MIN_EVIDENCE", 0.01),
    "outside sample 4M": lambda: mock.patch.object(engine, "SAMPLE_PER_RECORD", 0),
    "rival strength 0.3": _patched((engine, "RIVAL_STRENGTH", 0.3)),
    "rival strength 0.7": _patched((engine, "RIVAL_STRENGTH", 0.7)),
    "cut floor 0.1": _patched((engine, "CUT_RANGE", (0.1, 0.5))),
    "no rivals": _patched(*_NO_RIVALS),
    "additive no rivals": _patched(*_NO_RIVALS,
                                   (clustering, "merge_weights", _additive_weights)),
}


def datasets(seeds: list[int], case_seeds: list[int], scale: list[int]
             ) -> Iterator[tuple[str, Path]]:
    """``(name, directory)`` of each data set, generated and encoded on first use."""
    from synth import generate, make_config, write_dataset

    for seed, cases in [(s, False) for s in seeds] + [(s, True) for s in case_seeds]:
        name = f"seed {seed}" + (" with cases" if cases else "")
        directory = CACHE / name.replace(" ", "-")
        if not (directory / "truth.csv").exists():
            write_dataset(generate(make_config(population=5000, cases=cases), seed=seed),
                          directory)
        yield name, directory
    example = CACHE / "example"
    if not (example / "truth.csv").exists():
        example.mkdir(parents=True, exist_ok=True)
        for path in EXAMPLES.glob("*.csv"):
            shutil.copy(path, example / path.name)
    yield "bundled example", example
    for size in scale:
        directory = SCALE_CACHE / f"curve-{size}"
        if not (directory / "truth.csv").exists():
            raise SystemExit(f"run `python benchmarks/scale.py curve --sizes {size}` first")
        yield f"{size:,} records", directory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--case-seeds", default="1,2")
    parser.add_argument("--scale", default="", help="cached curve sizes, e.g. 10000,100000")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated names of the variants to run")
    parser.add_argument("--json", type=Path, help="also write every row here")
    args = parser.parse_args()
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")

    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",") if x]

    rows = []
    for name, directory in datasets(ints(args.seeds), ints(args.case_seeds), ints(args.scale)):
        extracts = [read_extract(p) for p in encode(directory)]
        truth = pd.read_csv(directory / "truth.csv", dtype=str)
        person = {(p, r): x for p, r, x in
                  truth[["party", "record_id", "person_id"]].itertuples(index=False)}
        for variant in args.variants.split(","):
            with VARIANTS[variant]():
                result = engine.link_extracts(extracts)
            scores = evaluate(Dataset(name, "victim", {}, person), result.clusters)
            rows.append({"data": name, "variant": variant, **scores})
            print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)
    frame["abs_count_error"] = frame["unique_count_error_pct"].abs()
    table = frame.groupby("variant", sort=False)[
        ["f1", "abs_count_error", "capture_history_error_pct"]].mean().round(3)
    table.columns = ["mean F1", "mean |people error| %", "mean capture-history error %"]
    print(table.to_string())
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
