"""The synthetic register generator (benchmarks/synth): truth, formats, noise rates.

``synth`` is importable because pyproject.toml puts ``benchmarks/`` on the
pytest ``pythonpath``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from synth import (
    CASE_COLUMNS,
    VICTIM_COLUMNS,
    Dataset,
    generate,
    make_config,
    population_for_records,
    write_dataset,
)
from synth import cli as synth_cli
from synth.noise import NoiseConfig, phonetic, strip_diacritics, typo
from synth.population import EXPLOITATION, NATIONALITIES
from synth.render import DATE_ESTIMATED, DATE_MISSING, DATE_SWAP, DATE_YEAR, DATE_YEAR_MONTH

from tests.conftest import REPO

CLI = REPO / "benchmarks" / "synth" / "cli.py"
EXAMPLE_ARGS = ["--population", "3500", "--seed", "20240630"]  # as in examples/README.md
DATE_RE = re.compile(r"^(\d{4}|\d{4}-\d{2}|\d{4}-\d{2}-\d{2})?$")
ISO3 = set(NATIONALITIES)
SCRIPTS = {
    "Thai": (0x0E00, 0x0E7F),
    "Lao": (0x0E80, 0x0EFF),
    "Myanmar": (0x1000, 0x109F),
    "Khmer": (0x1780, 0x17FF),
}


@pytest.fixture(scope="module")
def world() -> Dataset:
    """A default-noise data set big enough for rate checks (~35k records)."""
    return generate(make_config(population=24000), seed=11)


@pytest.fixture(scope="module")
def written(world: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write_dataset(world, out)
    return out


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def all_rows(world: Dataset, column: str) -> np.ndarray:
    return np.concatenate([t.columns[column] for t in world.victims])


def all_flags(world: Dataset, name: str) -> np.ndarray:
    return np.concatenate([t.flags[name] for t in world.victims])


def record_scale(world: Dataset) -> np.ndarray:
    """Each record's agency noise multiplier, in ``all_rows`` order."""
    agencies = make_config(population=24000).agencies
    return np.concatenate(
        [np.full(len(t), a.noise_scale) for t, a in zip(world.victims, agencies, strict=True)]
    )


def assert_rate(observed: np.ndarray, expected_p: np.ndarray, label: str) -> None:
    """Count of ``observed`` within 5 binomial standard deviations of its mean."""
    mean = float(expected_p.sum())
    sd = float(np.sqrt((expected_p * (1 - expected_p)).sum()))
    count = int(observed.sum())
    assert mean > 20, f"{label}: too few eligible records to check ({mean:.1f})"
    assert abs(count - mean) <= 5 * sd + 2, f"{label}: {count} observed, {mean:.0f} expected"


# ----------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    config = make_config(population=1500)
    write_dataset(generate(config, seed=5), tmp_path / "a")
    write_dataset(generate(config, seed=5), tmp_path / "b")
    write_dataset(generate(config, seed=6), tmp_path / "c")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) == 4 + 2 + 4 + 2
    for name in [*files, Path("truth.json"), Path("cases/truth.json")]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a/police.csv").read_bytes() != (tmp_path / "c/police.csv").read_bytes()


def test_cases_do_not_change_victims() -> None:
    with_cases = generate(make_config(population=1000, cases=True), seed=9)
    without = generate(make_config(population=1000, cases=False), seed=9)
    assert without.cases == () and without.case_truth is None
    for a, b in zip(with_cases.victims, without.victims, strict=True):
        for column in VICTIM_COLUMNS:
            assert a.columns[column].tolist() == b.columns[column].tolist()


# ------------------------------------------------------------------ truth


