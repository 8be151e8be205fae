"""Speed and scale of ``tiplink link``.

* ``curve``: 4-party registers from the multi-agency generator at 10k, 100k
  and 1M records: wall time and peak resident memory of ``tiplink link``
  (the whole command: reading extracts, blocking, model, clustering,
  writing outputs), plus accuracy against the generator's truth.
* ``completeness``: pair completeness of the LSH blocking against
  exhaustive comparison (see :func:`completeness`).
* ``versus``: two parties of ~100k records each: ``tiplink link`` end to end
  vs anonlink 0.15.3 exhaustive candidate generation + greedy solver at Dice
  0.8 on clkhash 0.18.3 CLKs of the same records (encoding excluded on both
  sides), with F1 for both.

Data are generated (``benchmarks/synth``) and encoded once into
``benchmarks/.cache/scale``.

Usage::

    .venv/bin/python benchmarks/scale.py curve [--sizes 10000,100000,1000000]
    .venv/bin/python benchmarks/scale.py versus [--records 200000]
    .venv/bin/python benchmarks/scale.py completeness --size 100000
    .venv/bin/python benchmarks/scale.py completeness --size 1000000 --queries 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds, peak RSS in MiB).

    CPU time is user + system time of the command and its children (from
    the kernel's accounting of waited-for children), so it is comparable
    across runs on a machine shared with other jobs; peak RSS is sampled
    every 50 ms over the command and its children.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak / 2**20


def pairwise_f1(truth: pd.DataFrame, clusters: pd.DataFrame) -> dict:
    """Pairwise P/R/F1, unique-count and capture-history errors (``accuracy.evaluate``)."""
    from accuracy import Dataset, evaluate

    person = {(p, r): x for p, r, x in truth[["party", "record_id", "person_id"]].itertuples(
        index=False)}
    scores = evaluate(Dataset("scale", "victim", {}, person), clusters)
    return {k: scores[k] for k in ("precision", "recall", "f1", "unique_count_error_pct",
                                   "capture_history_error_pct")}


def link(extracts: list[Path], data: Path) -> dict:
    clusters = data / "clusters.csv"
    wall, cpu, rss = measured([str(TIPLINK), "link", *map(str, extracts), "--clusters",
                               str(clusters), "--counts", str(data / "counts.json"),
                               "--diagnostics", str(data / "diagnostics.json"), "--quiet"])
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    result = {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
              "peak_rss_mib": round(rss)}
    result.update(pairwise_f1(truth, pd.read_csv(clusters, dtype=str)))
    diagnostics = json.loads((data / "diagnostics.json").read_text())
    result["blocking"] = diagnostics.get("blocking")
    if "lsh" in diagnostics:
        result["candidate_pairs"] = diagnostics["lsh"]["candidate_pairs"]
    result["scored_pairs"] = diagnostics.get("scored_pairs")
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
start = time.perf_counter(); cpu = time.process_time()
cands = candidate_generation.find_candidate_pairs(
    datasets, similarities.dice_coefficient_accelerated, 0.8)
groups = solving.greedy_solve(cands)
seconds = time.perf_counter() - start; cpu = time.process_time() - cpu
entity = {}
for g, group in enumerate(groups):
    for d, r in group:
        entity[(d, r)] = f"g{g}"
out = []
for d, rid_list in enumerate(ids):
    for r, rid in enumerate(rid_list):
        out.append([d, rid, entity.get((d, r), f"s{d}-{r}")])
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows": out}))
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
    theirs = {"seconds": round(result["seconds"], 1),
              "cpu_seconds": round(result["cpu_seconds"], 1), **pairwise_f1(truth, clusters)}
    print(json.dumps({"benchmark": "versus", "records": len(truth), "tiplink": ours,
                      "anonlink_exhaustive_greedy": theirs,
                      "speedup_wall": round(result["seconds"] / ours["seconds"], 1),
                      "speedup_cpu": round(result["cpu_seconds"] / ours["cpu_seconds"], 1)}),
          flush=True)


def _accepted(result) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    pairs = result.pairs
    ok = pairs.link_prob() >= pairs.cut
    return set(zip(pairs.left[ok].tolist(), pairs.right[ok].tolist(), strict=True))


def _identical_on_identifying(prepared, stats, left: np.ndarray,  # type: ignore[no-untyped-def]
                               right: np.ndarray) -> np.ndarray:
    """Pairs whose records carry the same non-empty value in a name or date segment."""
    skip = set(stats.context_segments()) | set(stats.categorical_segments())
    bounds = prepared.layout.word_bounds()
    same = np.zeros(len(left), dtype=bool)
    for s in range(prepared.layout.n_segments):
        if s in skip:
            continue
        a, b = bounds[s], bounds[s + 1]
        same |= (np.all(prepared.words[left, a:b] == prepared.words[right, a:b], axis=1)
                 & (prepared.counts[left, s] > 0))
    return same


def _curve_registers(size: int):  # type: ignore[no-untyped-def]
    """The cached 4-party curve registers of ``size`` records: directory, extracts, prepared."""
    from tiplink.encoders.extract import read_extract
    from tiplink.linkage import engine

    data = CACHE / f"curve-{size}"
    data.mkdir(parents=True, exist_ok=True)
    generate(data, size, "police,welfare,ngo,embassy", 21)
    extracts = [read_extract(p) for p in encode(data)]
    return data, extracts, engine.prepare(extracts)


def completeness(size: int, queries: int | None, seed: int = 5) -> dict:
    """Pair completeness of the default LSH blocking against exhaustive comparison.

    *Accepted pairs* are the pairs the default decision links: match
    probability at or above the engine's cut (the count-unbiased cut of the
    default model).

    Full mode (``queries`` unset): the engine runs twice on the same
    records, once comparing every pair (histogram, model and selection on
    all pairs) and once with the default LSH blocking. Reported: the share
    of the exhaustive run's accepted pairs that the blocking proposes
    (*pair completeness*), the share the LSH run also accepts (*decision
    agreement*; its model is fitted to candidates plus a sampled estimate of
    the rest), and the LSH run's accepted pairs the exhaustive run rejects.

    Subsample mode (``queries`` = Q): for sizes where all pairs are out of
    reach. The default LSH run fits the model; then Q random query records
    are compared with *every* record, and the pairs that model accepts are
    checked against the blocking keys: the completeness of the blocking for
    the decision actually made, measured on an unbiased sample of records.
    """
    from tiplink.linkage import blocking, engine, similarity

    _, extracts, prepared = _curve_registers(size)
    n = int(prepared.words.shape[0])
    out: dict = {"benchmark": "completeness", "records": n}
    started = time.perf_counter()
    lsh = engine.link_extracts(extracts, exhaustive_max_pairs=0)
    out["lsh_run_seconds"] = round(time.perf_counter() - started, 1)
    stats = engine._sample_stats(prepared)
    _, keys = engine.blocking_keys(prepared, stats)
    out["candidates"] = lsh.diagnostics["lsh"]["candidate_pairs"]
    out["candidates_per_record"] = round(out["candidates"] / n, 1)
    out["tables"] = keys.tables
    if queries is None:
        started = time.perf_counter()
        full = engine.link_extracts(extracts, exhaustive_max_pairs=n * n)
        out["exhaustive_run_seconds"] = round(time.perf_counter() - started, 1)
        exact = _accepted(full)
        approx = _accepted(lsh)
        left = np.array([p[0] for p in exact], dtype=np.int64)
        right = np.array([p[1] for p in exact], dtype=np.int64)
        # Proposed: sharing a key, or identical on an identifying segment's
        # value (those pairs are enumerated exactly besides the tables).
        proposed = blocking.pairs_collide(keys, left, right) | _identical_on_identifying(
            prepared, stats, left, right)
        out.update({
            "accepted_pairs_exhaustive": len(exact),
            "pair_completeness": round(float(proposed.mean()) if len(exact) else 1.0, 5),
            "decision_agreement": round(len(exact & approx) / max(len(exact), 1), 5),
            "lsh_accepted_not_exhaustive": len(approx - exact),
            "cut_exhaustive": round(float(full.pairs.cut), 4),
            "cut_lsh": round(float(lsh.pairs.cut), 4),
        })
    else:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n, size=min(queries, n), replace=False))
        model = lsh.model
        class_table, _ = engine.pair_classes(len(prepared.parties))
        accept = model.posterior >= lsh.pairs.cut
        started = time.perf_counter()
        left, right, _ = similarity.rows_select(prepared.words, prepared.counts,
                                                prepared.layout, model.scheme, prepared.group,
                                                class_table, accept, rows)
        out["exhaustive_queries_seconds"] = round(time.perf_counter() - started, 1)
        proposed = blocking.pairs_collide(keys, left, right)
        out.update({
            "queries": len(rows),
            "compared_pairs": int(len(rows) * (n - 1)),
            "accepted_pairs_of_queries": len(left),
            "pair_completeness": round(float(proposed.mean()) if len(left) else 1.0, 5),
            "cut_lsh": round(float(lsh.pairs.cut), 4),
        })
    return out


def table_sweep(size: int, kept: list[int]) -> list[dict]:
    """Pair completeness and accuracy of LSH plans that keep more saturated tables.

    The exhaustive run (every pair compared) is done once; then for each
    ``K`` in ``kept`` the engine links with ``blocking.plan_keys(...,
    saturated_tables=K)`` (the default keeps 1 per pool), and each run is
    scored for pair completeness against the exhaustive run's accepted
    pairs and for accuracy against the generator's truth.
    """
    import functools
    from unittest import mock

    from accuracy import Dataset, evaluate

    from tiplink.linkage import blocking, engine

    data, extracts, prepared = _curve_registers(size)
    n = int(prepared.words.shape[0])
    stats = engine._sample_stats(prepared)
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    person = {(p, r): x for p, r, x in
              truth[["party", "record_id", "person_id"]].itertuples(index=False)}
    started = time.perf_counter()
    full = engine.link_extracts(extracts, exhaustive_max_pairs=n * n)
    exhaustive_seconds = round(time.perf_counter() - started, 1)
    exact = _accepted(full)
    left = np.array([p[0] for p in exact], dtype=np.int64)
    right = np.array([p[1] for p in exact], dtype=np.int64)
    rows = []
    plan_keys = blocking.plan_keys
    for k in kept:
        with mock.patch.object(blocking, "plan_keys",
                               functools.partial(plan_keys, saturated_tables=k)):
            started = time.perf_counter()
            lsh = engine.link_extracts(extracts, exhaustive_max_pairs=0)
            seconds = round(time.perf_counter() - started, 1)
            _, keys = engine.blocking_keys(prepared, stats)
        proposed = blocking.pairs_collide(keys, left, right) | _identical_on_identifying(
            prepared, stats, left, right)
        scores = evaluate(Dataset(f"curve-{size}", "victim", {}, person), lsh.clusters)
        rows.append({"benchmark": "table sweep", "records": n, "saturated_tables": k,
                     "tables": keys.tables,
                     "candidates": lsh.diagnostics["lsh"]["candidate_pairs"],
                     "accepted_pairs_exhaustive": len(exact),
                     "exhaustive_run_seconds": exhaustive_seconds,
                     "pair_completeness": round(float(proposed.mean()), 5),
                     "lsh_run_seconds": seconds, **scores})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description="Speed and scale of tiplink link.")
    parser.add_argument("what", choices=["curve", "versus", "completeness"])
    parser.add_argument("--size", type=int, default=100_000,
                        help="completeness: records of the 4-party registers (cached data)")
    parser.add_argument("--queries", type=int, default=None,
                        help="completeness: compare this many random records with all "
                             "records instead of every pair with every pair")
    parser.add_argument("--saturated-tables", default="",
                        help="completeness: sweep the saturated tables kept per pool, "
                             "e.g. 1,4,16,1000 (one exhaustive run, then one LSH run each, "
                             "scored for completeness and accuracy)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--generator", type=Path, default=GENERATOR,
                        help="the generator's cli.py (default benchmarks/synth/cli.py)")
    args = parser.parse_args()
    globals()["GENERATOR"] = args.generator
    if args.what == "curve":
        curve([int(s) for s in args.sizes.split(",")])
    elif args.what == "completeness" and args.saturated_tables:
        table_sweep(args.size, [int(k) for k in args.saturated_tables.split(",")])
    elif args.what == "completeness":
        print(json.dumps(completeness(args.size, args.queries)), flush=True)
    else:
        versus(args.records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
