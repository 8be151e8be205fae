"""What each hardening costs in linkage accuracy (interim linkage).

The engine (``tiplink.linkage.engine``, branch ``eng``) is not on main yet,
so accuracy is measured with a simple, exhaustive linkage that every
hardening is judged by alike:

* every pair of records is described by its per-segment Dice similarities
  and which segments both records hold (a segment with no more bits than
  noise alone would set counts as missing; under balancing nothing can be
  told missing); a logistic model on these features, fitted against the
  truth, gives each pair a match probability (an oracle model: it shows the
  best any engine comparing segments by Dice could separate, so each
  hardening is charged only for the information it destroys);
* records are clustered by average linkage (no chaining through a common
  name), cut at a threshold; the threshold is the one that maximises
  pairwise F1 against the truth (an oracle choice: it measures how
  separable matches and non-matches remain, not how well a threshold is
  chosen);
* reported at that threshold: pairwise precision, recall and F1, the error
  of the unique count, and the capture-history error (the L1 distance
  between found and true counts of entities per set of agencies, divided
  by the true number of entities).

Where the engine is importable, :func:`measure_engine_accuracy` links the
same encodings with ``tiplink.linkage.engine.link_extracts`` at its default
settings instead (no truth used), and reports the same figures.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from privacy.data import AccuracyData
from privacy.encoded import dice_matrix, encode
from tiplink.encoders.hardening import BlipNoise, segment_bits_per_token
from tiplink.encoders.schema import LinkageSchema

THRESHOLDS = np.round(np.concatenate([np.arange(0.05, 0.95, 0.05), [0.97, 0.99]]), 2)


@dataclass(frozen=True)
class Accuracy:
    """Linkage accuracy at the best threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    unique_error: float
    capture_error: float
    records: int
    entities: int


def _present(bits: np.ndarray, schema: LinkageSchema, segment: str) -> np.ndarray:
    """Which records hold a value in the segment, as far as can be told."""
    if schema.hardening.balance:
        return np.ones(bits.shape[0], dtype=bool)
    width = bits.shape[1]
    noise = 0.0
    if schema.hardening.blip_epsilon:
        noise = BlipNoise.for_schema(schema, seed=0).probabilities[segment]
    k = segment_bits_per_token(schema)[segment]
    return bits.sum(axis=1) > noise * width + 0.5 * k