def test_truth_files_are_consistent(written: Path) -> None:
    truth = json.loads((written / "truth.json").read_text(encoding="utf-8"))
    _, truth_rows = read_csv(written / "truth.csv")
    by_party: dict[str, list[dict[str, str]]] = {}
    for row in truth_rows:
        by_party.setdefault(row["party"], []).append(row)
    assert sorted(by_party) == truth["parties"] == ["embassy", "ngo", "police", "welfare"]
    keys = [(r["party"], r["record_id"]) for r in truth_rows]
    assert len(keys) == len(set(keys)), "a record appears twice in truth.csv"

    for party in truth["parties"]:
        _, rows = read_csv(written / f"{party}.csv")
        ids = [r["record_id"] for r in rows]
        assert sorted(ids) == sorted(r["record_id"] for r in by_party[party])
        assert truth["records"][party] == len(rows)
        people = {r["person_id"] for r in by_party[party]}
        assert truth["unique_per_party"][party] == len(people)
        assert truth["duplicate_records"][party] == len(rows) - len(people)

    # Capture histories recomputed from truth.csv equal those in truth.json.
    parties_of: dict[str, set[str]] = {}
    for row in truth_rows:
        parties_of.setdefault(row["person_id"], set()).add(row["party"])
    recount = Counter(tuple(sorted(p)) for p in parties_of.values())
    stated = {tuple(h["parties"]): h["count"] for h in truth["capture_histories"]}
    assert stated == dict(recount)
    assert sum(stated.values()) == truth["unique_entities"] == len(parties_of)
    header, table = read_csv(written / "capture_table.csv")
    assert header == [*truth["parties"], "count"]
    from_table = {
        tuple(p for p in truth["parties"] if row[p] == "1"): int(row["count"]) for row in table
    }
    assert from_table == stated
    assert truth["population"] >= truth["unique_entities"]
    assert truth["unobserved"] == truth["population"] - truth["unique_entities"]
    assert truth["seed"] == 11 and truth["parameters"]["population"] == 24000


def test_record_ids_are_agency_references(world: Dataset) -> None:
    for table in world.victims:
        ids = table.columns["record_id"]
        assert len(set(ids.tolist())) == len(table)
        assert all(re.fullmatch(r"[A-Z]{3}-\d{6}", i) for i in ids.tolist())
        # Shuffled: record order says nothing about who the person is.
        assert not np.all(np.diff(table.entity) >= 0)


def test_lists_are_heterogeneous_and_dependent(world: Dataset) -> None:
    held = world.held
    parties = [t.party for t in world.victims]
    police, welfare = held[:, parties.index("police")], held[:, parties.index("welfare")]
    # Referral police -> welfare: welfare much likelier among police captures.
    assert welfare[police].mean() > 1.5 * welfare[~police].mean()
    # Heterogeneity: people seen by all four are far more than independence predicts.
    p = held.mean(axis=0)
    assert held.all(axis=1).mean() > 2 * np.prod(p)
    # Embassies rarely register nationals of the destination country.
    tha = world.population.nationality == NATIONALITIES.index("THA")
    embassy = held[:, parties.index("embassy")]
    assert embassy[tha].mean() < 0.3 * embassy[~tha].mean()


def test_independent_world_gives_unbiased_two_list_estimate() -> None:
    # No unobserved visibility, no referrals, no covariate effects: the lists
    # are independent and Lincoln-Petersen recovers N.
    config = make_config(population=40000, heterogeneity=0.0, cases=False)
    config = dataclasses.replace(
        config,
        referrals=(),
        agencies=tuple(dataclasses.replace(a, effects={}) for a in config.agencies),
    )
    held = generate(config, seed=8).held
    n1, n2, both = held[:, 0].sum(), held[:, 1].sum(), (held[:, 0] & held[:, 1]).sum()
    assert n1 * n2 / both == pytest.approx(40000, rel=0.05)


def test_duplicate_rate(world: Dataset) -> None:
    truth = world.truth
    unique = sum(truth["unique_per_party"].values())
    extra = sum(truth["duplicate_records"].values())
    # Second record with probability 0.07, a third with 0.007.
    assert extra / unique == pytest.approx(0.077, abs=0.01)


def test_population_for_records_hits_the_target() -> None:
    config = make_config(population=10, cases=False)
    n = population_for_records(config, 20000, seed=3)
    sized = make_config(population=n, cases=False)
    records = sum(generate(sized, seed=3).truth["records"].values())
    assert records == pytest.approx(20000, rel=0.04)


# ---------------------------------------------------------------- formats


def test_columns_exactly_as_contract(written: Path) -> None:
    for party in ("police", "welfare", "ngo", "embassy"):
        header, _ = read_csv(written / f"{party}.csv")
        assert tuple(header) == VICTIM_COLUMNS
        header, _ = read_csv(written / "cases" / f"{party}.csv")
        assert tuple(header) == CASE_COLUMNS
    assert read_csv(written / "truth.csv")[0] == ["party", "record_id", "person_id"]
    assert read_csv(written / "cases/truth.csv")[0] == ["party", "record_id", "case_id"]


