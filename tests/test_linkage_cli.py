"""``tiplink link`` through a subprocess, and every bad-input path."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_encode, run_tiplink

PEOPLE = [
    ("Somchai", "Wongsakul", "M", "1990-03-14", "THA", "Chiang Mai"),
    ("Nguyen Thi", "Lan", "F", "1995-07-02", "VNM", "Nghe An"),
    ("Maria", "Santos", "F", "1988-11-30", "PHL", "Cebu"),
    ("Aung", "Kyaw", "M", "1992-01-20", "MMR", "Yangon"),
    ("Siti", "Rahmawati", "F", "1999-05-05", "IDN", "Jawa Barat"),
    ("Sokha", "Chea", "F", "1997-09-09", "KHM", "Battambang"),
]
COLUMNS = ["record_id", "given_name", "family_name", "sex", "date_of_birth", "nationality",
           "place_of_origin"]


def _write(path: Path, prefix: str, rows: list[tuple[str, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for k, row in enumerate(rows):
            writer.writerow([f"{prefix}-{k}", *row])


def _encode(tmp: Path, name: str, rows: list[tuple[str, ...]], secret: Path,
            fmt: str = "extract") -> Path:
    src = tmp / f"{name}.csv"
    _write(src, name.upper(), rows)
    out = tmp / (f"{name}.json" if fmt == "clkhash-json" else f"{name}.extract")
    result = run_encode(src, secret, out, name, "victim", "--format", fmt)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def two_parties(tmp_path: Path, secret_file: Path) -> tuple[Path, Path]:
    police = [*PEOPLE[:4], PEOPLE[0]]  # a duplicate within police
    # NGO: two of the same people, one with a typo, plus one new person.
    ngo = [("Somchay", "Wongsakul", "M", "1990-03-14", "THA", "Chiang Mai"),
           PEOPLE[2], PEOPLE[5]]
    return _encode(tmp_path, "police", police, secret_file), _encode(tmp_path, "ngo", ngo,
                                                                     secret_file)


def test_link_two_parties_writes_clusters_and_counts(tmp_path: Path,
                                                     two_parties: tuple[Path, Path]) -> None:
    clusters, counts = tmp_path / "clusters.csv", tmp_path / "counts.json"
    result = run_tiplink(["link", *two_parties, "--clusters", clusters, "--counts", counts])
    assert result.returncode == 0, result.stderr
    with clusters.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["party", "record_id", "entity_id"]
    assert len(rows) == 8
    assert len({(r["party"], r["record_id"]) for r in rows}) == 8
    entity = {(r["party"], r["record_id"]): r["entity_id"] for r in rows}
    assert entity[("police", "POLICE-0")] == entity[("police", "POLICE-4")]  # within-party dup
    assert entity[("police", "POLICE-2")] == entity[("ngo", "NGO-1")]
    assert entity[("police", "POLICE-1")] != entity[("police", "POLICE-3")]
    document = json.loads(counts.read_text())
    assert document["parties"] == ["ngo", "police"]
    assert document["records"] == {"ngo": 3, "police": 5}
    assert document["unique_entities"] in (5, 6)  # the typo pair may stay apart on 8 records
    assert document["unique_per_party"]["police"] == 4
    cells = {tuple(c["parties"]): c["count"] for c in document["capture_histories"]}
    assert sum(cells.values()) == document["unique_entities"]
    assert cells[("ngo", "police")] >= 1
    assert "estimate" in document


def test_single_party_is_deduplicated(tmp_path: Path, two_parties: tuple[Path, Path]) -> None:
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", two_parties[0], "--clusters", clusters, "--counts", counts])
    assert result.returncode == 0, result.stderr
    document = json.loads(counts.read_text())
    assert document["unique_entities"] == 4
    assert "estimate" not in document


def test_threshold_option(tmp_path: Path, two_parties: tuple[Path, Path]) -> None:
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", *two_parties, "--clusters", clusters, "--counts", counts,
                          "--threshold", "0.99"])
    assert result.returncode == 0, result.stderr
    # Only identical encodings link at 0.99: the police duplicate and Maria Santos.
    assert json.loads(counts.read_text())["unique_entities"] == 6


def test_clkhash_json_inputs(tmp_path: Path, secret_file: Path) -> None:
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file, fmt="clkhash-json")
    b = _encode(tmp_path, "ngo", PEOPLE[1:4], secret_file, fmt="clkhash-json")
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", f"police={a}", f"ngo={b}", "--clusters", clusters,
                          "--counts", counts])
    assert result.returncode == 0, result.stderr
    with clusters.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["record_id"] for r in rows if r["party"] == "police") == ["0", "1", "2"]
    assert json.loads(counts.read_text())["unique_entities"] == 4
    missing_party = run_tiplink(["link", a, "--clusters", clusters, "--counts", counts])
    assert_one_line_error(missing_party, "party")


def _assert_no_output(*paths: Path) -> None:
    for path in paths:
        assert not path.exists()


def test_mismatched_secret_is_refused(tmp_path: Path, secret_file: Path) -> None:
    other = tmp_path / "other-secret.txt"
    other.write_text("a different secret\n", encoding="utf-8")
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file)
    b = _encode(tmp_path, "ngo", PEOPLE[:3], other)
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", a, b, "--clusters", clusters, "--counts", counts])
    assert_one_line_error(result, str(a), str(b), "key-check")
    _assert_no_output(clusters, counts)


def test_mismatched_schema_is_refused(tmp_path: Path, secret_file: Path) -> None:
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file)
    src = tmp_path / "cases.csv"
    src.write_text("record_id,suspect_names,incident_date,incident_location,exploitation_type,"
                   "victim_names\nC1,John Doe,2020-01-01,Bangkok,labour,Jane Roe\n",
                   encoding="utf-8")
    b = tmp_path / "cases.extract"
    enc = run_tiplink(["encode", src, "--schema", "case", "--secret-file", secret_file,
                       "--party", "ngo", "--output", b])
    assert enc.returncode == 0, enc.stderr
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", a, b, "--clusters", clusters, "--counts", counts])
    assert_one_line_error(result, str(a), str(b))
    assert "schema" in result.stderr or "bit length" in result.stderr
    _assert_no_output(clusters, counts)


def test_mismatched_bit_length_of_clkhash_input_is_refused(tmp_path: Path,
                                                           secret_file: Path) -> None:
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file)
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"clks": [base64.b64encode(b"\x01" * 64).decode()]}))
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", a, f"ngo={short}", "--clusters", clusters, "--counts", counts])
    assert_one_line_error(result, "bit length", str(short))
    _assert_no_output(clusters, counts)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_damaged_extract_is_refused(tmp_path: Path, secret_file: Path, damage: str) -> None:
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file)
    b = _encode(tmp_path, "ngo", PEOPLE[2:], secret_file)
    data = b.read_bytes()
    if damage == "empty":
        b.write_bytes(b"")
    elif damage == "truncated":
        b.write_bytes(data[: len(data) // 2])
    elif damage == "corrupt":
        middle = len(data) // 3
        b.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    else:
        b.write_bytes(b"this is not an extract at all\n")
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", a, b, "--clusters", clusters, "--counts", counts])
    assert_one_line_error(result, str(b))
    _assert_no_output(clusters, counts)


@pytest.mark.parametrize("content", ["", "{not json", "{\"clks\": [\"@@@\"]}", "[1, 2]"])
def test_bad_clkhash_json_is_refused(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    clusters, counts = tmp_path / "c.csv", tmp_path / "n.json"
    result = run_tiplink(["link", f"ngo={bad}", "--clusters", clusters, "--counts", counts])
    assert_one_line_error(result, str(bad))
    _assert_no_output(clusters, counts)


def test_same_party_twice_is_refused(tmp_path: Path, secret_file: Path) -> None:
    a = _encode(tmp_path, "police", PEOPLE[:3], secret_file)
    copy = tmp_path / "copy.extract"
    copy.write_bytes(a.read_bytes())
    result = run_tiplink(["link", a, copy, "--clusters", tmp_path / "c.csv",
                          "--counts", tmp_path / "n.json"])
    assert_one_line_error(result, "police")


def test_missing_file_and_bad_threshold(tmp_path: Path) -> None:
    result = run_tiplink(["link", tmp_path / "nope.extract", "--clusters", tmp_path / "c.csv",
                          "--counts", tmp_path / "n.json"])
    assert_one_line_error(result, "nope.extract", "not found")
    bad = run_tiplink(["link", tmp_path / "nope.extract", "--clusters", tmp_path / "c.csv",
                       "--counts", tmp_path / "n.json", "--threshold", "1.5"])
    assert bad.returncode != 0
