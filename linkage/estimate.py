"""Population estimation by multiple systems estimation (MSE).

Poisson log-linear models over capture histories, fitted with statsmodels,
with the conventions of the R package ``MultipleSystemsEstimation``
(Silverman, Chan and Vincent), which supersedes ``SparseMSE`` (Chan,
Silverman and Vincent 2021):

* Capture histories and model terms are bit masks: bit ``i`` set means
  "seen by list ``i``" (list ``i`` is printed as digit ``i + 1``). Term 0 is
  the intercept, whose exponential is the dark figure.
* A term whose sufficient statistic (the number of people seen by all of its
  lists, whatever else they were seen by) is zero has extended-MLE value
  minus infinity: it is kept in the parameter count but its cells are removed
  before fitting (Chan, Silverman and Vincent 2021, section 2).
* A model is a candidate only if the extended MLE exists (the
  Fienberg-Rinaldo linear program) and its parameters are identifiable
  (full column rank); see :func:`check_model`.
* Stepwise: start from main effects; add the two-list interaction with the
  smallest Poisson p-value of its observed overlap given the current fit,
  among candidates that pass the check; stop when that p-value is not below
  ``pthresh`` (0.02).
* BIC: lowest ``npars * log(observed) - 2 * loglik`` over every hierarchical
  model up to a maximum interaction order (1, 2, 3, 3, 2 for 2..6 lists),
  counting minus-infinity parameters in ``npars``.
* Intervals: nonparametric (multinomial) bootstrap of the observed
  histories, repeating the model selection in every replicate, and BCa
  limits with a count-weighted delete-one jackknife acceleration.

All functions here are pure: they take a :class:`CaptureTable` and return
new values. Reading files lives in :mod:`tiplink.linkage.counts` and the
command line in :mod:`tiplink.linkage.commands`.
"""

from __future__ import annotations

import functools
import heapq
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.special import gammaln, ndtr, ndtri, xlogy

from tiplink.errors import TiplinkError

MIN_LISTS = 2
MAX_LISTS = 8
METHODS = ("stepwise", "bic", "fixed")
DEFAULT_METHOD = "stepwise"
DEFAULT_PTHRESH = 0.02
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 1234  # the R packages' default ``iseed``
CI_LEVELS = (0.025, 0.975)
# Below this many bootstrap replicates, worker processes cost more than they save.
POOL_MIN_REPLICATES = 200

# Default maximum interaction order for BIC, by number of lists (the R
# package's choice: the saturated model is never identifiable, and for six
# lists only pairwise models are enumerated).
BIC_DEFAULT_MAXORDER = {2: 1, 3: 2, 4: 3, 5: 3, 6: 2}
# Number of models (ranked by BIC on the original data) among which each
# bootstrap replicate re-selects; ``None`` means all.
BIC_DEFAULT_NTOP: dict[int, int | None] = {2: None, 3: None, 4: 20, 5: 100, 6: 100}

# The LP optimum is a rational number of modest denominator when the MLE
# exists (data are 0/1); anything below this is a numerical zero.
_LP_TOL = 1e-9

Model = frozenset[int]


class EstimationError(TiplinkError):
    """No finite, identifiable estimate exists for this table and method."""


