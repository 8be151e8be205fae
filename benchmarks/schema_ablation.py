"""Does each choice in the bundled ``victim`` schema pay? An ablation.

Each variant switches one choice off (or swaps it) and runs the whole flow
— ``tiplink encode`` every agency, ``tiplink link`` with the engine's
defaults — on the same synthetic multi-agency registers, scored against the
truth with the accuracy benchmark's metrics.

Usage::

    python benchmarks/schema_ablation.py [--seeds 7,11] [--population 5000]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import Dataset, evaluate  # noqa: E402

REPO = HERE.parent
VICTIM = REPO / "encoders" / "schemas" / "victim.json"


def feature(document: dict, identifier: str) -> dict:
    return next(f for f in document["features"] if f["identifier"] == identifier)


def _set(path: list[str], value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        target = feature(document, path[0])
        for key in path[1:-1]:
            target = target[key]
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return change


VARIANTS: dict[str, Callable[[dict], None] | None] = {
    "bundled victim schema": None,
    "no keyed sampling (less private)": lambda d: [
        f.get("x-tiplink", {}).pop("sampling", None) for f in d["features"]],
    "no phonetic codes": _set(["name", "x-tiplink", "tokens", "phonetic"], []),
    "metaphone as well as skeleton": _set(["name", "x-tiplink", "tokens", "phonetic"],
                                          ["skeleton", "metaphone"]),
    "metaphone instead of skeleton": _set(["name", "x-tiplink", "tokens", "phonetic"],
                                          ["metaphone"]),
    "no transliteration": _set(["name", "x-tiplink", "normalise", "transliterate"], "none"),
    "drop honorifics": _set(["name", "x-tiplink", "normalise", "dropWords"],
                            ["mr", "mrs", "ms", "miss", "u", "daw", "ko", "mg", "nai", "nang",
                             "khun", "bin", "binti"]),
    "dates: no year window": _set(["date_of_birth", "x-tiplink", "tokens", "yearWindow"], 0),
    "dates: no day-month swap token": _set(
        ["date_of_birth", "x-tiplink", "tokens", "swapDayMonth"], False),
}


def run_variant(document: dict, data_dir: Path, work: Path) -> pd.DataFrame:
    tiplink = str(Path(sys.executable).parent / "tiplink")
    schema = work / "schema.json"
    schema.write_text(json.dumps(document))
    secret = work / "secret.key"
    secret.write_text("ablation secret\n")
    truth = pd.read_csv(data_dir / "truth.csv", dtype=str)
    extracts = []
    for party in sorted(truth["party"].unique()):
        out = work / f"{party}.tle"
        subprocess.run([tiplink, "encode", str(data_dir / f"{party}.csv"), "--schema",
                        str(schema), "--secret-file", str(secret), "--party", party,
                        "--output", str(out)], check=True, capture_output=True)
        extracts.append(str(out))
    clusters = work / "clusters.csv"
    subprocess.run([tiplink, "link", *extracts, "--clusters", str(clusters), "--counts",
                    str(work / "counts.json"), "--quiet"], check=True, capture_output=True)
    return pd.read_csv(clusters, dtype=str, keep_default_na=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--population", type=int, default=5000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from synth import generate, make_config, write_dataset

    base = json.loads(VICTIM.read_text())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            data_dir = Path(tmp) / f"data-{seed}"
            write_dataset(generate(make_config(population=args.population, cases=False),
                                   seed=seed), data_dir)
            truth = pd.read_csv(data_dir / "truth.csv", dtype=str)
            person = {(p, r): x for p, r, x in
                      truth[["party", "record_id", "person_id"]].itertuples(index=False)}
            for name, change in VARIANTS.items():
                document = copy.deepcopy(base)
                if change is not None:
                    change(document)
                work = Path(tmp) / f"run-{seed}-{len(rows)}"
                work.mkdir()
                clusters = run_variant(document, data_dir, work)
                scores = evaluate(Dataset("synth", "victim", {}, person), clusters)
                rows.append({"variant": name, "seed": seed, **scores})
                print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows).groupby("variant", sort=False)[
        ["f1", "unique_count_error_pct", "capture_history_error_pct"]].mean().round(3)
    print(table.to_string())
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
