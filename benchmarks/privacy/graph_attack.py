"""(c) The graph-matching attack (after Vidanage, Ranbaduge, Christen and Schnell 2020).

The attack does not decode anything: it uses only the similarities that
linkage needs. The attacker builds a similarity graph of the encoded records
(Dice of the encodings) and one of its own list, and matches nodes whose
neighbourhoods look alike.

* Plaintext side: under Kerckhoffs' principle the attacker encodes its own
  list with the published schema (hardening and salting included) under a
  key of its own. Dice similarity between encodings does not depend on the
  key, so both graphs measure similarity on the same scale; the paper's
  regression from q-gram to encoded similarity is not needed. Under BLIP
  the attacker adds no noise of its own but applies the noise's expected
  effect on Dice (:func:`expected_noisy_dice`).
* Node features, per segment the list covers (the extract header names the
  segments): the number of neighbours above each of several similarity
  thresholds (a similarity histogram), the largest similarities, the mean
  similarity, and two-hop counts (neighbours' degrees, which carry the
  egonet's shape); plus joint counts over segments (e.g. similar name and
  similar birth date).
* Matching: features are standardised, nodes compared by cosine similarity
  and matched one to one (Hungarian).
* Refinement (an extension beyond the paper, as in graph de-anonymisation
  by Narayanan and Shmatikov 2009): the most confident matches become
  anchors; each node's similarities to the anchors are a fingerprint in
  its own graph; matching again on feature and fingerprint similarity, and
  repeating with more anchors, re-identifies far more records when the
  first pass is good enough to seed it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from privacy.encoded import dice_matrix
from privacy.reidentify import assign

# Share of node pairs above each degree threshold: thresholds are quantiles
# of each graph's own similarities, so features do not depend on the scale
# of the similarity (balancing and BLIP compress it).
LEVELS = (0.0005, 0.002, 0.01, 0.03, 0.1, 0.3)
JOINT_LEVELS = (0.03, 0.01, 0.002)


@dataclass(frozen=True)
class GraphResult:
    """Assignments after the paper's matching and after refinement."""

    paper: np.ndarray
    refined: np.ndarray