# --------------------------------------------------------------------------
# Capture tables
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people by capture history.

    Attributes:
        lists: list (party) names, in the order that model digits refer to
            (digit 1 is ``lists[0]``).
        cells: ``2 ** len(lists)`` counts indexed by bit mask; ``cells[0]``
            (seen by no list) is always 0.
    """

    lists: tuple[str, ...]
    cells: tuple[int, ...]

    def __post_init__(self) -> None:
        m = len(self.lists)
        if not MIN_LISTS <= m <= MAX_LISTS:
            raise EstimationError(
                f"a capture table needs {MIN_LISTS} to {MAX_LISTS} lists, this one has {m}"
            )
        if len(set(self.lists)) != m:
            raise EstimationError("list names must be distinct")
        if len(self.cells) != 1 << m:
            raise EstimationError("a capture table needs one count per capture history")
        if any((not isinstance(c, int)) or c < 0 for c in self.cells):
            raise EstimationError("capture-history counts must be non-negative integers")
        if self.cells[0] != 0:
            raise EstimationError("the unobserved history (no list) cannot have a count")

    @classmethod
    def from_histories(
        cls,
        lists: Sequence[str],
        histories: Mapping[frozenset[str], int] | Iterable[tuple[Iterable[str], int]],
    ) -> CaptureTable:
        """Build a table from ``{set of list names: count}`` (repeats add up)."""
        index = {name: i for i, name in enumerate(lists)}
        cells = [0] * (1 << len(lists))
        items = histories.items() if isinstance(histories, Mapping) else histories
        for names, count in items:
            mask = 0
            for name in names:
                mask |= 1 << index[name]
            cells[mask] += int(count)
        return cls(tuple(lists), tuple(cells))

    @property
    def nlists(self) -> int:
        """Number of lists."""
        return len(self.lists)

    @property
    def observed(self) -> int:
        """Number of people seen by at least one list."""
        return sum(self.cells)

    def counts(self) -> np.ndarray:
        """The cells as a float array indexed by bit mask."""
        return np.asarray(self.cells, dtype=float)

    def with_cells(self, cells: Sequence[int]) -> CaptureTable:
        """The same lists with other counts (for resampling)."""
        return CaptureTable(self.lists, tuple(int(c) for c in cells))


# --------------------------------------------------------------------------
# Models: hierarchical sets of term masks
# --------------------------------------------------------------------------


def _bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def main_effects(m: int) -> Model:
    """The main-effects model (intercept and one term per list)."""
    return frozenset([0, *(1 << i for i in range(m))])


def close_model(terms: Iterable[int], m: int) -> Model:
    """Hierarchical closure of ``terms`` plus all main effects."""
    out = set(main_effects(m))
    for term in terms:
        bits = _bits(term)
        for k in range(1, len(bits) + 1):
            for sub in combinations(bits, k):
                out.add(sum(1 << b for b in sub))
    return frozenset(out)


def model_generators(model: Model) -> list[int]:
    """Maximal terms of a hierarchical model (its generating class)."""
    terms = [t for t in model if t]
    return [t for t in terms if not any(u != t and u & t == t for u in terms)]


def format_model(model: Model) -> str:
    """Print a model as its generators, e.g. ``[123,25,34]``.

    Generators are ordered as ``MultipleSystemsEstimation`` prints them: by
    decreasing ``order + sum(0.5 ** digit)``, so higher orders first and,
    within an order, lexicographically by digits.
    """

    def weight(term: int) -> float:
        digits = [b + 1 for b in _bits(term)]
        return len(digits) + sum(0.5**d for d in digits)

    gens = sorted(model_generators(model), key=weight, reverse=True)
    return "[" + ",".join("".join(str(b + 1) for b in _bits(g)) for g in gens) + "]"


def parse_model(text: str, m: int) -> Model:
    """Parse ``[12,23]`` notation (1-based list digits) into a hierarchical model.

    Main effects of every list are always included, so ``[12]`` on three lists
    is ``[12,3]``.

    Raises:
        ValueError: with a message naming what is wrong (not echoing input).
    """
    s = text.replace(" ", "")
    if len(s) < 2 or s[0] != "[" or s[-1] != "]":
        raise ValueError('a model looks like "[12,23]": generators in square brackets')
    body = s[1:-1]
    if not body:
        return main_effects(m)
    terms = []
    for pos, token in enumerate(body.split(","), start=1):
        if not token:
            raise ValueError(f"generator {pos} of the model is empty")
        if not token.isdigit():
            raise ValueError(
                f"generator {pos} of the model has a character that is not a list digit"
            )
        digits = [int(ch) for ch in token]
        if any(d < 1 or d > m for d in digits):
            raise ValueError(f"generator {pos} of the model names a list outside 1..{m}")
        if len(set(digits)) != len(digits):
            raise ValueError(f"generator {pos} of the model repeats a list")
        terms.append(sum(1 << (d - 1) for d in digits))
    return close_model(terms, m)


def model_order(model: Model) -> int:
    """Highest interaction order in the model."""
    return max(t.bit_count() for t in model)


@functools.lru_cache(maxsize=16)
def hierarchical_models(m: int, maxorder: int) -> tuple[Model, ...]:
    """Every hierarchical model with all main effects, terms up to ``maxorder``.

    Enumerated by a depth-first include/exclude over the candidate terms in
    order of size: a term may be included only once all of its one-smaller
    subsets are, so each down-closed set is produced exactly once. Returned
    sorted by number of parameters (stable), which the BIC search relies on.
    """
    candidates = [
        sum(1 << b for b in c) for k in range(2, maxorder + 1) for c in combinations(range(m), k)
    ]
    base = main_effects(m)
    found: list[Model] = []

    def rec(i: int, chosen: set[int]) -> None:
        if i == len(candidates):
            found.append(base | frozenset(chosen))
            return
        term = candidates[i]
        rec(i + 1, chosen)
        facets = [term ^ (1 << b) for b in _bits(term)]
        if term.bit_count() == 2 or all(f in chosen for f in facets):
            chosen.add(term)
            rec(i + 1, chosen)
            chosen.discard(term)

    rec(0, set())
    found.sort(key=len)
    return tuple(found)


# --------------------------------------------------------------------------
# Design matrices, existence and identifiability
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _subset_matrix(m: int) -> np.ndarray:
    """``S[c, t]`` is True when term ``t`` is contained in history ``c``."""
    masks = np.arange(1 << m)
    return (masks[:, None] & masks[None, :]) == masks[None, :]


def _nstar(m: int, y: np.ndarray) -> np.ndarray:
    """Sufficient statistics: for each term, the count of histories containing it."""
    return _subset_matrix(m).T.astype(float) @ y


def _support_bits(cells: Sequence[int] | np.ndarray) -> int:
    return sum(1 << c for c, v in enumerate(cells) if v > 0)


def _layout(m: int, nstar: np.ndarray, model: Model) -> tuple[np.ndarray, list[int], list[int]]:
    """Cells kept for fitting, estimated terms, and minus-infinity terms."""
    neginf = sorted(t for t in model if t and nstar[t] == 0)
    keep = np.ones(1 << m, dtype=bool)
    keep[0] = False
    if neginf:
        sub = _subset_matrix(m)
        for t in neginf:
            keep &= ~sub[:, t]
    est = sorted(t for t in model if t not in set(neginf))
    return keep, est, neginf


def check_model(table: CaptureTable, model: Model) -> int:
    """Check existence and identifiability of the (extended) MLE.

    Returns the ``MultipleSystemsEstimation`` status code: 0 when both hold,
    1 when the MLE does not exist, 2 when parameters are not identifiable,
    3 when both fail.

    Existence (Fienberg and Rinaldo 2012; Chan, Silverman and Vincent 2021):
    after removing the cells of minus-infinity terms, the MLE exists iff some
    strictly positive vector ``x`` over the kept cells has the observed
    sufficient statistics, ``A x = A y``. The linear program maximises ``s``
    subject to ``A x = A y``, ``x >= s``, ``s >= 0``; the MLE exists iff the
    optimum is positive. Existence depends only on which cells are non-zero,
    so the program runs on the 0/1 support and results are cached by
    support pattern.
    """
    return _check_cached(table.nlists, _support_bits(table.cells), model)


@functools.lru_cache(maxsize=262_144)
def _check_cached(m: int, support: int, model: Model) -> int:
    from scipy.optimize import linprog  # imported on first use: keeps start-up fast

    ysup = np.array([(support >> c) & 1 for c in range(1 << m)], dtype=float)
    nstar = _nstar(m, ysup)
    keep, est, _ = _layout(m, nstar, model)
    design = _subset_matrix(m)[keep][:, est].astype(float)
    nkeep, npar = design.shape
    rankdef = npar - (np.linalg.matrix_rank(design) if nkeep else 0)
    if nkeep == 0:
        return 1 + 2 * int(rankdef > 0)
    a_eq = np.hstack([design.T, np.zeros((npar, 1))])
    b_eq = design.T @ ysup[keep]
    a_ub = np.hstack([-np.eye(nkeep), np.ones((nkeep, 1))])
    objective = np.zeros(nkeep + 1)
    objective[-1] = -1.0
    result = linprog(
        objective,
        A_ub=a_ub,
        b_ub=np.zeros(nkeep),
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs",
    )
    exists = result.status == 0 and -result.fun > _LP_TOL
    return int(not exists) + 2 * int(rankdef > 0)


# --------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFit:
    """A fitted Poisson log-linear model.

    Attributes:
        model: the hierarchical model (term masks).
        population: observed plus the estimated dark figure.
        dark_figure: ``exp(intercept)``, the expected unobserved count.
        loglik: maximised Poisson log-likelihood (with ``log y!`` terms).
        bic: ``len(model) * log(observed) - 2 * loglik``.
        fitted: fitted means indexed by history mask (0 for removed cells and
            for the unobserved history).
    """

    model: Model
    population: float
    dark_figure: float
    loglik: float
    bic: float
    fitted: np.ndarray = field(repr=False, compare=False)
    params: Mapping[int, float] = field(repr=False, compare=False, default_factory=dict)


def fit_model(
    table: CaptureTable, model: Model, start: Mapping[int, float] | None = None
) -> ModelFit | None:
    """Fit ``model`` by Poisson GLM (statsmodels); ``None`` if the fit fails.

    Does not check existence: callers that need a valid estimate call
    :func:`check_model` first (a GLM fit to data whose MLE does not exist
    "converges" to a meaningless point as parameters run off to infinity).

    Args:
        table: the counts.
        model: the hierarchical model.
        start: optional starting values by term (a fit of a nearby model or
            table); IRLS then converges in a few iterations instead of ~10.
            The optimum does not depend on it.
    """
    m = table.nlists
    y_all = table.counts()
    nstar = _nstar(m, y_all)
    keep, est, _ = _layout(m, nstar, model)
    design = _subset_matrix(m)[keep][:, est].astype(float)
    y = y_all[keep]
    if design.shape[0] < design.shape[1]:
        return None
    beta = _exactly_identified(design, y)
    if beta is not None:
        mu = y.astype(float)
    else:
        import statsmodels.api as sm  # heavy (~1 s); closed-form fits never need it

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                glm = sm.GLM(y, design, family=sm.families.Poisson())
                if start:
                    result = glm.fit(start_params=np.array([start.get(t, 0.0) for t in est]))
                else:
                    result = glm.fit()
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                return None
        mu = np.asarray(result.mu, dtype=float)
        beta = np.asarray(result.params, dtype=float)
    intercept = float(beta[0])  # est is sorted, so term 0 comes first
    if not (np.all(np.isfinite(mu)) and math.isfinite(intercept)) or intercept > 700:
        return None
    dark = math.exp(intercept)
    loglik = float(np.sum(xlogy(y, mu) - mu - gammaln(y + 1)))
    observed = float(y_all.sum())
    bic = len(model) * math.log(observed) - 2.0 * loglik
    fitted = np.zeros(1 << m)
    fitted[keep] = mu
    params = {t: float(v) for t, v in zip(est, beta, strict=True)}
    return ModelFit(model, observed + dark, dark, loglik, bic, fitted, params)


def _exactly_identified(design: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Closed-form Poisson MLE when the model has one parameter per observed cell.

    Such a model (two lists' main effects; any model one term short of
    saturated) reproduces the data, so its parameters solve
    ``design @ beta = log y`` exactly: no iterations. This is the
    Lincoln-Petersen estimate for two lists, and it makes the bootstrap of a
    two-list table about a hundred times cheaper. ``None`` (use the GLM) when
    a cell is empty or the design is singular.
    """
    if design.shape[0] != design.shape[1] or not np.all(y > 0):
        return None
    try:
        return np.linalg.solve(design, np.log(y.astype(float)))
    except np.linalg.LinAlgError:
        return None


