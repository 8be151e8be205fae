"""The decision rule: which record pairs are the same person.

Multi-segment encodings (the victim schema: name, date of birth, sex, ...)
use a Fellegi-Sunter model. Each pair's comparison pattern is its vector of
per-segment agreement levels (see :class:`tiplink.linkage.similarity.LevelScheme`).
Given match status, segments are taken as independent; ``m`` (level
probabilities among matches), ``u`` (among non-matches) and the prior match
rate of every *class* of pair (which two parties the records come from) are
estimated by EM, without labels, from the histogram of patterns over all
record pairs. A segment that is empty in either record is "missing" and
contributes no evidence. Estimating the prior per party pair lets the model
learn, for instance, that an agency rarely registers a person twice while two
agencies often share people.

Single-segment encodings (a plain clkhash schema) carry one similarity only;
there a two-component model is not identifiable without shape assumptions, so
the non-match distribution is fitted to the bulk of all pairs and its upper
tail extrapolated (see :func:`fit_single_segment`).

The posterior match probability of each (class, pattern) is the decision:
a pair is a link when it exceeds one half (or a Dice threshold the user gives).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tiplink.linkage.similarity import LevelScheme

#: Dice cut points of a segment in a multi-segment encoding.
DEFAULT_CUTS: tuple[float, ...] = (0.9, 0.8, 0.7, 0.55)
#: Most (class, pattern) cells a histogram may have (bounds memory).
MAX_CELLS = 6_000_000


def level_scheme(n_segments: int) -> LevelScheme:
    """The level cuts used for ``n_segments`` segments."""
    if n_segments == 1:
        # One similarity only: fine bins, so the decision can sit anywhere.
        return LevelScheme.build([tuple(np.round(np.arange(0.98, 0.299, -0.02), 2))])
    cuts: tuple[float, ...] = DEFAULT_CUTS
    while len(cuts) > 1 and (len(cuts) + 3) ** n_segments > MAX_CELLS // 4:
        cuts = cuts[::2]
    return LevelScheme.build([cuts] * n_segments)


@dataclass
class FSModel:
    """A fitted decision model.

    Attributes:
        scheme: the level scheme of the patterns.
        log2_bf: ``(n_patterns,)`` log2 Bayes factor (match vs non-match) of
            every pattern.
        prior: ``(n_classes,)`` prior match probability of a pair per class.
        posterior: ``(n_classes, n_patterns)`` match probability per cell.
        m, u: per segment, level probabilities among matches / non-matches
            (missing excluded); empty for the single-segment model.
        iterations: EM iterations used.
        converged: whether EM reached its tolerance.
        method: ``fellegi-sunter-em``, ``single-segment-tail`` or ``threshold``.
        expected_matches: estimated number of matching pairs per class.
    """

    scheme: LevelScheme
    log2_bf: np.ndarray
    prior: np.ndarray
    posterior: np.ndarray
    m: list[np.ndarray] = field(default_factory=list)
    u: list[np.ndarray] = field(default_factory=list)
    iterations: int = 0
    converged: bool = True
    method: str = "fellegi-sunter-em"
    expected_matches: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def accept_table(self, min_posterior: float = 0.5) -> np.ndarray:
        """Boolean ``(n_classes, n_patterns)``: cells whose posterior is at least this."""
        return self.posterior >= min_posterior

    def summary(self) -> dict:
        """JSON-friendly diagnostics."""
        out: dict = {
            "method": self.method,
            "iterations": self.iterations,
            "converged": self.converged,
            "prior": [float(p) for p in self.prior],
            "expected_matching_pairs": [float(x) for x in self.expected_matches],
        }
        if self.m:
            out["m"] = [[round(float(x), 5) for x in seg] for seg in self.m]
            out["u"] = [[float(f"{x:.3g}") for x in seg] for seg in self.u]
        return out


def _cells(hist: np.ndarray, scheme: LevelScheme) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                           np.ndarray]:
    classes, patterns = np.nonzero(hist)
    counts = hist[classes, patterns].astype(np.float64)
    levels = scheme.decode(patterns)
    return classes, patterns, counts, levels


def fit_fellegi_sunter(hist: np.ndarray, scheme: LevelScheme, max_iter: int = 500,
                       tol: float = 1e-7) -> FSModel:
    """Estimate ``m``, ``u`` and per-class priors by EM over a pattern histogram.

    Args:
        hist: ``(n_classes, n_patterns)`` counts of pairs, over all pairs
            (or an unbiased estimate of them).
        scheme: the level scheme the patterns were built with.
        max_iter: EM iteration limit.
        tol: stop when the largest parameter change is below this.

    Returns:
        The fitted :class:`FSModel`.
    """
    n_classes = hist.shape[0]
    n_seg = len(scheme.n_cuts)
    classes, patterns, counts, levels = _cells(hist, scheme)
    miss = np.array([scheme.missing_level(s) for s in range(n_seg)])
    observed = levels != miss[None, :]
    n_levels = [int(scheme.missing_level(s)) for s in range(n_seg)]
    class_totals = np.bincount(classes, weights=counts, minlength=n_classes)

    # u starts at the marginal level frequencies (pairs are overwhelmingly
    # non-matches); m starts concentrated on agreement. EM then refines both.
    u: list[np.ndarray] = []
    m: list[np.ndarray] = []
    for s in range(n_seg):
        sel = observed[:, s]
        freq = np.bincount(levels[sel, s], weights=counts[sel], minlength=n_levels[s])
        u.append((freq + 1e-3) / (freq.sum() + 1e-3 * n_levels[s]))
        start = 0.5 ** np.arange(n_levels[s], dtype=np.float64) * 4.0 ** -np.arange(n_levels[s])
        m.append(start / start.sum())
    n_records_guess = np.sqrt(2.0 * max(class_totals.sum(), 1.0))
    prior = np.clip(n_records_guess / np.maximum(class_totals, 1.0), 1e-9, 0.5)

    iterations = 0
    converged = False
    for iterations in range(1, max_iter + 1):  # noqa: B007
        log_m = np.zeros(len(counts))
        log_u = np.zeros(len(counts))
        for s in range(n_seg):
            sel = observed[:, s]
            log_m[sel] += np.log(m[s][levels[sel, s]])
            log_u[sel] += np.log(u[s][levels[sel, s]])
        lam = prior[classes]
        log_odds = np.log(lam) - np.log1p(-lam) + log_m - log_u
        g = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        wg = counts * g
        wn = counts - wg
        new_prior = np.clip(np.bincount(classes, weights=wg, minlength=n_classes)
                            / np.maximum(class_totals, 1.0), 1e-12, 1 - 1e-9)
        change = float(np.max(np.abs(np.log(new_prior) - np.log(prior))))
        prior = new_prior
        for s in range(n_seg):
            sel = observed[:, s]
            mm = np.bincount(levels[sel, s], weights=wg[sel], minlength=n_levels[s]) + 1e-6
            uu = np.bincount(levels[sel, s], weights=wn[sel], minlength=n_levels[s]) + 1e-6
            mm /= mm.sum()
            uu /= uu.sum()
            change = max(change, float(np.max(np.abs(mm - m[s]))), float(np.max(np.abs(uu - u[s]))))
            m[s], u[s] = mm, uu
        if change < tol:
            converged = True
            break

    log2_bf = _pattern_log2_bf(scheme, m, u)
    posterior = _posterior(log2_bf, prior)
    expected = np.bincount(classes, weights=counts * posterior[classes, patterns],
                           minlength=n_classes)
    return FSModel(scheme=scheme, log2_bf=log2_bf, prior=prior, posterior=posterior, m=m, u=u,
                   iterations=iterations, converged=converged, expected_matches=expected)


def _pattern_log2_bf(scheme: LevelScheme, m: list[np.ndarray], u: list[np.ndarray]) -> np.ndarray:
    levels = scheme.decode(np.arange(scheme.n_patterns))
    out = np.zeros(scheme.n_patterns)
    for s in range(len(m)):
        weights = np.append(np.log2(m[s] / u[s]), 0.0)  # the missing level adds nothing
        out += weights[levels[:, s]]
    return out


def _posterior(log2_bf: np.ndarray, prior: np.ndarray) -> np.ndarray:
    prior_log2_odds = np.log2(prior) - np.log2(1 - prior)
    log_odds = (log2_bf[None, :] + prior_log2_odds[:, None]) * np.log(2.0)
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


def fit_single_segment(hist: np.ndarray, scheme: LevelScheme) -> FSModel:
    """Decision model for one similarity (a plain CLK) from the all-pairs histogram.

    Non-matching pairs make up almost every pair, so the bulk of the Dice
    distribution describes them. Its upper tail is modelled as decaying
    exponentially (a straight line in log count), fitted where the
    log-density is still falling steeply, and extrapolated upwards; the
    count above that line in each level is attributed to matches. This is
    conservative where the true tail is lighter than exponential (Gaussian),
    as it is for sums of many bits.
    """
    n_classes = hist.shape[0]
    cuts = scheme.cuts[0, :scheme.n_cuts[0]]
    # Level -> representative Dice: exact=1, level k -> cuts[k-1], below all -> 0.
    n_obs = len(cuts) + 2
    centre = np.concatenate([[1.0], cuts, [0.0]])
    total = hist[:, :n_obs].sum(axis=0).astype(np.float64)
    order = np.argsort(centre)  # ascending Dice
    x = centre[order]
    y = total[order]
    cumulative_above = np.cumsum(y[::-1])[::-1]  # pairs at or above each level
    n_pairs = max(total.sum(), 1.0)
    tail_share = cumulative_above / n_pairs
    # Fit zone: levels holding between 1e-2 and 1e-5 of pairs above them,
    # dominated by non-matches for any realistic match rate.
    zone = (tail_share <= 1e-2) & (tail_share >= max(1e-5, 50.0 / n_pairs)) & (y > 0)
    if zone.sum() < 3:
        zone = (y > 0) & (x > 0) & (tail_share <= 0.5)
    slope, intercept = np.polyfit(x[zone], np.log(y[zone]), 1, w=np.sqrt(y[zone]))
    slope = min(slope, -1.0)  # a density must fall in its upper tail
    null = np.exp(intercept + slope * x)
    null[x <= x[zone].max()] = y[x <= x[zone].max()]  # below the zone everything is null
    share_null = np.minimum(1.0, null / np.maximum(y, 1e-300))
    post_level = np.empty(n_obs)
    post_level[order] = 1.0 - share_null
    # A higher level can never be less likely a match than a lower one.
    ascending = post_level[order]
    post_level[order] = np.maximum.accumulate(ascending)
    n_patterns = scheme.n_patterns
    posterior = np.zeros((n_classes, n_patterns))
    posterior[:, :n_obs] = post_level[None, :]
    matches = (hist[:, :n_obs] * post_level[None, :]).sum(axis=1)
    class_totals = np.maximum(hist.sum(axis=1), 1)
    log2_bf = np.log2(np.maximum(posterior.max(axis=0), 1e-300)) - np.log2(
        np.maximum(1 - posterior.max(axis=0), 1e-300))
    return FSModel(scheme=scheme, log2_bf=log2_bf, prior=matches / class_totals,
                   posterior=posterior, method="single-segment-tail",
                   expected_matches=matches)


def threshold_model(scheme: LevelScheme, n_classes: int, threshold: float) -> FSModel:
    """A fixed Dice threshold on the single (or mean) similarity, as users may ask.

    With several segments the pattern is accepted when the mean of its
    observed segment level floors reaches the threshold.
    """
    levels = scheme.decode(np.arange(scheme.n_patterns))
    n_seg = levels.shape[1]
    floor = np.zeros(levels.shape, dtype=np.float64)
    observed = np.zeros(levels.shape, dtype=bool)
    for s in range(n_seg):
        values = np.concatenate([[1.0], scheme.cuts[s, :scheme.n_cuts[s]], [0.0]])
        miss = scheme.missing_level(s)
        observed[:, s] = levels[:, s] != miss
        floor[:, s] = np.where(observed[:, s], values[np.minimum(levels[:, s], miss - 1)], 0.0)
    mean = floor.sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
    accept = (mean >= threshold - 1e-9) & observed.any(axis=1)
    posterior = np.repeat(accept[None, :].astype(np.float64), n_classes, axis=0)
    return FSModel(scheme=scheme, log2_bf=np.where(accept, 1.0, -1.0), prior=np.zeros(n_classes),
                   posterior=posterior, method="threshold",
                   expected_matches=np.zeros(n_classes))