def thresholds(sim: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    """Similarities exceeded by the given shares of (off-diagonal) pairs."""
    n = sim.shape[0]
    upper = sim[np.triu_indices(n, 1)]
    return [float(np.quantile(upper, 1 - level)) for level in levels]


def _segment_features(sim: np.ndarray) -> list[np.ndarray]:
    s = sim.copy()
    np.fill_diagonal(s, -np.inf)
    features = []
    degrees = []
    for t in thresholds(sim, LEVELS):
        degree = (s >= t).sum(axis=1).astype(np.float32)
        degrees.append(degree)
        features.append(np.log1p(degree))
    top = -np.sort(-s, axis=1)[:, :5]
    features.extend(top.T)
    features.append(np.where(np.isfinite(s), s, 0).mean(axis=1))
    # Two-hop: average degree of the neighbours at two thresholds.
    for degree, t in zip(degrees[1::2], thresholds(sim, LEVELS)[1::2], strict=True):
        adjacency = (s >= t).astype(np.float32)
        neighbour_degree = adjacency @ degree / np.maximum(adjacency.sum(axis=1), 1)
        features.append(np.log1p(neighbour_degree))
    return features


def _joint_features(sims: list[np.ndarray]) -> list[np.ndarray]:
    """Counts of nodes similar on two segments at once."""
    cuts = [thresholds(sim, JOINT_LEVELS) for sim in sims]
    features = []
    for i in range(len(sims)):
        for j in range(i + 1, len(sims)):
            for ti, tj in zip(cuts[i], cuts[j], strict=True):
                both = ((sims[i] >= ti) & (sims[j] >= tj)).sum(axis=1) - 1  # not itself
                features.append(np.log1p(np.maximum(both, 0).astype(np.float32)))
    return features


def expected_noisy_dice(bits: np.ndarray, flip: float) -> np.ndarray:
    """Expected Dice after BLIP, from noise-free filters (no sampling noise).

    With ``a`` and ``b`` bits set out of ``L`` and ``c`` in common, each bit
    flipped with probability ``p``: E|A'| = a(1-p) + (L-a)p and
    E|A' & B'| = c(1-p)^2 + (a+b-2c)p(1-p) + (L-a-b+c)p^2.
    """
    x = bits.astype(np.float32)
    length = bits.shape[1]
    a = x.sum(axis=1)
    c = x @ x.T
    q = 1 - flip
    size = a * q + (length - a) * flip
    both = (c * q * q + (a[:, None] + a[None, :] - 2 * c) * flip * q
            + (length - a[:, None] - a[None, :] + c) * flip * flip)
    return (2 * both / np.maximum(size[:, None] + size[None, :], 1e-9)).astype(np.float32)


def node_features(sims: list[np.ndarray]) -> np.ndarray:
    """Feature matrix (nodes x features) from per-segment similarity matrices."""
    features = []
    for sim in sims:
        features.extend(_segment_features(sim))
    features.extend(_joint_features(sims))
    return np.stack(features, axis=1).astype(np.float32)


def _standardise(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-scores over both graphs together."""
    both = np.vstack([a, b])
    mean, std = both.mean(axis=0), both.std(axis=0)
    std[std == 0] = 1
    return (a - mean) / std, (b - mean) / std


def _standardise_each(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-scores, each graph by its own statistics (robust to a scale shift between them)."""
    def z(x: np.ndarray) -> np.ndarray:
        std = x.std(axis=0)
        std[std == 0] = 1
        return (x - x.mean(axis=0)) / std

    return z(a), z(b)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    return an @ bn.T


def simulated_similarities(simulations: list[list[np.ndarray]],
                           flips: list[float] | None = None) -> list[np.ndarray]:
    """The attacker's similarities per segment, averaged over its own-key encodings.

    Averaging over several keys of its own gives the attacker the expected
    similarity under keyed randomness it cannot reproduce (token sampling,
    folding collisions); BLIP's effect is applied in expectation
    (:func:`expected_noisy_dice`) to noise-free encodings.
    """
    segments = len(simulations[0])
    result = []
    for s in range(segments):
        total = None
        for simulation in simulations:
            bits = simulation[s]
            flip = flips[s] if flips else 0.0
            sim = expected_noisy_dice(bits, flip) if flip else dice_matrix(bits)
            total = sim if total is None else total + sim
        assert total is not None
        result.append(total / len(simulations))
    return result


def graph_match(sims_a: list[np.ndarray], sims_b: list[np.ndarray],
                rng: np.random.Generator, rounds: int = 10,
                anchor_share: float = 0.05) -> GraphResult:
    """Match encoded records to list entries by similarity-graph structure.

    Args:
        sims_a: per-segment similarity matrices of the encoded records.
        sims_b: the same for the attacker's list, as the attacker simulates
            them (:func:`simulated_similarities`).
        rng: for tie-breaking.
        rounds: refinement rounds.
        anchor_share: share of nodes taken as anchors in the first round
            (doubled each round).
    """
    fa = node_features(sims_a)
    fb = node_features(sims_b)
    fa, fb = _standardise_each(fa, fb)
    feature_sim = _cosine(fa, fb)
    first = assign(feature_sim, rng)
    score = feature_sim
    share = anchor_share
    for _ in range(rounds):
        anchors_a, anchors_b = _anchors(score, share)
        # Each node's similarity to the anchors, per segment, in its own graph.
        fp_a = np.hstack([s[:, anchors_a] for s in sims_a])
        fp_b = np.hstack([s[:, anchors_b] for s in sims_b])
        fp_a, fp_b = _standardise(fp_a, fp_b)
        score = _cosine(fp_a, fp_b) + 0.5 * feature_sim
        share = min(0.5, share * 2)
    return GraphResult(first, assign(score, rng))


def _anchors(score: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """The most confident mutual best matches: each is the other's best, by the widest margin."""
    best_b = score.argmax(axis=1)
    best_a = score.argmax(axis=0)
    rows = np.flatnonzero(best_a[best_b] == np.arange(score.shape[0]))
    if rows.size < 10:
        rows = np.arange(score.shape[0])
    top2 = np.partition(score[rows], -2, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    take = rows[np.argsort(-margin)[:max(10, int(share * score.shape[0]))]]
    return take, best_b[take]