def test_field_values_in_allowed_sets(world: Dataset) -> None:
    dob = all_rows(world, "date_of_birth")
    assert all(DATE_RE.match(d) for d in dob.tolist())
    assert {len(d) for d in dob.tolist()} == {0, 4, 7, 10}
    assert set(all_rows(world, "sex").tolist()) == {"F", "M", "X", ""}
    assert set(all_rows(world, "nationality").tolist()) <= ISO3 | {""}
    assert "" in set(all_rows(world, "nationality").tolist())
    for column in VICTIM_COLUMNS:
        values = all_rows(world, column).tolist()
        assert not any("\n" in v or v != v.strip() for v in values), column


def test_native_scripts_and_diacritics_appear(world: Dataset) -> None:
    text = "".join(all_rows(world, "given_name").tolist() + all_rows(world, "family_name").tolist())
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    for script, (lo, hi) in SCRIPTS.items():
        assert ((points >= lo) & (points <= hi)).sum() > 100, script
    places = "".join(all_rows(world, "place_of_origin").tolist())
    assert any("\u0e00" <= c <= "\u0e7f" for c in places)
    assert "Nguyễn" in set(all_rows(world, "family_name").tolist())
    assert "Nguyen" in set(all_rows(world, "family_name").tolist())


def test_spelling_variants_of_one_name(world: Dataset) -> None:
    given = Counter(all_rows(world, "given_name").tolist())
    assert given["Somchai"] > 0 and given["Somchay"] > 0
    family = set(all_rows(world, "family_name").tolist())
    assert {"Dela Cruz", "dela Cruz", "Delacruz"} <= family


def test_burmese_names_have_no_family_name_unless_split(world: Dataset) -> None:
    mmr = NATIONALITIES.index("MMR")
    for table in world.victims:
        is_mmr = world.population.nationality[table.entity] == mmr
        plain = is_mmr & ~table.flags["name_split"] & ~table.flags["swap"]
        assert (table.columns["family_name"][plain] == "").all()
        honorifics = ("Ma ", "Daw ", "Mg ", "Maung ", "Ko ", "U ", "Naw ", "Saw ")
        titled = [
            g for g in table.columns["given_name"][is_mmr].tolist() if g.startswith(honorifics)
        ]
        assert titled


# ------------------------------------------------------------ noise rates


@pytest.mark.parametrize(
    "flag",
    [
        "swap",
        "full_name_in_given",
        "upper_case",
        "given_missing",
        "family_missing",
        "typo_given",
        "typo_family",
        "origin_missing",
    ],
)
def test_unconditional_noise_rates(world: Dataset, flag: str) -> None:
    setting = flag.rsplit("_", 1)[0] if flag.startswith("typo_") else flag
    expected = np.minimum(getattr(NoiseConfig(), setting) * record_scale(world), 0.95)
    assert_rate(all_flags(world, flag), expected, flag)


@pytest.mark.parametrize(
    ("flag", "eligible"),
    [
        ("phonetic_given", lambda w: ~all_flags(w, "native")),
        ("diacritics_dropped_family", lambda w: all_flags(w, "native")),
        (
            "alias_recorded",
            lambda w: w.population.tokens[np.concatenate([t.entity for t in w.victims]), 7] != 0,
        ),
    ],
)
def test_conditional_noise_rates(world: Dataset, flag: str, eligible) -> None:
    setting = flag.replace("_given", "").replace("_family", "")
    mask = eligible(world)
    expected = np.minimum(getattr(NoiseConfig(), setting) * record_scale(world), 0.95) * mask
    assert_rate(all_flags(world, flag), expected, flag)


@pytest.mark.parametrize(
    ("kind", "setting"),
    [
        (DATE_MISSING, "dob_missing"),
        (DATE_YEAR, "dob_year_only"),
        (DATE_YEAR_MONTH, "dob_year_month"),
        (DATE_ESTIMATED, "dob_estimated"),
    ],
)
def test_date_noise_rates(world: Dataset, kind: int, setting: str) -> None:
    expected = np.minimum(getattr(NoiseConfig(), setting) * record_scale(world), 0.95)
    assert_rate(all_flags(world, "dob_kind") == kind, expected, setting)


