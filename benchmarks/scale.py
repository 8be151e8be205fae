"""Speed and scale of ``tiplink link``.

* ``curve``: 4-party registers from the multi-agency generator at 10k, 100k
  and 1M records: wall time and peak resident memory of ``tiplink link``
  (the whole command: reading extracts, blocking, model, clustering,
  writing outputs), plus accuracy against the generator's truth.
* ``versus``: two parties of ~100k records each: ``tiplink link`` end to end
  vs anonlink 0.15.3 exhaustive candidate generation + greedy solver at Dice
  0.8 on clkhash 0.18.3 CLKs of the same records (encoding excluded on both
  sides), with F1 for both.

Data are generated (``benchmarks/synth``) and encoded once into
``benchmarks/.cache/scale``.

Usage::

    .venv/bin/python benchmarks/scale.py curve [--sizes 10000,100000,1000000]
    .venv/bin/python benchmarks/scale.py versus [--records 200000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CACHE = HERE / ".cache" / "scale"
SECRET = "scale-benchmark-secret"
TIPLINK = Path(sys.executable).parent / "tiplink"


GENERATOR = HERE / "synth" / "cli.py"


def generate(out: Path, records: int, agencies: str, seed: int) -> None:
    if (out / "truth.csv").exists():
        return
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out), "--seed",
                    str(seed), "--records", str(records), "--agencies", agencies, "--no-cases"],
                   check=True, capture_output=True)


def encode(data: Path) -> list[Path]:
    secret = data / "secret.txt"
    secret.write_text(SECRET)
    truth = pd.read_csv(data / "truth.csv", dtype=str, usecols=["party"])
    out = []
    for party in sorted(truth["party"].unique()):
        extract = data / f"{party}.extract"
        if not extract.exists():
            subprocess.run([str(TIPLINK), "encode", str(data / f"{party}.csv"), "--schema",
                            "victim", "--secret-file", str(secret), "--party", party,
                            "--output", str(extract)], check=True, capture_output=True)
        out.append(extract)
    return out


def measured(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB over it and its children)."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss
                                               for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return time.perf_counter() - started, peak / 2**20


def pairwise_f1(truth: pd.DataFrame, clusters: pd.DataFrame) -> dict:
    merged = truth.merge(clusters, on=["party", "record_id"])
    assert len(merged) == len(truth) == len(clusters)

    def pairs(keys: list) -> int:
        return sum(c * (c - 1) // 2 for c in Counter(keys).values())

    tp = pairs(list(zip(merged["person_id"], merged["entity_id"], strict=True)))
    p = tp / max(pairs(merged["entity_id"].tolist()), 1)
    r = tp / max(pairs(merged["person_id"].tolist()), 1)
    people = merged["person_id"].nunique()
    entities = merged["entity_id"].nunique()
    return {"precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
            "unique_count_error_pct": round((entities - people) / people * 100, 2)}


def link(extracts: list[Path], data: Path) -> dict:
    clusters = data / "clusters.csv"
    wall, rss = measured([str(TIPLINK), "link", *map(str, extracts), "--clusters",
                          str(clusters), "--counts", str(data / "counts.json"),
                          "--diagnostics", str(data / "diagnostics.json"), "--quiet"])
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    result = {"seconds": round(wall, 1), "peak_rss_mib": round(rss)}
    result.update(pairwise_f1(truth, pd.read_csv(clusters, dtype=str)))
    diagnostics = json.loads((data / "diagnostics.json").read_text())
    result["blocking"] = diagnostics.get("blocking")
    result["stage_seconds"] = {k: round(v, 1) for k, v in diagnostics["timings"].items()}
    return result


def curve(sizes: list[int]) -> None:
    for size in sizes:
        data = CACHE / f"curve-{size}"
        data.mkdir(parents=True, exist_ok=True)
        generate(data, size, "police,welfare,ngo,embassy", 21)
        extracts = encode(data)
        records = len(pd.read_csv(data / "truth.csv", usecols=["party"]))
        print(json.dumps({"benchmark": "curve", "records": records, **link(extracts, data)}),
              flush=True)


ANONLINK = r"""
import csv, json, sys, time
from clkhash import clk, schema as clkschema
from anonlink import candidate_generation, similarities, solving
spec = json.load(open(sys.argv[1])); schema = clkschema.from_json_dict(spec)
columns = [f["identifier"] for f in spec["features"]]
datasets, ids = [], []
for path in sys.argv[3:]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    datasets.append(clk.generate_clks([[r.get(c, "") or "" for c in columns] for r in rows],
                                      schema, sys.argv[2], validate=False))
    ids.append([r["record_id"] for r in rows])
start = time.perf_counter()
cands = candidate_generation.find_candidate_pairs(
    datasets, similarities.dice_coefficient_accelerated, 0.8)
groups = solving.greedy_solve(cands)
seconds = time.perf_counter() - start
entity = {}
for g, group in enumerate(groups):
    for d, r in group:
        entity[(d, r)] = f"g{g}"
out = []
for d, rid_list in enumerate(ids):
    for r, rid in enumerate(rid_list):
        out.append([d, rid, entity.get((d, r), f"s{d}-{r}")])
print(json.dumps({"seconds": seconds, "rows": out}))
"""


def versus(records: int) -> None:
    from similarity_speed import ensure_anonlink_venv

    data = CACHE / f"versus-{records}"
    data.mkdir(parents=True, exist_ok=True)
    generate(data, records, "police,ngo", 23)
    extracts = encode(data)
    ours = link(extracts, data)
    python = ensure_anonlink_venv()
    parties = sorted(pd.read_csv(data / "truth.csv", dtype=str, usecols=["party"])["party"]
                     .unique())
    out = subprocess.run([str(python), "-c", ANONLINK, str(HERE / "schemas" /
                                                           "clkhash-victim.json"), SECRET,
                          *[str(data / f"{p}.csv") for p in parties]],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    clusters = pd.DataFrame([(parties[d], rid, e) for d, rid, e in result["rows"]],
                            columns=["party", "record_id", "entity_id"])
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    theirs = {"seconds": round(result["seconds"], 1), **pairwise_f1(truth, clusters)}
    print(json.dumps({"benchmark": "versus", "records": len(truth), "tiplink": ours,
                      "anonlink_exhaustive_greedy": theirs,
                      "speedup": round(result["seconds"] / ours["seconds"], 1)}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Speed and scale of tiplink link.")
    parser.add_argument("what", choices=["curve", "versus"])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--generator", type=Path, default=GENERATOR,
                        help="the generator's cli.py (default benchmarks/synth/cli.py)")
    args = parser.parse_args()
    globals()["GENERATOR"] = args.generator
    if args.what == "curve":
        curve([int(s) for s in args.sizes.split(",")])
    else:
        versus(args.records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
