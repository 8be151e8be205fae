"""Small-cell suppression: suppressed cells cannot be recovered from what is published."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplink.linkage.counts import counts_document, read_capture_csv
from tiplink.linkage.protect import (
    audit,
    audit_document_cells,
    feasible_interval,
    protect_table,
    stratified_counts,
    table_items,
)

MSE = Path(__file__).resolve().parent / "data" / "mse"
F = frozenset


def histories_of(name: str) -> tuple[list[str], dict[frozenset[str], int]]:
    t = read_capture_csv(MSE / f"{name}.csv")
    cells = {
        F(n for i, n in enumerate(t.lists) if mask >> i & 1): c
        for mask, c in enumerate(t.cells)
        if c
    }
    return list(t.lists), cells


def test_single_small_cell_would_be_recoverable_without_secondary_suppression() -> None:
    parties = ["A", "B", "C"]
    exact = {F("A"): 40, F("B"): 30, F("C"): 25, F("AB"): 3, F("AC"): 12, F("BC"): 9, F("ABC"): 2}
    nbase, items = table_items(parties, [exact], [None])
    primary = {i for i, it in enumerate(items) if it.kind == "cell" and 0 < it.value < 5}
    # Hiding only the small cells: the per-party totals give them back.
    verdicts = audit(nbase, items, primary, 5)
    assert not all(ok for _, ok in verdicts.values())
    abc = next(i for i, it in enumerate(items) if it.key == ("cell", None, F("ABC")))
    exposed = feasible_interval(nbase, items, primary, abc)
    assert exposed.low == exposed.high == 2


def test_protected_pattern_hides_every_small_cell() -> None:
    parties = ["A", "B", "C"]
    exact = {F("A"): 40, F("B"): 30, F("C"): 25, F("AB"): 3, F("AC"): 12, F("BC"): 9, F("ABC"): 2}
    result = protect_table(parties, exact, 5)
    assert {F("AB"), F("ABC")} <= result.suppressed
    for key, interval in result.intervals.items():
        assert interval.high > interval.low
        if exact[key] < 5:
            assert interval.high >= 5
            assert interval.low <= exact[key] <= interval.high


@pytest.mark.parametrize("name", ["UKdat_5", "Western", "NewOrl_5", "Korea", "Kosovo"])
def test_published_tables_pass_independent_audit(name: str) -> None:
    parties, exact = histories_of(name)
    records = {p: sum(v for k, v in exact.items() if p in k) + 2 for p in parties}
    doc = counts_document(
        parties,
        records,
        [set(k) for k, v in exact.items() for _ in range(v)],
        5,
        {"skip": True},
    )
    shown = {F(c["parties"]): c["count"] for c in doc["capture_histories"] if not c["suppressed"]}
    for key, count in exact.items():
        if 0 < count < 5:
            assert key not in shown
        if key in shown:
            assert shown[key] == count
    verdicts = audit_document_cells(
        doc["parties"],
        exact,
        doc["capture_histories"],
        doc["unique_entities"],
        doc["unique_per_party"],
        5,
        doc["records"],
    )
    assert all(ok for _, ok in verdicts.values())
    for key, (interval, _) in verdicts.items():
        assert interval.low <= exact[key] <= interval.high
        assert interval.high - interval.low >= 1  # more than one integer value


def test_two_parties_need_a_total_withheld() -> None:
    exact = {F("A"): 40, F("B"): 30, F("AB"): 2}
    result = protect_table(["A", "B"], exact, 5)
    # With two parties the totals give the overlap by inclusion-exclusion.
    assert result.suppressed_totals
    assert result.intervals[F("AB")].high >= 5
    doc = counts_document(
        ["A", "B"], {"A": 45, "B": 33}, [set(k) for k, v in exact.items() for _ in range(v)], 5
    )
    assert "estimate" not in doc
    assert "withheld" in doc["estimate_error"]


def test_record_counts_are_audited_as_upper_bounds() -> None:
    # One party with 3 people: its record count (4) says the cell is small
    # unless it is withheld too.
    doc = counts_document(["a"], {"a": 4}, [["a"]] * 3, 5)
    assert doc["records"]["a"] is None and doc["unique_entities"] is None
    assert "records:a" in doc["suppressed_totals"]
    exact = {F("A"): 40, F("B"): 30, F("AB"): 2}
    with_records = protect_table(["A", "B"], exact, 5, {"A": 43, "B": 33})
    for interval in with_records.intervals.values():
        assert interval.high - interval.low >= 1
    assert with_records.intervals[F("AB")].high >= 5


def test_no_suppression_when_threshold_off_or_no_small_cells() -> None:
    exact = {F("A"): 40, F("B"): 30, F("AB"): 2}
    assert not protect_table(["A", "B"], exact, 0).suppressed
    assert not protect_table(["A", "B"], {F("A"): 40, F("B"): 30, F("AB"): 9}, 5).suppressed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=7, max_size=7))
def test_random_three_party_tables_are_protected(values: list[int]) -> None:
    parties = ["A", "B", "C"]
    keys = [F("A"), F("B"), F("C"), F("AB"), F("AC"), F("BC"), F("ABC")]
    exact = dict(zip(keys, values, strict=True))
    result = protect_table(parties, exact, 5)
    small = {k for k, v in exact.items() if 0 < v < 5}
    assert small <= result.suppressed
    for key, interval in result.intervals.items():
        assert interval.low <= exact[key] <= interval.high
        assert interval.high > interval.low
        if key in small:
            assert interval.high >= 5


def test_stratified_tables_are_protected_jointly() -> None:
    parties = ["ngo", "police"]
    strata = {
        "F": {F(["ngo"]): 30, F(["police"]): 50, F(["ngo", "police"]): 12},
        "M": {F(["ngo"]): 20, F(["police"]): 40, F(["ngo", "police"]): 3},
    }
    doc = stratified_counts(parties, strata, 5)
    m_cells = {F(c["parties"]): c for c in doc["strata"]["M"]["capture_histories"]}
    assert m_cells[F(["ngo", "police"])]["suppressed"]
    # Whatever else is withheld, the overall block and stratum F must not
    # give the small cell back by subtraction: audit the whole release.
    from tiplink.linkage.protect import table_items as items_of

    nbase, items = items_of(parties, [strata["F"], strata["M"]], ["F", "M"])
    hidden = set()
    for i, it in enumerate(items):
        block = doc["overall"] if it.key[1] is None else doc["strata"][it.key[1]]
        if it.kind == "cell" and it.value > 0:
            shown = {F(c["parties"]) for c in block["capture_histories"] if not c["suppressed"]}
            if it.key[2] not in shown:
                hidden.add(i)
        elif (it.key[0] == "unique_entities" and block["unique_entities"] is None) or (
            it.key[0] == "unique_per_party" and block["unique_per_party"][it.key[2]] is None
        ):
            hidden.add(i)
    verdicts = audit(nbase, items, hidden, 5)
    assert verdicts and all(ok for _, ok in verdicts.values())
    small = next(i for i, it in enumerate(items) if it.key == ("cell", "M", F(["ngo", "police"])))
    assert verdicts[small][0].high >= 5