def _saturated_loglik(y: np.ndarray) -> float:
    """Upper bound of any model's log-likelihood (fitted means equal to data)."""
    return float(np.sum(xlogy(y, y) - y - gammaln(y + 1)))


# --------------------------------------------------------------------------
# Model selection
# --------------------------------------------------------------------------


def _require_main_effects(table: CaptureTable) -> Model:
    base = main_effects(table.nlists)
    if check_model(table, base) != 0:
        raise EstimationError(
            "no finite estimate: the main-effects model has no maximum-likelihood "
            "estimate for this table (for example one list holds every observed "
            "person, or a list is empty)"
        )
    return base


def stepwise_fit(
    table: CaptureTable,
    pthresh: float = DEFAULT_PTHRESH,
    starts: Mapping[Model, Mapping[int, float]] | None = None,
    path: list[ModelFit] | None = None,
) -> ModelFit:
    """Forward stepwise selection of two-list interactions.

    From main effects, each step computes for every absent pair the Poisson
    p-value ``min(P(X <= n), P(X >= n))`` of the observed overlap ``n`` (people
    on both lists, whatever else) where ``X`` is Poisson with the current
    fit's expected overlap. The pair with the smallest p-value among those
    whose extended MLE exists and is identifiable is added if its p-value is
    below ``pthresh``; ties go to the first pair in lexicographic order.
    Checking candidates in p-value order and stopping at the first valid one
    gives the same choice as checking them all.

    ``starts`` (optional) gives GLM starting values by model, e.g. from the
    fits to the original table when this one is a bootstrap resample;
    otherwise each step starts from the previous step's fit. ``path``, when
    given, receives every fit along the way.

    Raises:
        EstimationError: if no finite estimate exists.
    """
    m = table.nlists
    model = _require_main_effects(table)
    starts = starts or {}
    current = fit_model(table, model, starts.get(model))
    if current is None:
        raise EstimationError("no finite estimate: the main-effects model could not be fitted")
    if path is not None:
        path.append(current)
    pairs = [(1 << i) | (1 << j) for i in range(m) for j in range(i + 1, m)]
    if pthresh <= 0 or m == 2:
        # Two lists: their interaction would leave the unseen cell unidentified.
        return current
    from scipy import stats  # slow to import; two-list tables never need it
    if pthresh >= 1:
        full = model | frozenset(pairs)
        if check_model(table, full) == 0:
            fitted = fit_model(table, full)
            if fitted is not None:
                return fitted
    nstar = _nstar(m, table.counts())
    sub = _subset_matrix(m).astype(float)
    while True:
        candidates = [k for k in pairs if k not in model]
        if not candidates:
            break
        expected = sub[:, candidates].T @ current.fitted
        observed = nstar[candidates]
        pvals = np.minimum(
            stats.poisson.cdf(observed, expected), stats.poisson.sf(observed - 1, expected)
        )
        chosen = None
        for j in sorted(range(len(candidates)), key=lambda j: (pvals[j], j)):
            if not pvals[j] < pthresh:
                break
            if check_model(table, model | {candidates[j]}) == 0:
                chosen = candidates[j]
                break
        if chosen is None:
            break
        trial = fit_model(table, model | {chosen}, starts.get(model | {chosen}, current.params))
        if trial is None:
            break
        model, current = model | {chosen}, trial
        if path is not None:
            path.append(current)
    return current


