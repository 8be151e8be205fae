"""Population estimation: reproduction of the R packages' figures, sanity on every table."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplink.linkage.counts import read_capture_csv
from tiplink.linkage.estimate import (
    CaptureTable,
    EstimationError,
    bca_interval,
    bic_ranking,
    check_model,
    close_model,
    estimate,
    fit_model,
    format_model,
    hierarchical_models,
    main_effects,
    parse_model,
    stepwise_fit,
)

MSE = Path(__file__).resolve().parent / "data" / "mse"
TABLES = ["UKdat_5", "UKdat", "Ned_5", "Ned", "NewOrl_5", "NewOrl", "Western", "Kosovo", "Korea"]
MODEL_RE = re.compile(r"^\[[1-8]+(,[1-8]+)*\]$")


def table(name: str) -> CaptureTable:
    return read_capture_csv(MSE / f"{name}.csv")


def within(value: float, reference: float, rel: float = 0.005) -> bool:
    return abs(value - reference) <= rel * reference


# --- the UK reference figures (MultipleSystemsEstimation, shared/mse/README) ---


def test_uk5_stepwise_reproduces_reference() -> None:
    fit = stepwise_fit(table("UKdat_5"))
    assert within(fit.population, 11313)
    assert format_model(fit.model) == "[12,13,24,25,35,45]"


def test_uk6_stepwise_reproduces_reference() -> None:
    fit = stepwise_fit(table("UKdat"))
    assert within(fit.population, 11418)
    assert format_model(fit.model) == "[12,13,24,25,35,36,45]"


def test_uk5_bic_reproduces_reference() -> None:
    best = bic_ranking(table("UKdat_5"))[0]
    assert within(best.population, 25311)
    assert format_model(best.model) == "[123,25,34]"


# --- figures printed in the R package's vignettes ---


def test_korea_matches_package_vignettes() -> None:
    korea = table("Korea")
    step = stepwise_fit(korea)
    assert step.population == pytest.approx(268.7778, abs=1e-3)
    assert format_model(step.model) == "[12,3]"
    ranked = bic_ranking(korea, top=None)
    assert ranked[0].population == pytest.approx(157.1667, abs=1e-3)
    assert ranked[0].bic == pytest.approx(57.14081, abs=1e-4)
    # The vignette's full ranking: six admissible models, in this order.
    assert [format_model(f.model) for f in ranked] == [
        "[12,23]",
        "[12,3]",
        "[13,23]",
        "[23,1]",
        "[13,2]",
        "[1,2,3]",
    ]
    assert [round(f.population, 2) for f in ranked] == [
        157.17,
        268.78,
        123.46,
        126.19,
        126.94,
        141.99,
    ]


def test_new_orleans_stepwise_matches_package_vignette() -> None:
    fit = stepwise_fit(table("NewOrl"))
    assert fit.population == pytest.approx(1110.488, abs=1e-2)
    assert format_model(fit.model) == "[45,1,2,3,6,7,8]"  # the DE effect
    five = stepwise_fit(table("NewOrl_5"))
    assert five.population == pytest.approx(981.4314, abs=1e-3)
    assert format_model(five.model) == "[1,2,3,4,5]"


def test_western_stepwise_matches_package_vignette() -> None:
    fit = stepwise_fit(table("Western"))
    assert fit.population == pytest.approx(2483.384, abs=1e-2)
    assert format_model(fit.model) == "[15,2,3,4]"  # the AE effect


def test_existence_check_matches_package_examples() -> None:
    # Artificial_3 of the R packages (Chan, Silverman and Vincent 2021, Table 2).
    art = CaptureTable(("A", "B", "C"), (0, 40, 30, 6, 20, 0, 0, 0))
    assert check_model(art, parse_model("[12,13,23]", 3)) == 2
    assert check_model(art, parse_model("[12,3]", 3)) == 1
    assert check_model(art, parse_model("[13,23,1,2]", 3)) == 0


def test_kosovo_has_113_admissible_models() -> None:
    kosovo = table("Kosovo")
    models = hierarchical_models(4, 3)
    assert len(models) == 113
    assert sum(check_model(kosovo, m) == 0 for m in models) == 113


# --- every table by every method ---


@pytest.mark.parametrize("name", TABLES)
def test_stepwise_sane_on_every_table(name: str) -> None:
    t = table(name)
    result = estimate(t, "stepwise", bootstrap=0)
    assert math.isfinite(result.population) and result.population >= t.observed
    assert MODEL_RE.match(result.model), result.model
    assert result.ci95 is None
    # The fixed method on the selected model gives the same number.
    fixed = estimate(t, "fixed", result.model, bootstrap=0)
    assert fixed.population == pytest.approx(result.population, rel=1e-9)


@pytest.mark.parametrize("name", ["UKdat_5", "Ned_5", "NewOrl_5", "Western", "Kosovo", "Korea"])
def test_bic_sane_on_tables_up_to_five_lists(name: str) -> None:
    t = table(name)
    result = estimate(t, "bic", bootstrap=0)
    assert math.isfinite(result.population) and result.population >= t.observed
    assert MODEL_RE.match(result.model), result.model
    assert result.maxorder is not None
    assert max(len(g) for g in result.model.strip("[]").split(",")) <= result.maxorder


@pytest.mark.slow
@pytest.mark.parametrize("name", ["UKdat", "Ned"])
def test_bic_on_six_lists(name: str) -> None:
    t = table(name)
    result = estimate(t, "bic", bootstrap=0)
    assert result.population >= t.observed
    assert result.maxorder == 2 and MODEL_RE.match(result.model)


def test_bic_refuses_more_than_six_lists() -> None:
    with pytest.raises(EstimationError, match="2 to 6 lists"):
        estimate(table("NewOrl"), "bic", bootstrap=0)


@pytest.mark.parametrize("name", TABLES)
def test_fixed_main_effects_on_every_table(name: str) -> None:
    t = table(name)
    model = "[" + ",".join(str(i + 1) for i in range(t.nlists)) + "]"
    result = estimate(t, "fixed", model, bootstrap=0)
    assert result.model == model
    assert result.population >= t.observed


@pytest.mark.parametrize("name", ["Kosovo", pytest.param("Western", marks=pytest.mark.slow)])
def test_bic_pruning_is_exact(name: str) -> None:
    # The bound-pruned search must pick what the full enumeration picks.
    t = table(name)
    models = hierarchical_models(t.nlists, t.nlists - 1 if t.nlists < 5 else 3)
    full = []
    for m in models:
        f = fit_model(t, m)
        if f is not None and check_model(t, m) == 0:
            full.append(f)
    best_full = min(full, key=lambda f: f.bic)
    assert bic_ranking(t)[0].model == best_full.model


# --- intervals ---


def test_bootstrap_interval_is_seeded_and_contains_estimate() -> None:
    t = table("UKdat_5")
    a = estimate(t, "stepwise", bootstrap=25, seed=7)
    b = estimate(t, "stepwise", bootstrap=25, seed=7)
    c = estimate(t, "stepwise", bootstrap=25, seed=8)
    assert a.ci95 == b.ci95
    assert a.ci95 != c.ci95
    lo, hi = a.ci95
    assert lo < a.population < hi
    assert a.bootstrap_used == 25


def test_bic_and_fixed_bootstrap_intervals() -> None:
    korea = table("Korea")
    bic = estimate(korea, "bic", bootstrap=30, seed=3)
    assert bic.ci95 is not None and bic.ci95[0] <= bic.ci95[1]
    fixed = estimate(korea, "fixed", "[12,23]", bootstrap=30, seed=3)
    assert fixed.ci95 is not None
    # Replicates where the fixed model's MLE does not exist are dropped.
    assert 0 < fixed.bootstrap_used <= 30


def test_bca_reduces_to_percentiles_without_bias_or_acceleration() -> None:
    reps = np.arange(1, 1001, dtype=float)
    lo, hi = bca_interval(reps, 500.5, 0.0)
    assert lo == pytest.approx(np.quantile(reps, 0.025, method="median_unbiased"))
    assert hi == pytest.approx(np.quantile(reps, 0.975, method="median_unbiased"))


@pytest.mark.slow
def test_workers_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiplink.linkage.estimate as module

    monkeypatch.setattr(module, "POOL_MIN_REPLICATES", 8)
    t = table("Korea")
    one = estimate(t, "stepwise", bootstrap=24, seed=5, workers=1)
    two = estimate(t, "stepwise", bootstrap=24, seed=5, workers=2)
    assert one.ci95 == two.ci95


# --- models and tables ---


def test_model_notation_round_trip() -> None:
    assert format_model(parse_model("[25, 123,34]", 5)) == "[123,25,34]"
    assert format_model(parse_model("[12]", 3)) == "[12,3]"
    assert format_model(main_effects(4)) == "[1,2,3,4]"
    assert parse_model("[123]", 3) == close_model([0b111], 3)
    assert len(parse_model("[123]", 3)) == 8


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("12,23", "square brackets"),
        ("[12,,23]", "empty"),
        ("[1a]", "not a list digit"),
        ("[14]", "outside 1..3"),
        ("[11]", "repeats"),
    ],
)
def test_bad_model_strings(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_model(text, 3)


def test_unidentifiable_fixed_model_is_refused() -> None:
    with pytest.raises(EstimationError, match=r"not identifiable|no maximum-likelihood"):
        estimate(table("Korea"), "fixed", "[123]", bootstrap=0)


def test_no_estimate_when_one_list_holds_everyone() -> None:
    t = CaptureTable(("a", "b"), (0, 10, 0, 5))
    with pytest.raises(EstimationError, match="no finite estimate"):
        estimate(t, "stepwise", bootstrap=0)


def test_two_lists_is_lincoln_petersen() -> None:
    t = CaptureTable(("a", "b"), (0, 60, 30, 20))  # n1 = 80, n2 = 50, m = 20
    result = estimate(t, "stepwise", bootstrap=0)
    assert result.population == pytest.approx(80 * 50 / 20)
    assert result.model == "[1,2]"


@pytest.mark.parametrize("cells", [(0, 60, 30, 20), (0, 7, 3, 1), (0, 1000, 2, 3)])
def test_exactly_identified_fit_matches_the_glm(cells: tuple[int, ...],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The closed form for a model with one parameter per cell is the GLM's optimum."""
    import tiplink.linkage.estimate as est

    t = CaptureTable(("a", "b"), cells)
    fast = fit_model(t, main_effects(2))
    monkeypatch.setattr(est, "_exactly_identified", lambda design, y: None)
    slow = fit_model(t, main_effects(2))
    assert fast is not None and slow is not None
    assert fast.population == pytest.approx(slow.population, rel=1e-7)
    assert fast.loglik == pytest.approx(slow.loglik, rel=1e-7)
    assert fast.bic == pytest.approx(slow.bic, rel=1e-7)
    assert fast.params.keys() == slow.params.keys()
    for term, value in slow.params.items():
        assert fast.params[term] == pytest.approx(value, rel=1e-6, abs=1e-8)
    n1, n2, m = cells[1] + cells[3], cells[2] + cells[3], cells[3]
    assert fast.population == pytest.approx(n1 * n2 / m)


