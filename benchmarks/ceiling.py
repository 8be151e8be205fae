"""How far the pair evidence can go: a model trained on the truth, cross-fitted.

The engine learns without labels. To tell a weak unsupervised model from
evidence that is simply not there, this benchmark trains a supervised
classifier (scikit-learn's histogram gradient boosting, shipped with the
``recordlinkage`` dev dependency) on the *truth* of some register sets and
scores the pairs of another (leave one set out), then clusters those
scores with the engine's own clustering at the **true** number of people,
so every row is compared at the same count:

* ``engine pairwise``: the engine's pairwise posteriors (no rival
  adjustment), clustered at the true count;
* ``engine``: the engine's clustering input (pairwise posteriors with the
  rival adjustment of ``linkage/exclusivity.py``), at the true count;
* ``supervised levels``: trained on the pair class and the engine's
  per-segment agreement levels only (the base level scheme of
  ``scoring.choose_scheme``, before term-frequency refinement): a
  supervised Fellegi-Sunter model that may also learn interactions;
* ``supervised posterior + levels``: the same plus the engine's posterior;
* ``supervised posterior + levels + set bits``: plus the set bits of both
  records per segment (a segment's set bits grow with the value's length);
* ``supervised pairwise``: trained on the pair's own evidence: the
  engine's posterior, the pair class, per-segment Dice coefficients and set
  bits of both records;
* ``supervised + rivals``: the same plus, for each side of the pair, the
  summed odds of that record's other candidates in the partner's party and
  the best of them.

Pairs are those the engine scores (pairwise posterior >= 0.02), the same for
every row. Usage::

    python benchmarks/ceiling.py [--seeds 7,11] [--case-seeds 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accuracy import Dataset, evaluate  # noqa: E402
from model_variants import datasets  # noqa: E402
from scale import encode  # noqa: E402

from tiplink.linkage import clustering, engine, exclusivity, scoring, similarity  # noqa: E402
from tiplink.linkage.inputs import read_extract  # noqa: E402


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q) - np.log1p(-q)


def _rival_features(n: int, left: np.ndarray, right: np.ndarray, prob: np.ndarray,
                    group: np.ndarray) -> np.ndarray:
    """Per side: summed odds of the record's other candidates in the partner's party, and the best."""
    n_parties = int(group.max()) + 1
    odds = np.minimum(prob / np.maximum(1 - prob, 1e-9), 1e6)
    key_left = left * n_parties + group[right]
    key_right = right * n_parties + group[left]
    keys = np.concatenate([key_left, key_right])
    values = np.concatenate([odds, odds])
    total = np.bincount(keys, weights=values, minlength=n * n_parties)
    best = np.zeros(n * n_parties)
    np.maximum.at(best, keys, values)
    return np.column_stack([np.log1p(total[key_left] - odds), np.log1p(total[key_right] - odds),
                            np.log1p(best[key_left]), np.log1p(best[key_right])])


def collect(name: str, directory: Path) -> dict:
    """Link one register set; keep its scored pairs, features and truth."""
    extracts = [read_extract(p) for p in encode(directory)]
    seen: dict = {}
    compete = exclusivity.compete

    def capture(n, left, right, prob, group, strength):  # type: ignore[no-untyped-def]
        seen.update(left=left, right=right, pairwise=prob.copy(), group=group)
        seen["adjusted"] = compete(n, left, right, prob, group, strength)
        return seen["adjusted"]

    with mock.patch.object(exclusivity, "compete", capture):
        result = engine.link_extracts(extracts)
    truth = pd.read_csv(directory / "truth.csv", dtype=str)
    person = {(p, r): x for p, r, x in
              truth[["party", "record_id", "person_id"]].itertuples(index=False)}
    clusters = result.clusters
    ids = np.array([person[(p, r)] for p, r in zip(clusters.party, clusters.record_id,
                                                   strict=True)])
    _, person_index = np.unique(ids, return_inverse=True)
    left, right, group = seen["left"], seen["right"], seen["group"]
    prepared = engine.prepare(extracts)
    dice = similarity.pair_dice(prepared.words, prepared.counts,
                                prepared.layout.word_bounds(), left, right)
    n = len(clusters)
    pair_class = np.minimum(group[left], group[right]) * 16 + np.maximum(group[left],
                                                                         group[right])
    pairwise = np.column_stack([_logit(seen["pairwise"]), pair_class, dice,
                                prepared.counts[left], prepared.counts[right]])
    rivals = _rival_features(n, left, right, seen["pairwise"], group)
    scheme = scoring.choose_scheme(engine._sample_stats(prepared))
    levels = scheme.decode(similarity.pair_patterns(prepared.words, prepared.counts,
                                                    prepared.layout, scheme, left, right))
    set_bits = np.column_stack([prepared.counts[left], prepared.counts[right]])
    return {"name": name, "n": n, "left": left, "right": right, "clusters": clusters,
            "person": person, "people": int(person_index.max()) + 1,
            "is_match": person_index[left] == person_index[right],
            "pairwise_prob": seen["pairwise"], "engine_prob": seen["adjusted"],
            "pairwise": pairwise, "rivals": np.column_stack([pairwise, rivals]),
            "levels": np.column_stack([pair_class, levels]),
            "posterior levels": np.column_stack([pair_class, _logit(seen["pairwise"]), levels]),
            "posterior levels bits": np.column_stack([pair_class, _logit(seen["pairwise"]),
                                                      levels, set_bits])}


#: Feature sets of the supervised rows (each has the pair class first or second).
FEATURES = {
    "supervised levels": ("levels", 0),
    "supervised posterior + levels": ("posterior levels", 0),
    "supervised posterior + levels + set bits": ("posterior levels bits", 0),
    "supervised pairwise": ("pairwise", 1),
    "supervised + rivals": ("rivals", 1),
}


def at_true_count(data: dict, prob: np.ndarray) -> dict:
    """Score the engine's clustering of ``prob`` at the true number of people."""
    _, clustering_ = clustering.cluster_to_count(data["n"], data["left"], data["right"], prob,
                                                 float(data["people"]), low=0.01, high=0.9,
                                                 start=0.3)
    frame = data["clusters"].assign(entity_id=clustering_.labels)
    return evaluate(Dataset(data["name"], "victim", {}, data["person"]), frame)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="7,11")
    parser.add_argument("--case-seeds", default="1")
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier

    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",") if x]

    sets = [collect(name, d) for name, d in
            datasets(ints(args.seeds), ints(args.case_seeds), []) if name != "bundled example"]
    rows = []
    for held in sets:
        train = [s for s in sets if s is not held]
        scored = {"engine pairwise": held["pairwise_prob"], "engine": held["engine_prob"]}
        for label, (features, class_column) in FEATURES.items():
            model = HistGradientBoostingClassifier(max_iter=200, early_stopping=False,
                                                   min_samples_leaf=40,
                                                   categorical_features=[class_column],
                                                   random_state=0)
            model.fit(np.concatenate([s[features] for s in train]),
                      np.concatenate([s["is_match"] for s in train]))
            prob = model.predict_proba(held[features])[:, 1]
            # Identical encodings stay sure links, as in the engine.
            scored[label] = np.where(held["pairwise_prob"] >= 1.0, 1.0, prob)
        for label, prob in scored.items():
            rows.append({"data": held["name"], "scores": label, **at_true_count(held, prob)})
            print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows).groupby("scores", sort=False)[
        ["precision", "recall", "f1", "capture_history_error_pct"]].mean().round(4)
    print(table.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