def pair_features(schema: LinkageSchema, segments: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Per pair: each segment's Dice where both hold it, and whether both do."""
    features = []
    for name, bits in segments.items():
        present = _present(bits, schema, name).astype(np.float32)
        both = np.outer(present, present)
        features.append(both * dice_matrix(bits))
        features.append(both)
    return features


def _design(features: list[np.ndarray], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    columns = [f[rows, cols] for f in features]
    dice = columns[0::2]
    # Squares and the name x date interaction let the model bend Dice scales.
    extra = [d * d for d in dice]
    if len(dice) > 1:
        extra.append(dice[0] * dice[1])
    return np.column_stack([np.ones(len(rows)), *columns, *extra]).astype(np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray,
                 ridge: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Weighted logistic regression by Newton's method (IRLS) with a small ridge."""
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (weights * (y - p)) - ridge * beta
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + ridge * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-6:
            break
    return beta


def match_probabilities(features: list[np.ndarray], truth: np.ndarray,
                        rng: np.random.Generator, negatives: int = 200_000) -> np.ndarray:
    """Fit the oracle model on all matching pairs and sampled others; score all pairs."""
    n = truth.size
    upper = np.triu_indices(n, 1)
    same = truth[upper[0]] == truth[upper[1]]
    pos = np.flatnonzero(same)
    neg_all = np.flatnonzero(~same)
    neg = rng.choice(neg_all, min(negatives, neg_all.size), replace=False)
    index = np.concatenate([pos, neg])
    x = _design(features, upper[0][index], upper[1][index])
    y = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
    # Sampled non-matches stand for all of them.
    weights = np.concatenate([np.ones(pos.size), np.full(neg.size, neg_all.size / neg.size)])
    beta = fit_logistic(x, y, weights / weights.mean())
    scores = np.zeros((n, n), dtype=np.float32)
    for start in range(0, upper[0].size, 2_000_000):
        r, c = upper[0][start:start + 2_000_000], upper[1][start:start + 2_000_000]
        p = 1 / (1 + np.exp(-np.clip(_design(features, r, c) @ beta, -30, 30)))
        scores[r, c] = p
    scores = scores + scores.T
    np.fill_diagonal(scores, 1.0)
    return scores


def _pairs(labels: np.ndarray) -> int:
    counts = np.bincount(labels)
    return int((counts * (counts - 1) // 2).sum())


def evaluate_clusters(labels: np.ndarray, truth: np.ndarray, parties: np.ndarray
                      ) -> tuple[float, float, float, float, float]:
    """Precision, recall, F1, unique-count error and capture-history error."""
    _, truth_ids = np.unique(truth, return_inverse=True)
    joint = labels.astype(np.int64) * (truth_ids.max() + 1) + truth_ids
    _, joint_ids = np.unique(joint, return_inverse=True)
    true_positive = _pairs(joint_ids)
    predicted = _pairs(labels)
    actual = _pairs(truth_ids)
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    entities = truth_ids.max() + 1
    unique_error = (labels.max() + 1 - entities) / entities

    def histories(ids: np.ndarray) -> Counter:
        seen: dict[int, set[str]] = {}
        for i, p in zip(ids, parties, strict=True):
            seen.setdefault(int(i), set()).add(str(p))
        return Counter(tuple(sorted(s)) for s in seen.values())

    found, true = histories(labels), histories(truth_ids)
    capture_error = sum(abs(found[h] - true[h]) for h in set(found) | set(true)) / entities
    return precision, recall, f1, float(unique_error), capture_error


def best_threshold(scores: np.ndarray, truth: np.ndarray, parties: np.ndarray) -> Accuracy:
    """Cluster (average linkage) at every threshold; return the figures at the best F1."""
    distance = np.clip(1.0 - scores.astype(np.float64), 0.0, None)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    best: Accuracy | None = None
    for threshold in THRESHOLDS:
        labels = fcluster(tree, t=1.0 - threshold, criterion="distance") - 1
        p, r, f1, unique, capture = evaluate_clusters(labels, truth, parties)
        if best is None or f1 > best.f1:
            best = Accuracy(float(threshold), p, r, f1, unique, capture, len(truth),
                            int(np.unique(truth).size))
    assert best is not None
    return best


def engine_available() -> bool:
    """Whether the linkage engine is importable."""
    try:
        import tiplink.linkage.engine  # noqa: F401
    except ImportError:
        return False
    return True


def measure_engine_accuracy(schema: LinkageSchema, data: AccuracyData) -> Accuracy:
    """Encode every register with one secret, link with the engine's defaults, score."""
    from tiplink.encoders.clk import Encoder
    from tiplink.encoders.extract import Extract, ExtractHeader, Segment, now_utc
    from tiplink.linkage.engine import link_extracts

    encoder = Encoder(schema, secrets.token_bytes(32), data.columns)
    clks = encoder.encode_rows(data.rows)
    layout = tuple(Segment(n, s, b) for n, s, b in encoder.segment_layout)
    extracts = []
    for party in dict.fromkeys(data.parties.tolist()):
        index = np.flatnonzero(data.parties == party)
        header = ExtractHeader(party=party, schema_fingerprint=schema.fingerprint,
                               key_check=encoder.key_check, bit_length=schema.output_bits,
                               record_count=index.size, created_at=now_utc(),
                               schema_name=schema.name, segments=layout)
        extracts.append(Extract(header, [str(i) for i in index], clks[index]))
    clusters = link_extracts(extracts).clusters
    labels = np.empty(len(data.rows), dtype=np.int64)
    labels[clusters["record_id"].astype(int).to_numpy()] = clusters["entity_id"].to_numpy()
    _, labels = np.unique(labels, return_inverse=True)
    p, r, f1, unique, capture = evaluate_clusters(labels, data.truth, data.parties)
    return Accuracy(float("nan"), p, r, f1, unique, capture, len(data.rows),
                    int(np.unique(data.truth).size))


def measure_accuracy(schema: LinkageSchema, data: AccuracyData,
                     rng: np.random.Generator) -> Accuracy:
    """Encode every register with one secret, link all records, score."""
    encoded = encode(schema, secrets.token_bytes(32), data.columns, data.rows)
    probabilities = match_probabilities(pair_features(schema, encoded.segments), data.truth, rng)
    return best_threshold(probabilities, data.truth, data.parties)