def test_three_lists_one_term_short_of_saturated_is_closed_form() -> None:
    """Three lists, all two-list interactions: 7 cells, 7 parameters."""
    t = CaptureTable(("a", "b", "c"), (0, 40, 30, 6, 20, 5, 4, 3))
    model = parse_model("[12,13,23]", 3)
    fit = fit_model(t, model)
    assert fit is not None
    observed = sum(t.cells)
    # The classical closed form: n000 = n100 n010 n001 n111 / (n110 n101 n011).
    dark = 40 * 30 * 20 * 3 / (6 * 5 * 4)
    assert fit.population == pytest.approx(observed + dark, rel=1e-9)


def test_capture_table_rejects_bad_values() -> None:
    with pytest.raises(EstimationError):
        CaptureTable(("a",), (0, 1))
    with pytest.raises(EstimationError):
        CaptureTable(("a", "b"), (1, 1, 1, 1))
    with pytest.raises(EstimationError):
        CaptureTable(("a", "b"), (0, -1, 1, 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=2, max_value=4).flatmap(
        lambda m: st.lists(
            st.integers(min_value=0, max_value=60), min_size=(1 << m) - 1, max_size=(1 << m) - 1
        )
    ),
    st.sampled_from(["stepwise", "bic"]),
)
def test_random_tables_give_an_estimate_or_a_clean_refusal(cells: list[int], method: str) -> None:
    m = (len(cells) + 1).bit_length() - 1
    t = CaptureTable(tuple("abcd"[:m]), (0, *cells))
    if t.observed == 0:
        return
    try:
        result = estimate(t, method, bootstrap=0)
    except EstimationError as exc:
        assert "no finite estimate" in exc.message or "not identifiable" in exc.message
        return
    assert math.isfinite(result.population)
    assert result.population >= t.observed - 1e-6
    assert MODEL_RE.match(result.model)