def bic_ranking(
    table: CaptureTable,
    maxorder: int | None = None,
    top: int | None = 1,
    models: Sequence[Model] | None = None,
    starts: Mapping[Model, Mapping[int, float]] | None = None,
) -> list[ModelFit]:
    """The ``top`` admissible models with the lowest BIC, best first.

    Exhaustive over hierarchical models up to ``maxorder`` (or over
    ``models``), but exact pruning makes it fast: a model's BIC is at least
    ``npars * log(n) - 2 * loglik_saturated``, and models are visited in order
    of increasing size, so once that bound reaches the ``top``-th best BIC
    found so far no later model can enter. Existence is checked only for
    models that would enter.

    ``starts`` optionally gives GLM starting values by model.

    Raises:
        EstimationError: if no model is admissible, or there are too many lists.
    """
    m = table.nlists
    starts = starts or {}
    if models is None:
        if maxorder is None:
            if m not in BIC_DEFAULT_MAXORDER:
                raise EstimationError(
                    f"BIC selection enumerates all hierarchical models and supports 2 to 6 lists "
                    f"(this table has {m}); use --method stepwise"
                )
            maxorder = BIC_DEFAULT_MAXORDER[m]
        if not 1 <= maxorder < m or (m >= 6 and maxorder > 2):
            raise EstimationError(
                f"BIC maximum order must be between 1 and {min(m - 1, 2 if m >= 6 else m)} "
                f"for {m} lists"
            )
        models = hierarchical_models(m, maxorder)
    order = sorted(range(len(models)), key=lambda i: len(models[i]))
    y = table.counts()
    logn = math.log(table.observed)
    llsat = _saturated_loglik(y)
    heap: list[tuple[float, int, ModelFit]] = []  # max-heap on BIC via negation
    limit = len(models) if top is None else top
    # Models come in order of size, so a model one term smaller has usually
    # been fitted already: its estimates are a close start for IRLS, which
    # then needs about half the iterations. Diverging fits (MLE at infinity)
    # are not used as starts.
    earlier: dict[Model, Mapping[int, float]] = {}
    for idx in order:
        model = models[idx]
        threshold = -heap[0][0] if len(heap) >= limit else math.inf
        if len(model) * logn - 2.0 * llsat >= threshold:
            break
        start = starts.get(model)
        if start is None:
            for gen in model_generators(model):
                start = earlier.get(model - {gen})
                if start is not None:
                    break
        fitted = fit_model(table, model, start)
        if fitted is not None and max(abs(v) for v in fitted.params.values()) < 25:
            earlier[model] = fitted.params
        if fitted is None or not fitted.bic < threshold:
            continue
        if check_model(table, model) != 0:
            continue
        item = (-fitted.bic, -idx, fitted)
        if len(heap) >= limit:
            heapq.heapreplace(heap, item)
        else:
            heapq.heappush(heap, item)
    if not heap:
        raise EstimationError("no finite estimate: no hierarchical model has an MLE for this table")
    ranked = sorted(heap, key=lambda item: (-item[0], -item[1]))
    return [item[2] for item in ranked]


