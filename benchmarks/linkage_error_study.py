"""How linkage error moves the population estimate, on registers with a known population.

For each setting and seed the multi-agency generator (``benchmarks/synth``)
writes four registers with known truth (true N, every record's person, the
true capture histories); each agency's register is encoded with
``tiplink encode`` (bundled ``victim`` schema) and linked with the engine:

* at its default (the fitted decision model, with the match-probability
  cut the engine chooses from the data: the count-matched cut,
  ``clustering.cluster_to_count``);
* at a sweep of fixed match-probability cuts (``link_extracts(match_cut=...)``,
  ``tiplink link --match-cut``): lower cuts link more;
* at a few whole-encoding Dice thresholds (``tiplink link --threshold``);
* and, as a reference, with perfect linkage (the true capture histories).

Each row reports unique entities against the truth, pairwise F1, the
capture-history error, and the stepwise estimate with its 95% BCa sampling
interval against the true N. For the default, the nested linkage x sampling
bootstrap (``tiplink.linkage.uncertainty``) gives the interval that includes
linkage uncertainty, with both samplers.

Settings:

* ``default``: the generator's defaults (heterogeneous, covariate-dependent
  capture and referrals: log-linear estimates fall short of N even with
  perfect linkage);
* ``mse``: the same registers and noise, but capture as the estimator
  assumes: no latent visibility (``heterogeneity=0``), no covariate effects,
  no referrals, so with perfect linkage the estimate is unbiased and any
  error left is the linkage's.

Usage::

    .venv/bin/python benchmarks/linkage_error_study.py [--seeds 1,2,3,4,5]
        [--population 5000] [--replicates 50] [--inner 20] [--bootstrap 200]
        [--json out.json] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import Dataset, evaluate  # noqa: E402
from synth import generate, make_config, write_dataset  # noqa: E402
from synth.config import WorldConfig  # noqa: E402

from tiplink.encoders.extract import read_extract  # noqa: E402
from tiplink.linkage.engine import LinkageResult, link_extracts  # noqa: E402
from tiplink.linkage.estimate import CaptureTable, EstimationError, estimate  # noqa: E402
from tiplink.linkage.uncertainty import linkage_uncertainty  # noqa: E402

PARTIES = ("police", "welfare", "ngo", "embassy")
SECRET = "linkage-error-study-secret"
SETTINGS = ("default", "mse")


def world(setting: str, population: int) -> WorldConfig:
    """The generator configuration of a setting (see the module docstring)."""
    config = make_config(PARTIES, population=population, cases=False)
    if setting == "mse":
        config = dataclasses.replace(
            config,
            heterogeneity=0.0,
            referrals=(),
            agencies=tuple(dataclasses.replace(a, effects={}) for a in config.agencies),
        )
    return config


def encode_all(directory: Path) -> list[Path]:
    """Encode each party's CSV with the real command; return the extracts."""
    tiplink = Path(sys.executable).parent / "tiplink"
    secret = directory / "secret.txt"
    secret.write_text(SECRET + "\n")
    out = []
    for party in PARTIES:
        path = directory / f"{party}.tle"
        subprocess.run(
            [str(tiplink), "encode", str(directory / f"{party}.csv"), "--schema", "victim",
             "--secret-file", str(secret), "--party", party, "--output", str(path)],
            check=True, capture_output=True,
        )  # fmt: skip
        out.append(path)
    return out


def estimate_row(table: CaptureTable, bootstrap: int, true_n: int) -> dict[str, Any]:
    """Stepwise estimate, BCa interval, and whether the interval covers N."""
    try:
        est = estimate(table, bootstrap=bootstrap, seed=1234, workers=1)
    except EstimationError as exc:
        return {"population": None, "ci95": None, "error": exc.message}
    ci = list(est.ci95) if est.ci95 else None
    return {
        "population": round(est.population, 1),
        "ci95": [round(v, 1) for v in ci] if ci else None,
        "model": est.model,
        "covers_n": bool(ci and ci[0] <= true_n <= ci[1]),
    }


