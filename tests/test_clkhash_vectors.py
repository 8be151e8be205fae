"""Encodings equal clkhash 0.18.3's, bit for bit, on every shared vector."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import DATA, run_tiplink
from tiplink.encoders.clk import Encoder
from tiplink.encoders.pipeline import read_secret_file
from tiplink.encoders.schema import load_schema

CASES = sorted(p.name for p in (DATA / "clkhash").iterdir() if p.is_dir())


def expected_clks(case: str) -> list[str]:
    return json.loads((DATA / "clkhash" / case / "clks.json").read_text())["clks"]


def test_there_are_vectors() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES)
def test_api_matches_clkhash(case: str) -> None:
    folder = DATA / "clkhash" / case
    schema = load_schema(folder / "schema.json")
    secret = read_secret_file(folder / "secret.txt")
    with (folder / "records.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    clks = Encoder(schema, secret, rows[0]).encode_rows(rows[1:])
    import base64

    got = [base64.b64encode(row.tobytes()).decode() for row in clks]
    expected = expected_clks(case)
    assert len(got) == len(expected)
    mismatches = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    assert mismatches == []


@pytest.mark.parametrize("case", CASES)
def test_cli_clkhash_json_is_byte_compatible(case: str, tmp_path: Path) -> None:
    folder = DATA / "clkhash" / case
    out = tmp_path / "clks.json"
    result = run_tiplink(
        [
            "encode",
            folder / "records.csv",
            "--schema",
            folder / "schema.json",
            "--secret-file",
            folder / "secret.txt",
            "--party",
            "p",
            "--output",
            out,
            "--format",
            "clkhash-json",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["clks"] == expected_clks(case)


def test_xor_folds_halves_and_folds(tmp_path: Path) -> None:
    """``xor_folds`` (clkhash's key) folds; ``xorFolds`` is ignored as clkhash does."""
    folder = DATA / "clkhash" / "names_bigram_doublehash"
    document = json.loads((folder / "schema.json").read_text())
    with (folder / "records.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    secret = read_secret_file(folder / "secret.txt")
    from tiplink.encoders.schema import parse_schema

    plain = Encoder(parse_schema(document), secret, rows[0]).encode_rows(rows[1:4])
    folded_doc = json.loads(json.dumps(document))
    folded_doc["clkConfig"]["l"] = 512
    folded_doc["clkConfig"]["xor_folds"] = 1
    folded = Encoder(parse_schema(folded_doc), secret, rows[0]).encode_rows(rows[1:4])
    assert folded.shape == (3, 64)
    assert (folded == (plain[:, :64] ^ plain[:, 64:])).all()
    ignored_doc = json.loads(json.dumps(document))
    ignored_doc["clkConfig"]["xorFolds"] = 1
    schema = parse_schema(ignored_doc)
    assert schema.warnings and "xorFolds" in schema.warnings[0]
    assert (Encoder(schema, secret, rows[0]).encode_rows(rows[1:4]) == plain).all()