def fixed_fit(
    table: CaptureTable, model: Model, start: Mapping[int, float] | None = None
) -> ModelFit:
    """Fit a given model after checking that its MLE exists.

    Raises:
        EstimationError: if it does not, or the parameters are not identifiable.
    """
    code = check_model(table, model)
    if code & 1:
        raise EstimationError(
            f"no finite estimate: model {format_model(model)} has no maximum-likelihood "
            "estimate for this table"
        )
    if code & 2:
        raise EstimationError(
            f"model {format_model(model)} is not identifiable for this table "
            "(more parameters than usable capture histories)"
        )
    fitted = fit_model(table, model, start)
    if fitted is None:
        raise EstimationError(f"model {format_model(model)} could not be fitted")
    return fitted


# --------------------------------------------------------------------------
# Bootstrap and BCa
# --------------------------------------------------------------------------


def bca_interval(
    replicates: np.ndarray,
    estimate: float,
    acceleration: float,
    levels: Sequence[float] = CI_LEVELS,
) -> tuple[float, ...]:
    """BCa limits (Efron 1987) as ``bcaconfvalues`` computes them.

    The bias correction is ``qnorm`` of the share of replicates below the
    estimate (clipped to ``[1/(2B), 1 - 1/(2B)]`` so that it stays finite);
    the adjusted levels are read off the replicates with the Hyndman-Fan
    type 8 quantile, as R's ``quantile(type = 8)``.
    """
    # The normal quantile and distribution function straight from
    # scipy.special (what scipy.stats.norm.ppf and .cdf call): importing
    # scipy.stats took half a second of every two-party link.
    reps = np.asarray(replicates, dtype=float)
    n = len(reps)
    share = float(np.mean(reps < estimate))
    share = min(max(share, 0.5 / n), 1.0 - 0.5 / n)
    z0 = ndtri(share)
    za = ndtri(np.asarray(levels))
    za0 = za + z0
    adjusted = ndtr(z0 + za0 / (1.0 - acceleration * za0))
    return tuple(float(q) for q in np.quantile(reps, adjusted, method="median_unbiased"))