def table_of(result: LinkageResult) -> CaptureTable:
    return CaptureTable.from_histories(sorted(PARTIES), Counter(s for s in result.party_sets if s))


def run_one(setting: str, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Every decision rule on one generated data set."""
    directory = work / f"{setting}-{seed}"
    directory.mkdir(parents=True, exist_ok=True)
    dataset = generate(world(setting, args.population), seed=seed)
    write_dataset(dataset, directory)
    truth = json.loads((directory / "truth.json").read_text())
    true_n = int(truth["population"])
    frame = pd.read_csv(directory / "truth.csv", dtype=str, keep_default_na=False)
    person = {(p, r): x for p, r, x in frame[["party", "record_id", "person_id"]].itertuples(
        index=False)}  # fmt: skip
    data = Dataset(f"{setting}-{seed}", "victim", {}, person)
    t0 = time.perf_counter()
    extracts = [read_extract(p) for p in encode_all(directory)]
    encode_s = time.perf_counter() - t0

    perfect = CaptureTable.from_histories(
        sorted(PARTIES), [(c["parties"], c["count"]) for c in truth["capture_histories"]]
    )
    rows: list[dict[str, Any]] = [{
        "rule": "perfect linkage (true histories)",
        "entities": truth["unique_entities"],
        "f1": 1.0, "unique_error_pct": 0.0, "ch_error_pct": 0.0,
        **estimate_row(perfect, args.bootstrap, true_n),
    }]  # fmt: skip
    default: LinkageResult | None = None
    rules: list[tuple[str, dict[str, Any]]] = [("default", {})]
    rules += [(f"cut {c:g}", {"match_cut": c}) for c in args.cuts]
    rules += [(f"Dice {d:g}", {"threshold": d}) for d in args.dice]
    for label, options in rules:
        t1 = time.perf_counter()
        result = link_extracts(extracts, **options)
        link_s = time.perf_counter() - t1
        if not options:
            default = result
        scores = evaluate(data, result.clusters)
        rows.append({
            "rule": label,
            "cut": result.diagnostics.get("match_cut"),
            "entities": result.n_entities,
            "f1": scores["f1"], "precision": scores["precision"], "recall": scores["recall"],
            "unique_error_pct": scores["unique_count_error_pct"],
            "ch_error_pct": scores["capture_history_error_pct"],
            "link_s": round(link_s, 2),
            **estimate_row(table_of(result), args.bootstrap, true_n),
        })  # fmt: skip
    assert default is not None and default.pairs is not None
    combined = {}
    for sampler in ("perturb", "bernoulli"):
        t1 = time.perf_counter()
        summary = linkage_uncertainty(
            default.pairs, default.parties, args.replicates, args.inner, seed=seed, sampler=sampler
        ).summary()
        ci = summary["ci95"]
        summary["covers_n"] = bool(ci and ci[0] <= true_n <= ci[1])
        summary["seconds"] = round(time.perf_counter() - t1, 1)
        combined[sampler] = summary
    return {
        "setting": setting,
        "seed": seed,
        "true_n": true_n,
        "observed": truth["unique_entities"],
        "records": sum(truth["records"].values()),
        "encode_s": round(encode_s, 1),
        "rows": rows,
        "combined": combined,
    }


def _mean(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


def markdown(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """Tables averaged over seeds, one per setting."""
    out = []
    for setting in SETTINGS:
        runs = [r for r in results if r["setting"] == setting]
        if not runs:
            continue
        n = runs[0]["true_n"]
        seeds = len(runs)
        out.append(
            f"\n**Setting `{setting}`** (true N = {n:,}; {seeds} seeds; people seen "
            f"{_mean([r['observed'] for r in runs]):,.0f} on average; "
            f"{_mean([r['records'] for r in runs]):,.0f} records)\n"
        )
        out.append(
            "| decision rule | unique entities (vs truth) | F1 | capture-history error | "
            "estimate (mean) | bias vs N | 95% interval (mean) | covers N |\n"
            "|---|---|---|---|---|---|---|---|"
        )
        labels = [row["rule"] for row in runs[0]["rows"]]
        for i, label in enumerate(labels):
            rows = [r["rows"][i] for r in runs]
            if label == "default":
                cuts = [x["cut"] for x in rows if x.get("cut") is not None]
                label = (
                    f"default (data-chosen cut {min(cuts):.2f}–{max(cuts):.2f})" if cuts else label
                )
            pops = [x["population"] for x in rows]
            cis = [x["ci95"] for x in rows if x.get("ci95")]
            lo = _mean([c[0] for c in cis])
            hi = _mean([c[1] for c in cis])
            out.append(
                f"| {label} | {_mean([x['entities'] for x in rows]):,.0f} "
                f"({_mean([x['unique_error_pct'] for x in rows]):+.1f}%) "
                f"| {_mean([x['f1'] for x in rows]):.3f} "
                f"| {_mean([x['ch_error_pct'] for x in rows]):.1f}% "
                f"| {_mean(pops):,.0f} | {(_mean(pops) - n) / n * 100:+.1f}% "
                f"| {lo:,.0f} – {hi:,.0f} "
                f"| {sum(bool(x.get('covers_n')) for x in rows)}/{seeds} |"
            )
        for sampler in ("perturb", "bernoulli"):
            c = [r["combined"][sampler] for r in runs]
            cis = [x["ci95"] for x in c if x.get("ci95")]
            lm = _mean([x["linkage_mean"] for x in c])
            out.append(
                f"| default + linkage uncertainty ({sampler}) "
                f"| {_mean([x['unique_entities_mean'] for x in c]):,.0f} | – | – "
                f"| {lm:,.0f} | {(lm - n) / n * 100:+.1f}% "
                f"| {_mean([x[0] for x in cis]):,.0f} – {_mean([x[1] for x in cis]):,.0f} "
                f"| {sum(bool(x.get('covers_n')) for x in c)}/{seeds} |"
            )
        out.append("")
        out.append(
            "| default, standard deviations (mean over seeds) | sampling | linkage | combined "
            "| s per run |\n|---|---|---|---|---|"
        )
        default_rows = [r["rows"][1] for r in runs]
        bca_width = _mean([x["ci95"][1] - x["ci95"][0] for x in default_rows if x.get("ci95")])
        for sampler in ("perturb", "bernoulli"):
            c = [r["combined"][sampler] for r in runs]
            out.append(
                f"| {sampler} (R = {args.replicates}, B = {args.inner}) "
                f"| {_mean([x['sampling_sd'] for x in c]):,.0f} "
                f"| {_mean([x['linkage_sd'] for x in c]):,.0f} "
                f"| {_mean([x['total_sd'] for x in c]):,.0f} "
                f"| {_mean([x['seconds'] for x in c]):.1f} |"
            )
        out.append(f"\nMean width of the default's sampling-only BCa interval: {bca_width:,.0f}.")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--population", type=int, default=5000)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--cuts", default="0.05,0.1,0.2,0.3,0.5,0.7,0.9")
    parser.add_argument("--dice", default="0.75,0.85")
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--work", type=Path, default=None, help="keep the data here")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    args.cuts = [float(x) for x in args.cuts.split(",") if x]
    args.dice = [float(x) for x in args.dice.split(",") if x]
    seeds = [int(x) for x in args.seeds.split(",") if x]
    settings = [s for s in args.settings.split(",") if s]
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for setting in settings:
            for seed in seeds:
                t0 = time.perf_counter()
                results.append(run_one(setting, seed, args, work))
                print(
                    f"{setting} seed {seed}: {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    text = markdown(results, args)
    command = "python benchmarks/linkage_error_study.py " + " ".join(sys.argv[1:])
    text += f"\n\nCommand: `{command.strip()}`; {time.perf_counter() - started:.0f} s in all.\n"
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "command": command}, indent=1))
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