def test_day_month_swap_where_possible(world: Dataset) -> None:
    person = np.concatenate([t.entity for t in world.victims])
    dob = world.population.dob[person]
    day = (dob - dob.astype("datetime64[M]")).astype(int) + 1
    month = dob.astype("datetime64[M]").astype(int) % 12 + 1
    eligible = (day <= 12) & (day != month)
    expected = np.minimum(NoiseConfig().dob_day_month_swap * record_scale(world), 0.95) * eligible
    swapped = all_flags(world, "dob_kind") == DATE_SWAP
    assert_rate(swapped, expected, "dob_day_month_swap")
    written = all_rows(world, "date_of_birth")[swapped]
    assert all(
        int(w[5:7]) == d and int(w[8:10]) == m
        for w, d, m in zip(written, day[swapped], month[swapped], strict=True)
    )


def test_sex_and_nationality_noise_rates(world: Dataset) -> None:
    scale = record_scale(world)
    person = np.concatenate([t.entity for t in world.victims])
    sex = all_rows(world, "sex")
    true_sex = np.where(world.population.female[person], "F", "M")
    defaults = NoiseConfig()
    assert_rate(sex == "", np.minimum(defaults.sex_missing * scale, 0.95), "sex_missing")
    assert_rate(sex == "X", np.minimum(defaults.sex_unknown * scale, 0.95), "sex_unknown")
    wrong_sex = (sex != "") & (sex != "X") & (sex != true_sex)
    assert_rate(wrong_sex, np.minimum(defaults.sex_wrong * scale, 0.95), "sex_wrong")
    nat = all_rows(world, "nationality")
    true_nat = np.array(NATIONALITIES, dtype=object)[world.population.nationality[person]]
    assert_rate(
        nat == "", np.minimum(defaults.nationality_missing * scale, 0.95), "nationality_missing"
    )
    wrong = (nat != "") & (nat != true_nat)
    assert_rate(wrong, np.minimum(defaults.nationality_wrong * scale, 0.95), "nationality_wrong")


def test_flags_match_what_was_written(world: Dataset) -> None:
    given, family = all_rows(world, "given_name"), all_rows(world, "family_name")
    assert (given[all_flags(world, "given_missing")] == "").all()
    assert (family[all_flags(world, "family_missing")] == "").all()
    assert (family[all_flags(world, "full_name_in_given")] == "").all()
    upper = all_flags(world, "upper_case")
    assert all(g == g.upper() for g in given[upper].tolist())
    kinds = all_flags(world, "dob_kind")
    dob = all_rows(world, "date_of_birth")
    assert {len(d) for d in dob[kinds == DATE_YEAR].tolist()} == {4}
    assert {len(d) for d in dob[kinds == DATE_YEAR_MONTH].tolist()} == {7}
    assert all(d.endswith("-01-01") for d in dob[kinds == DATE_ESTIMATED].tolist())


def test_clean_preset_has_no_noise() -> None:
    clean = generate(make_config(population=3000, noise="clean"), seed=4)
    seen: dict[int, tuple] = {}
    for table in clean.victims:
        for i, person in enumerate(table.entity.tolist()):
            row = tuple(table.columns[c][i] for c in VICTIM_COLUMNS[1:])
            assert seen.setdefault(person, row) == row
            assert DATE_RE.match(row[3]) and len(row[3]) == 10 and row[1] != "\u0000"
    assert len(seen) == clean.truth["unique_entities"]


def test_hard_preset_is_noisier() -> None:
    def disagreement(noise: str) -> float:
        data = generate(make_config(population=4000, noise=noise, cases=False), seed=2)
        first: dict[int, str] = {}
        differ = total = 0
        for table in data.victims:
            for person, name in zip(
                table.entity.tolist(), table.columns["given_name"].tolist(), strict=True
            ):
                if person in first:
                    total += 1
                    differ += first[person] != name
                else:
                    first[person] = name
        return differ / total

    assert disagreement("clean") == 0.0
    assert disagreement("default") < disagreement("hard")


# ------------------------------------------------------ string functions


def test_typo_changes_one_place_and_keeps_spaces() -> None:
    for op in range(4):
        out = typo("Somchai Jaidee", op, 0.3, 0.6)
        assert out != "Somchai Jaidee" or op == 3
        assert out.count(" ") == 1
        assert abs(len(out) - 14) <= 1
    assert typo("สมชาย", 2, 0.0, 0.0) != "สมชาย"