def _jackknife_acceleration(
    table: CaptureTable, estimator: Callable[[CaptureTable], float]
) -> float:
    """Acceleration from delete-one-person estimates, one per observed history.

    Deleting any one of the ``n_h`` people with history ``h`` gives the same
    table, so each history is computed once and weighted by ``n_h``.
    """
    cells = list(table.cells)
    weights, values = [], []
    for h, count in enumerate(cells):
        if count <= 0:
            continue
        reduced = cells.copy()
        reduced[h] -= 1
        value = estimator(table.with_cells(reduced))
        weights.append(count)
        values.append(value)
    w = np.asarray(weights, dtype=float)
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return math.nan
    resid = np.sum(w * v) / np.sum(w) - v
    denom = np.sum(w * resid**2)
    if denom <= 0:
        return 0.0
    return float(np.sum(w * resid**3) / (6.0 * denom**1.5))


@dataclass(frozen=True)
class Estimator:
    """The model selection rerun on every resampled table (picklable).

    Attributes:
        method: ``stepwise``, ``bic`` or ``fixed``.
        pthresh: stepwise threshold.
        models: BIC shortlist, or the single fixed model.
        starts: GLM starting values by model, from the original table's fits.
    """

    method: str
    pthresh: float = DEFAULT_PTHRESH
    models: tuple[Model, ...] = ()
    starts: Mapping[Model, Mapping[int, float]] = field(default_factory=dict)

    def __call__(self, sample: CaptureTable) -> float:
        """Population estimate for ``sample``; NaN when none exists."""
        try:
            if self.method == "stepwise":
                return stepwise_fit(sample, self.pthresh, starts=self.starts).population
            if self.method == "bic":
                return bic_ranking(sample, models=self.models, top=1, starts=self.starts)[
                    0
                ].population
            model = self.models[0]
            return fixed_fit(sample, model, self.starts.get(model)).population
        except EstimationError:
            return math.nan


