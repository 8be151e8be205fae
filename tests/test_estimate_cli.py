"""`tiplink estimate` and `tiplink report` as users run them, and their bad-input paths."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import Completed, assert_one_line_error, run_tiplink
from tiplink.cli import main
from tiplink.errors import InputError
from tiplink.linkage.counts import (
    counts_document,
    read_capture_csv,
    read_counts_json,
    read_table,
    table_from_counts,
)

MSE = Path(__file__).resolve().parent / "data" / "mse"
F = frozenset


def assert_cli_error(capsys, argv: list[str], *fragments: str) -> None:
    """Run the CLI in-process: exit status, one line on stderr, nothing on stdout."""
    code = main(argv)
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    assert_one_line_error(Completed(code, captured.out, captured.err), *fragments)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_estimate_uk5_stepwise_cli() -> None:
    result = run_tiplink(["estimate", MSE / "UKdat_5.csv", "--bootstrap", "20", "--seed", "3"])
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out)[:5] == ["population", "ci95", "method", "model", "observed"]
    assert abs(out["population"] - 11313) < 0.005 * 11313
    assert out["model"] == "[12,13,24,25,35,45]"
    assert out["method"] == "stepwise" and out["observed"] == 2744
    assert len(out["ci95"]) == 2 and out["ci95"][0] < out["population"] < out["ci95"][1]


def test_estimate_bic_and_fixed_cli() -> None:
    bic = run_tiplink(["estimate", MSE / "Korea.csv", "--method", "bic", "--bootstrap", "0"])
    assert bic.returncode == 0, bic.stderr
    out = json.loads(bic.stdout)
    assert out["model"] == "[12,23]" and out["ci95"] is None
    assert out["population"] == pytest.approx(157.17, abs=0.01)
    fixed = run_tiplink(
        [
            "estimate",
            MSE / "Korea.csv",
            "--method",
            "fixed",
            "--model",
            "[12,23]",
            "--bootstrap",
            "0",
        ]
    )
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["population"] == pytest.approx(157.17, abs=0.01)


def test_estimate_from_counts_json(tmp_path: Path) -> None:
    sets = [["ngo"]] * 50 + [["police"]] * 70 + [["ngo", "police"]] * 20 + [["welfare"]] * 30
    sets += (
        [["police", "welfare"]] * 10 + [["ngo", "welfare"]] * 6 + [["ngo", "police", "welfare"]] * 5
    )
    doc = counts_document(["police", "ngo", "welfare"], {}, sets, 0, {"skip": True})
    path = tmp_path / "COUNTS.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run_tiplink(["estimate", path, "--bootstrap", "0"])
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["observed"] == len(sets)
    assert out["lists"] == ["ngo", "police", "welfare"]


def test_counts_document_shape() -> None:
    sets = [["a"]] * 30 + [["b"]] * 20 + [["a", "b"]] * 10 + [["c"]] * 15 + [["b", "c"]] * 6
    doc = counts_document(["c", "b", "a"], {"a": 45, "b": 40, "c": 22}, sets, 5, {"bootstrap": 20})
    assert doc["parties"] == ["a", "b", "c"]
    assert doc["unique_entities"] == len(sets)
    assert doc["unique_per_party"] == {"a": 40, "b": 36, "c": 21}
    assert doc["records"] == {"a": 45, "b": 40, "c": 22}
    cells = {F(c["parties"]): c for c in doc["capture_histories"]}
    assert cells[F(["a", "b"])] == {"parties": ["a", "b"], "count": 10, "suppressed": False}
    assert F(["a", "c"]) not in cells  # zero cells are left out
    est = doc["estimate"]
    assert est["method"] == "stepwise" and est["population"] >= len(sets)
    assert est["ci95"] is not None and est["seed"] is not None
    again = counts_document(
        ["c", "b", "a"], {"a": 45, "b": 40, "c": 22}, sets, 5, {"bootstrap": 20}
    )
    assert again == doc  # reproducible


def test_counts_document_estimate_uses_exact_counts() -> None:
    parties, sets = ["a", "b", "c"], [["a"]] * 40 + [["b"]] * 30 + [["c"]] * 25
    sets += [["a", "b"]] * 3 + [["a", "c"]] * 12 + [["b", "c"]] * 9 + [["a", "b", "c"]] * 2
    exact = counts_document(parties, {}, sets, 0, {"bootstrap": 0})
    protected = counts_document(parties, {}, sets, 5, {"bootstrap": 0})
    assert any(c["suppressed"] for c in protected["capture_histories"])
    # Same exact-count estimate, published rounded to 3 significant figures.
    assert protected["estimate"]["population"] == pytest.approx(
        exact["estimate"]["population"], rel=0.005
    )
    assert protected["estimate"]["rounded_to_significant_digits"] == 3


def test_suppressed_counts_json_is_refused(tmp_path: Path) -> None:
    sets = [["a"]] * 30 + [["b"]] * 20 + [["a", "b"]] * 2 + [["c"]] * 15 + [["b", "c"]] * 6
    doc = counts_document(["a", "b", "c"], {}, sets, 5, {"skip": True})
    path = write(tmp_path / "COUNTS.json", json.dumps(doc))
    result = run_tiplink(["estimate", path])
    assert_one_line_error(result, str(path), "suppressed", "exact counts")
    with pytest.raises(InputError, match="suppressed"):
        read_table(path)


def table_csv(tmp_path: Path, body: str) -> Path:
    return write(tmp_path / "t.csv", body)


BAD_CSV = [
    ("a,b,n\n1,0,5\n0,2,3\n", ["row 2", "column 'b'", "0 or 1"]),
    ("a,b,n\n1,0,5\n0,1,-3\n", ["row 2", "column 'n'", "negative"]),
    ("a,b,n\n1,0,5\n0,1,2.5\n", ["row 2", "column 'n'", "whole number"]),
    ("a,b,n\n1,0,5\n0,1,\n", ["row 2", "column 'n'", "missing"]),
    ("a,b\n1,5\n", ["row 0", "two 0/1 list columns"]),
    ("a,b,n\n1,0,5\n1,1\n", ["row 2", "fields"]),
    ("a,b,n\n0,0,5\n", ["row 1", "no list"]),
    ("a,b,n\n", ["no data rows"]),
    ("", ["empty file"]),
]


@pytest.mark.parametrize(("body", "fragments"), BAD_CSV)
def test_bad_capture_csv(tmp_path: Path, body: str, fragments: list[str], capsys) -> None:
    path = table_csv(tmp_path, body)
    with pytest.raises(InputError) as info:
        read_capture_csv(path)
    for fragment in fragments:
        assert fragment in info.value.message
    assert_cli_error(capsys, ["estimate", str(path), "--bootstrap", "0"], str(path), *fragments)


BAD_JSON = [
    ("{not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"parties": "a"}', "parties"),
    ('{"parties": ["a", "a"], "capture_histories": []}', "twice"),
    ('{"parties": ["a", "b"]}', "capture_histories"),
    (
        '{"parties": ["a", "b"], "capture_histories": [{"parties": ["z"], "count": 1}]}',
        "capture_histories[0].parties",
    ),
    (
        '{"parties": ["a", "b"], "capture_histories": [{"parties": ["a"], "count": -1}]}',
        "capture_histories[0].count",
    ),
    (
        '{"parties": ["a", "b"], "capture_histories": [{"parties": ["a"], "count": 1.5}]}',
        "capture_histories[0].count",
    ),
    (
        '{"parties": ["a", "b"], "capture_histories": [{"parties": ["a"], "count": 1}, {"parties": ["a"], "count": 2}]}',
        "repeats",
    ),
    (
        '{"parties": ["a", "b"], "capture_histories": [{"parties": ["a"], "count": 3, "suppressed": true}]}',
        "null",
    ),
]


@pytest.mark.parametrize(("doc", "fragment"), BAD_JSON)
def test_bad_counts_json(tmp_path: Path, doc: str, fragment: str, capsys) -> None:
    path = write(tmp_path / "COUNTS.json", doc)
    with pytest.raises(InputError, match=re.escape(fragment)):
        read_counts_json(path)
    assert_cli_error(capsys, ["estimate", str(path), "--bootstrap", "0"], str(path), fragment)


BAD_OPTIONS = [
    (["--method", "magic"], "--method must be one of"),
    (["--method", "fixed"], "--method fixed needs --model"),
    (["--method", "fixed", "--model", "[12,2x]"], "--model"),
    (["--method", "fixed", "--model", "12,23"], "--model"),
    (["--method", "fixed", "--model", "[19]"], "outside 1..3"),
    (["--bootstrap", "-1"], "--bootstrap"),
    (["--bootstrap", "many"], "--bootstrap"),
    (["--seed", "x"], "--seed"),
    (["--pthresh", "2"], "--pthresh"),
    (["--model", "[12]"], "only to --method fixed"),
    (["--max-order", "2"], "only to --method bic"),
    (["--method", "bic", "--max-order", "0"], "--max-order"),
    (["--method", "bic", "--max-order", "3"], "maximum order"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_OPTIONS)
def test_bad_options(args: list[str], fragment: str, capsys) -> None:
    assert_cli_error(capsys, ["estimate", str(MSE / "Korea.csv"), *args], fragment)


def test_every_bad_input_through_the_console_script(tmp_path: Path) -> None:
    """The same cases as the in-process tests, through the real `tiplink`.

    Run concurrently: each is a separate process start.
    """
    cases: list[tuple[list[str], list[str]]] = []
    for i, (body, fragments) in enumerate(BAD_CSV):
        path = write(tmp_path / f"t{i}.csv", body)
        cases.append((["estimate", str(path), "--bootstrap", "0"], [str(path), *fragments]))
    for i, (doc, fragment) in enumerate(BAD_JSON):
        path = write(tmp_path / f"c{i}.json", doc)
        cases.append((["estimate", str(path), "--bootstrap", "0"], [str(path), fragment]))
    for args, fragment in BAD_OPTIONS:
        cases.append((["estimate", str(MSE / "Korea.csv"), *args], [fragment]))
    cases.append(
        (
            ["report", str(tmp_path / "c0.json"), "--output", str(tmp_path / "r.html")],
            ["not valid JSON"],
        )
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: run_tiplink(case[0]), cases))
    for (args, fragments), result in zip(cases, results, strict=True):
        assert_one_line_error(result, *fragments)
        assert result.stdout == "", args
    assert not (tmp_path / "r.html").exists()


def test_missing_file_and_impossible_estimates(tmp_path: Path, capsys) -> None:
    assert_cli_error(capsys, ["estimate", str(tmp_path / "nope.csv")], "not found")
    bic8 = ["estimate", str(MSE / "NewOrl.csv"), "--method", "bic", "--bootstrap", "0"]
    assert_cli_error(capsys, bic8, "NewOrl.csv", "2 to 6 lists")
    everyone = table_csv(tmp_path, "a,b,n\n1,0,10\n1,1,5\n")
    assert_cli_error(capsys, ["estimate", str(everyone), "--bootstrap", "0"], "no finite estimate")
    assert_one_line_error(
        run_tiplink(["estimate", everyone, "--bootstrap", "0"]), "no finite estimate"
    )


def test_table_from_counts_rejects_too_many_parties() -> None:
    doc = {"parties": [f"p{i}" for i in range(9)], "capture_histories": []}
    with pytest.raises(InputError, match="2 to 8 parties"):
        table_from_counts(doc)
