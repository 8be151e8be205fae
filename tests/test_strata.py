"""Strata: one value per entity, per-stratum counts and estimates, joint protection."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import assert_one_line_error, encode_registers, run_tiplink
from tiplink.encoders.extract import Extract, ExtractHeader
from tiplink.errors import InputError
from tiplink.linkage.counts import counts_document, validate_counts
from tiplink.linkage.protect import audit_stratified_document, protect_table
from tiplink.linkage.report import render_report
from tiplink.linkage.strata import (
    POOLED,
    UNKNOWN,
    EntityStrata,
    entity_strata,
    pool_small_values,
    record_strata,
)

F = frozenset


# ---------------------------------------------------------------- the entity rule


def test_most_frequent_value_wins_and_empty_is_unknown() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2])
    group = np.array([0, 1, 1, 0, 1, 0])
    values = ["F", "M", "M", "", "", ""]
    strata = entity_strata(labels, group, ["police", "ngo"], {"sex": values})
    assert strata.values["sex"] == ["M", UNKNOWN, UNKNOWN]


def test_tie_goes_to_first_record_in_party_name_order_not_input_order() -> None:
    # Entity 0: one F record at "police", one M record at "ngo"; "ngo" sorts
    # first, so M wins whichever order the inputs were given in.
    for parties, group in ((["police", "ngo"], [0, 1]), (["ngo", "police"], [1, 0])):
        strata = entity_strata(np.array([0, 0]), np.array(group), parties, {"sex": ["F", "M"]})
        assert strata.values["sex"] == ["M"]
    # Within one party the earlier record wins a tie.
    strata = entity_strata(np.array([0, 0]), np.array([0, 0]), ["a"], {"sex": ["X", "F"]})
    assert strata.values["sex"] == ["X"]


def test_records_are_counted_in_their_entitys_stratum() -> None:
    labels = np.array([0, 0, 1, 1, 1])
    group = np.array([0, 0, 0, 1, 1])
    strata = entity_strata(labels, group, ["a", "b"], {"sex": ["F", "", "M", "M", "F"]})
    assert strata.values["sex"] == ["F", "M"]
    assert strata.records("sex") == {"F": {"a": 2, "b": 0}, "M": {"a": 1, "b": 2}}


def _extract(party: str, n: int, strata: dict[str, list] | None) -> Extract:
    header = ExtractHeader(
        party=party,
        schema_fingerprint="",
        key_check="",
        bit_length=8,
        record_count=n,
        created_at="",
        strata=tuple(strata or ()),
    )
    return Extract(
        header, [str(i) for i in range(n)], np.zeros((n, 1), np.uint8), dict(strata or {})
    )


def test_record_strata_union_of_names_and_missing_columns_are_empty() -> None:
    out = record_strata(
        [
            _extract("a", 2, {"sex": ["F", None]}),
            _extract("b", 1, None),
            _extract("c", 1, {"age": ["18-24"]}),
        ]
    )
    assert out == {"sex": ["F", "", "", ""], "age": ["", "", "", "18-24"]}


def test_rare_values_are_pooled_and_a_lone_rare_value_joins_the_next_smallest() -> None:
    values = ["F"] * 100 + ["M"] * 80 + ["X"] * 3 + [UNKNOWN] * 60
    strata = EntityStrata(("sex",), {"sex": values}, {})
    pooled, note = pool_small_values(strata, 50)
    assert note == {"sex": {"label": POOLED, "values": ["X", UNKNOWN]}}
    assert Counter(pooled.values["sex"]) == {"F": 100, "M": 80, POOLED: 63}
    # Nothing rare: unchanged.
    same, note = pool_small_values(strata, 3)
    assert same is strata and note == {}


# ---------------------------------------------------------------- COUNTS.json strata


def _population(
    seed: int, n: int = 400, parties: tuple[str, ...] = ("a", "b", "c")
) -> tuple[list[frozenset[str]], list[str], list[str]]:
    """Random entities: party sets, a sex and an age band each."""
    rng = np.random.default_rng(seed)
    sets, sexes, ages = [], [], []
    for _ in range(n):
        held = frozenset(p for p in parties if rng.random() < 0.45)
        if not held:
            continue
        sets.append(held)
        sexes.append(str(rng.choice(["F", "M", "X", UNKNOWN], p=[0.55, 0.38, 0.02, 0.05])))
        ages.append(str(rng.choice(["0-17", "18-34", "35+"], p=[0.2, 0.6, 0.2])))
    return sets, sexes, ages


def _strata_of(
    sets: list[frozenset[str]],
    columns: dict[str, list[str]],
    parties: list[str],
    dup_every: int = 7,
) -> tuple[EntityStrata, dict[str, int]]:
    """EntityStrata with some duplicate records; returns it and records per party."""
    combos = list(zip(*columns.values(), strict=True))
    combo_records: dict[tuple[str, ...], dict[str, int]] = {}
    records = dict.fromkeys(parties, 0)
    for k, (combo, held) in enumerate(zip(combos, sets, strict=True)):
        row = combo_records.setdefault(combo, dict.fromkeys(parties, 0))
        for p in held:
            extra = 1 if k % dup_every == 0 else 0
            row[p] += 1 + extra
            records[p] += 1 + extra
    return EntityStrata(tuple(columns), columns, combo_records), records


def test_strata_blocks_add_up_to_the_overall_table_without_suppression() -> None:
    parties = ["a", "b", "c"]
    sets, sexes, _ = _population(1)
    strata, records = _strata_of(sets, {"sex": sexes}, parties)
    doc = counts_document(parties, records, sets, 0, {"bootstrap": 0}, strata=strata)
    validate_counts(json.loads(json.dumps(doc)))
    blocks = doc["strata"]["sex"]
    assert set(blocks) == set(sexes)
    assert sum(b["unique_entities"] for b in blocks.values()) == doc["unique_entities"]
    for p in parties:
        assert sum(b["records"][p] for b in blocks.values()) == doc["records"][p]
        assert sum(b["unique_per_party"][p] for b in blocks.values()) == doc["unique_per_party"][p]
    overall = {F(c["parties"]): c["count"] for c in doc["capture_histories"]}
    summed: Counter[frozenset[str]] = Counter()
    for b in blocks.values():
        summed.update({F(c["parties"]): c["count"] for c in b["capture_histories"]})
    assert dict(summed) == overall
    # Large strata get their own estimate; the tiny X stratum is flagged.
    assert blocks["F"]["estimate"]["population"] >= blocks["F"]["unique_entities"]
    assert "too few people" in blocks["X"]["estimate_error"]
    assert "estimate" not in blocks["X"]


def _joint(
    sets: list[frozenset[str]], columns: dict[str, list[str]]
) -> Counter[tuple[tuple[str, ...], frozenset[str]]]:
    return Counter(zip(zip(*columns.values(), strict=True), sets, strict=True))


def _pooled_columns(doc: dict, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """The entity values as published (after pooling rare values)."""
    out = {}
    for name, values in columns.items():
        note = (doc.get("strata_pooled") or {}).get(name)
        pool = set(note["values"]) if note else set()
        out[name] = [note["label"] if v in pool else v for v in values]
    return out


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_stratified_release_is_unrecoverable_by_the_auditor(seed: int) -> None:
    parties = ["a", "b", "c"]
    sets, sexes, _ = _population(seed, n=260)
    strata, records = _strata_of(sets, {"sex": sexes}, parties)
    doc = counts_document(parties, records, sets, 5, {"bootstrap": 0}, strata=strata)
    validate_counts(json.loads(json.dumps(doc)))
    columns = _pooled_columns(doc, {"sex": sexes})
    pooled_strata, _ = pool_small_values(strata, 50)
    joint = _joint(sets, columns)
    verdicts = audit_stratified_document(
        parties, ["sex"], joint, pooled_strata.combo_records, doc, 5
    )
    assert verdicts, "small cells exist, so something must be withheld"
    assert all(ok for _, ok in verdicts.values()), {k: v for k, v in verdicts.items() if not v[1]}
    # Every small stratum cell is withheld, and an intruder cannot rule out
    # that it holds K or more.
    small = 0
    for name, blocks in doc["strata"].items():
        for value, block in blocks.items():
            for cell in block["capture_histories"]:
                exact = joint[((value,), F(cell["parties"]))]
                if not cell["suppressed"]:
                    assert cell["count"] == exact >= 5
                elif exact < 5:
                    small += 1
                    assert verdicts[("cell", (name, value), F(cell["parties"]))][0].high >= 5
    assert small
    # Plain subtraction: a withheld stratum cell never has all the other
    # cells of its column (the overall and every other stratum) published.
    overall_shown = {F(c["parties"]) for c in doc["capture_histories"] if not c["suppressed"]}
    for blocks in doc["strata"].values():
        for value, block in blocks.items():
            for cell in block["capture_histories"]:
                if not cell["suppressed"]:
                    continue
                column = F(cell["parties"])
                others_hidden = [
                    v
                    for v, b in blocks.items()
                    if v != value
                    and any(
                        F(c["parties"]) == column and c["suppressed"]
                        for c in b["capture_histories"]
                    )
                ]
                assert column not in overall_shown or others_hidden


def test_overall_table_is_protected_as_without_strata() -> None:
    parties = ["a", "b", "c"]
    sets, sexes, _ = _population(6, n=300)
    strata, records = _strata_of(sets, {"sex": sexes}, parties)
    with_strata = counts_document(parties, records, sets, 5, {"skip": True}, strata=strata)
    plain = counts_document(parties, records, sets, 5, {"skip": True})
    hidden = {F(c["parties"]) for c in with_strata["capture_histories"] if c["suppressed"]}
    expected = protect_table(parties, Counter(sets), 5, records).suppressed
    assert hidden == set(expected)
    assert with_strata["capture_histories"] == plain["capture_histories"]


def test_two_stratum_variables_are_protected_jointly() -> None:
    parties = ["a", "b", "c"]
    sets, sexes, ages = _population(7, n=260)
    columns = {"sex": sexes, "age": ages}
    strata, records = _strata_of(sets, columns, parties)
    doc = counts_document(parties, records, sets, 5, {"bootstrap": 0}, strata=strata)
    assert set(doc["strata"]) == {"sex", "age"}
    pooled_strata, _ = pool_small_values(strata, 50)
    verdicts = audit_stratified_document(
        parties,
        ["sex", "age"],
        _joint(sets, _pooled_columns(doc, columns)),
        pooled_strata.combo_records,
        doc,
        5,
    )
    assert verdicts and all(ok for _, ok in verdicts.values())


def test_stratum_estimate_is_withheld_with_two_parties_and_a_small_cell() -> None:
    parties = ["a", "b"]
    sets = (
        [F("a")] * 60
        + [F("b")] * 50
        + [F("ab")] * 20
        + [F("a")] * 40
        + [F("b")] * 30
        + [F("ab")] * 3
    )
    sexes = ["F"] * 130 + ["M"] * 73
    strata, records = _strata_of(sets, {"sex": sexes}, parties, dup_every=10**9)
    doc = counts_document(parties, records, sets, 5, {"bootstrap": 0}, strata=strata)
    m = doc["strata"]["sex"]["M"]
    assert any(c["suppressed"] for c in m["capture_histories"])
    assert "estimate" not in m and "withheld" in m["estimate_error"]


def test_bad_strata_block_is_refused_naming_it() -> None:
    doc = {
        "parties": ["a", "b"],
        "capture_histories": [],
        "strata": {"sex": {"F": {"capture_histories": [{"parties": ["z"], "count": 1}]}}},
    }
    with pytest.raises(InputError, match=r"strata\['sex'\]\['F'\].capture_histories\[0\]"):
        validate_counts(doc)
    doc["strata"] = {"sex": {"F": {"capture_histories": [], "estimate": {"population": "many"}}}}
    with pytest.raises(InputError, match=r"strata\['sex'\]\['F'\].estimate"):
        validate_counts(doc)


def test_report_has_a_table_per_stratum(tmp_path: Path) -> None:
    parties = ["a", "b", "c"]
    sets, sexes, _ = _population(8)
    strata, records = _strata_of(sets, {"sex": sexes}, parties)
    doc = counts_document(parties, records, sets, 5, {"bootstrap": 20}, strata=strata)
    page = render_report(json.loads(json.dumps(doc)))
    assert '<table class="strata" data-stratum="sex">' in page
    for value, block in doc["strata"]["sex"].items():
        assert f'<tr data-value="{value}">' in page
        if block.get("estimate"):
            assert f"{block['estimate']['population']:,.0f}" in page
    if doc.get("strata_pooled"):
        assert "pools the values" in page
    # The report command reads it back from a file.
    path = tmp_path / "counts.json"
    path.write_text(json.dumps(doc))
    result = run_tiplink(["report", path, "--output", tmp_path / "r.html"])
    assert result.returncode == 0, result.stderr
    assert 'data-stratum="sex"' in (tmp_path / "r.html").read_text()


def test_report_refuses_a_garbled_stratum_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "counts.json"
    path.write_text(
        json.dumps({"parties": ["a"], "capture_histories": [], "strata": {"sex": ["F"]}})
    )
    result = run_tiplink(["report", path, "--output", tmp_path / "r.html"])
    assert_one_line_error(result, "counts.json", "strata['sex']")
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------- tiplink link


@pytest.mark.slow
def test_link_writes_protected_strata_from_the_extracts(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synth import generate, make_config, write_dataset

    write_dataset(generate(make_config(population=700, cases=False), seed=3), tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("a shared secret for the strata test\n")
    extracts = encode_registers(tmp_path, ("police", "welfare", "ngo", "embassy"), secret)
    exact_path, counts_path = tmp_path / "exact.json", tmp_path / "counts.json"
    for path, k in ((exact_path, "0"), (counts_path, "5")):
        result = run_tiplink(
            [
                "link",
                *extracts,
                "--clusters",
                tmp_path / "c.csv",
                "--counts",
                path,
                "--min-cell-count",
                k,
                "--quiet",
            ]
        )
        assert result.returncode == 0, result.stderr
    exact, doc = json.loads(exact_path.read_text()), json.loads(counts_path.read_text())
    assert set(exact["strata"]["sex"]) <= {"F", "M", "X", UNKNOWN}
    assert (
        sum(b["unique_entities"] for b in exact["strata"]["sex"].values())
        == exact["unique_entities"]
    )
    # The exact release gives the joint table; audit the protected one with it.
    pooled = (doc.get("strata_pooled") or {}).get("sex")
    relabel = dict.fromkeys(pooled["values"], pooled["label"]) if pooled else {}
    joint: Counter = Counter()
    combo_records: dict = {}
    for value, block in exact["strata"]["sex"].items():
        label = relabel.get(value, value)
        for cell in block["capture_histories"]:
            joint[((label,), F(cell["parties"]))] += cell["count"]
        row = combo_records.setdefault((label,), Counter())
        row.update(block["records"])
    verdicts = audit_stratified_document(exact["parties"], ["sex"], joint, combo_records, doc, 5)
    assert verdicts and all(ok for _, ok in verdicts.values())
    assert all(
        c["count"] >= 5
        for b in doc["strata"]["sex"].values()
        for c in b["capture_histories"]
        if not c["suppressed"]
    )