def _evaluate(estimator: Estimator, lists: tuple[str, ...], draws: np.ndarray) -> list[float]:
    return [estimator(CaptureTable(lists, tuple(int(v) for v in row))) for row in draws]


def bootstrap_replicates(
    table: CaptureTable,
    estimator: Callable[[CaptureTable], float],
    n: int,
    seed: int | None,
    workers: int = 1,
) -> np.ndarray:
    """Population estimates from ``n`` multinomial resamples of the observed people.

    Each replicate redraws ``observed`` people from the observed histories
    with probabilities proportional to their counts, as the R packages do
    (a nonparametric bootstrap). Replicates with no finite estimate are NaN.
    All draws come from one seeded generator before any is evaluated, so
    the result does not depend on ``workers``.

    Args:
        table: the original counts.
        estimator: maps a table to a population estimate (NaN if none).
        n: number of replicates.
        seed: generator seed.
        workers: processes to spread the replicates over (an
            :class:`Estimator` is needed for more than one).
    """
    rng = np.random.default_rng(seed)
    cells = np.asarray(table.cells, dtype=float)
    draws = rng.multinomial(table.observed, cells / cells.sum(), size=n)
    # Starting worker processes costs about a second each: only worth it for
    # long runs.
    if workers <= 1 or n < POOL_MIN_REPLICATES or not isinstance(estimator, Estimator):
        return np.asarray(_evaluate_any(estimator, table.lists, draws), dtype=float)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": never fork a process that may hold threads (gRPC, BLAS).
    chunks = np.array_split(draws, workers * 4)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = pool.map(_evaluate, [estimator] * len(chunks), [table.lists] * len(chunks), chunks)
        return np.asarray([v for part in parts for v in part], dtype=float)


def _evaluate_any(
    estimator: Callable[[CaptureTable], float], lists: tuple[str, ...], draws: np.ndarray
) -> list[float]:
    out = []
    for row in draws:
        try:
            out.append(estimator(CaptureTable(lists, tuple(int(v) for v in row))))
        except EstimationError:
            out.append(math.nan)
    return out