def test_phonetic_and_diacritics() -> None:
    assert phonetic("Phommavong", 0.0) == "Pommavong"
    assert phonetic("ສົມພອນ", 0.5) == "ສົມພອນ"
    assert strip_diacritics("Nguyễn Thị Hương") == "Nguyen Thi Huong"
    assert strip_diacritics("Đặng") == "Dang"
    # Thai vowel and tone marks are combining characters: they must stay.
    assert strip_diacritics("สมศักดิ์") == "สมศักดิ์"


# ------------------------------------------------------------------ cases


def test_case_records(written: Path, world: Dataset) -> None:
    truth = json.loads((written / "cases/truth.json").read_text(encoding="utf-8"))
    _, truth_rows = read_csv(written / "cases/truth.csv")
    stated = {tuple(h["parties"]): h["count"] for h in truth["capture_histories"]}
    parties_of: dict[str, set[str]] = {}
    for row in truth_rows:
        parties_of.setdefault(row["case_id"], set()).add(row["party"])
    assert stated == dict(Counter(tuple(sorted(p)) for p in parties_of.values()))
    assert truth["cases"] >= truth["unique_entities"] == len(parties_of)

    _, members = read_csv(written / "cases/members.csv")
    assert {m["case_id"] for m in members} == set(parties_of)
    assert {m["role"] for m in members} == {"victim", "suspect"}

    types = set(EXPLOITATION) | {""}
    multi = 0
    for party in truth["parties"]:
        _, rows = read_csv(written / "cases" / f"{party}.csv")
        assert len(rows) == truth["records"][party]
        for row in rows:
            assert row["exploitation_type"] in types
            assert DATE_RE.match(row["incident_date"])
            names = [n.strip() for n in row["victim_names"].split(";")]
            assert names and all(names) and len(names) <= 8
            multi += len(names) > 1
    assert multi > 100


def test_case_victim_lists_vary_between_agencies(world: Dataset) -> None:
    lists: dict[int, set[str]] = {}
    for table in world.cases:
        for case, names in zip(
            table.entity.tolist(), table.columns["victim_names"].tolist(), strict=True
        ):
            lists.setdefault(case, set()).add(names)
    assert sum(len(v) > 1 for v in lists.values()) > 100


# -------------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLI), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_writes_a_data_set(tmp_path: Path) -> None:
    result = run_cli("--out", str(tmp_path), "--population", "600", "--agencies",
                     "police,ngo,hotline,labour,shelter", "--noise", "hard", "--set", "typo=0.2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["population"] == 600
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert truth["parties"] == ["hotline", "labour", "ngo", "police", "shelter"]
    assert truth["parameters"]["noise"]["typo"] == 0.2
    assert (tmp_path / "hotline.csv").exists() and (tmp_path / "cases/hotline.csv").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--agencies", "police"],
        ["--agencies", "police,police"],
        ["--agencies", "Police,ngo"],
        ["--set", "nonsense=0.1"],
        ["--set", "typo=2"],
        ["--set", "typo=often"],
        ["--records", "0"],
        ["--population", "0"],
    ],
)
def test_cli_bad_options_one_line_error(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert synth_cli.main(["--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("synth: error:")
    assert not (tmp_path / "out").exists()


def test_cli_unwritable_output_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = run_cli("--out", str(blocker / "out"), "--population", "50")
    assert result.returncode == 2
    assert result.stderr.startswith("synth: error:") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bundled_example_is_reproducible(tmp_path: Path) -> None:
    examples = REPO / "examples"
    result = run_cli("--out", str(tmp_path), *EXAMPLE_ARGS)
    assert result.returncode == 0, result.stderr
    bundled = sorted(
        p.relative_to(examples) for p in examples.rglob("*") if p.suffix in {".csv", ".json"}
    )
    assert len(bundled) == 14
    for name in bundled:
        assert (tmp_path / name).read_bytes() == (examples / name).read_bytes(), name
    assert sum(p.stat().st_size for p in examples.rglob("*") if p.is_file()) < 1_000_000
    for party in ("police", "welfare", "ngo", "embassy"):
        assert 500 <= len(read_csv(examples / f"{party}.csv")[1]) <= 1500