# --------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A population estimate with its method, model and interval.

    Attributes:
        population: estimated total (observed plus dark figure).
        ci95: BCa 95% bootstrap interval, or ``None`` when not computed.
        method: ``stepwise``, ``bic`` or ``fixed``.
        model: the fitted model, e.g. ``[12,13,24]`` (digits index ``lists``).
        observed: people seen by at least one list.
        dark_figure: estimated people seen by none.
        lists: list names in digit order.
        bootstrap: replicates requested; ``bootstrap_used`` had finite estimates.
        seed: bootstrap seed.
        pthresh: stepwise threshold (stepwise only).
        maxorder: highest interaction order considered (BIC only).
        bic: BIC of the fitted model.
    """

    population: float
    ci95: tuple[float, float] | None
    method: str
    model: str
    observed: int
    dark_figure: float
    lists: tuple[str, ...]
    bootstrap: int
    bootstrap_used: int
    seed: int | None
    pthresh: float | None
    maxorder: int | None
    bic: float

    def to_dict(self) -> dict:
        """The JSON document: CONTRACT keys first, then details."""
        return {
            "population": round(self.population, 2),
            "ci95": None if self.ci95 is None else [round(v, 2) for v in self.ci95],
            "method": self.method,
            "model": self.model,
            "observed": self.observed,
            "dark_figure": round(self.dark_figure, 2),
            "lists": list(self.lists),
            "bootstrap": self.bootstrap,
            "bootstrap_used": self.bootstrap_used,
            "seed": self.seed,
            "pthresh": self.pthresh,
            "maxorder": self.maxorder,
            "bic": round(self.bic, 4),
        }


def estimate(
    table: CaptureTable,
    method: str = DEFAULT_METHOD,
    model: str | Model | None = None,
    *,
    pthresh: float = DEFAULT_PTHRESH,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | None = DEFAULT_SEED,
    maxorder: int | None = None,
    ntop: int | None = None,
    workers: int = 1,
) -> Estimate:
    """Estimate the population size from a capture table.

    Args:
        table: exact counts (never a suppressed table).
        method: ``stepwise``, ``bic`` or ``fixed``.
        model: the model for ``fixed`` (``[12,23]`` notation or term masks).
        pthresh: stepwise p-value threshold.
        bootstrap: number of bootstrap replicates; 0 gives no interval.
        seed: seed of the bootstrap generator.
        maxorder: BIC maximum interaction order (default by number of lists).
        ntop: BIC models re-selected among in each replicate (default 20 for
            four lists, 100 for five or six, all otherwise).
        workers: processes for the bootstrap (results do not depend on it).

    Raises:
        EstimationError: if no finite estimate exists, or arguments are invalid.
    """
    if method not in METHODS:
        raise EstimationError(f"unknown method; use one of {', '.join(METHODS)}")
    if bootstrap < 0:
        raise EstimationError("the number of bootstrap replicates must be 0 or more")
    m = table.nlists
    if table.observed <= 0:
        raise EstimationError("no finite estimate: the table has no observed people")
    used_maxorder: int | None = None
    if method == "stepwise":
        if not 0 <= pthresh <= 1:
            raise EstimationError("the stepwise p-value threshold must be between 0 and 1")
        path: list[ModelFit] = []
        best = stepwise_fit(table, pthresh, path=path)
        estimator = Estimator("stepwise", pthresh, (), {f.model: f.params for f in path})
    elif method == "bic":
        used_maxorder = maxorder if maxorder is not None else BIC_DEFAULT_MAXORDER.get(m)
        if used_maxorder is None:
            bic_ranking(table)  # raises the "too many lists" error
        n_models = len(hierarchical_models(m, used_maxorder)) if m <= 6 else 0
        top = ntop if ntop is not None else BIC_DEFAULT_NTOP.get(m)
        keep = n_models if top is None else min(top, n_models)
        ranked = bic_ranking(table, used_maxorder, top=max(1, keep) if bootstrap else 1)
        best = ranked[0]
        estimator = Estimator(
            "bic", pthresh, tuple(f.model for f in ranked), {f.model: f.params for f in ranked}
        )
    else:
        if model is None:
            raise EstimationError('method fixed needs a model, e.g. --model "[12,23]"')
        if isinstance(model, str):
            try:
                fixed_model = parse_model(model, m)
            except ValueError as exc:
                raise EstimationError(str(exc)) from None
        else:
            fixed_model = close_model(model, m)
        best = fixed_fit(table, fixed_model)
        estimator = Estimator("fixed", pthresh, (fixed_model,), {fixed_model: best.params})

    ci: tuple[float, float] | None = None
    used = 0
    if bootstrap > 0:
        reps = bootstrap_replicates(table, estimator, bootstrap, seed, workers)
        finite = reps[np.isfinite(reps)]
        used = len(finite)
        accel = _jackknife_acceleration(table, estimator)
        if used >= 2 and math.isfinite(accel):
            lo, hi = bca_interval(finite, best.population, accel)
            ci = (lo, hi)
    return Estimate(
        population=best.population,
        ci95=ci,
        method=method,
        model=format_model(best.model),
        observed=table.observed,
        dark_figure=best.dark_figure,
        lists=table.lists,
        bootstrap=bootstrap,
        bootstrap_used=used,
        seed=seed if bootstrap > 0 else None,
        pthresh=pthresh if method == "stepwise" else None,
        maxorder=used_maxorder,
        bic=best.bic,
    )
