"""``tiplink keygen`` and ``tiplink encode`` through the real console command."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import assert_one_line_error, run_encode, run_tiplink
from tiplink.encoders.extract import read_extract

HEADER = "record_id,given_name,family_name,sex,date_of_birth,nationality,place_of_origin\n"
ROWS = [
    "POL-1,Somchai,Jaidee,M,1990-04-12,THA,Chiang Rai",
    "POL-2,Hương,Nguyễn Thị,F,1995-07,VNM,Nghệ An",
    "POL-3,Siti,,F,1999,IDN,Lombok",
    "POL-4,สมชาย,ใจดี,M,1990-12-04,THA,เชียงราย",
    "POL-5,Maria Cristina,Dela Cruz,F,,PHL,",
]


def write_csv(path: Path, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def encode(input_path: Path, secret: Path, out: Path, *extra: str):
    return run_encode(input_path, secret, out, "police", "victim", *extra)


def test_keygen_writes_private_random_secret(tmp_path: Path) -> None:
    first, second = tmp_path / "a.key", tmp_path / "b.key"
    assert run_tiplink(["keygen", "--output", first]).returncode == 0
    assert run_tiplink(["keygen", "--output", second]).returncode == 0
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    a, b = first.read_text(), second.read_text()
    assert a.endswith("\n") and len(a.strip()) >= 43 and a != b
    # The secret is never printed.
    result = run_tiplink(["keygen", "--output", first])
    assert_one_line_error(result, "exists")
    assert a.strip() not in result.stderr + result.stdout


def test_encode_writes_extract_with_header(tmp_path: Path, secret_file: Path) -> None:
    out = tmp_path / "police.tle"
    result = encode(write_csv(tmp_path / "in.csv"), secret_file, out)
    assert result.returncode == 0, result.stderr
    extract = read_extract(out)
    header = extract.header
    assert header.party == "police" and header.record_count == 5
    assert header.bit_length == 1024 and header.schema_name == "victim"
    assert header.schema_fingerprint.startswith("sha256:")
    assert header.key_check.startswith("kcv1:")
    assert [s.name for s in header.segments] == ["name", "dob", "sex", "nationality", "place"]
    assert extract.record_ids == ["POL-1", "POL-2", "POL-3", "POL-4", "POL-5"]
    assert extract.strata["sex"] == ["M", "F", "F", "M", "F"]
    # Readable by standard tools, and nothing identifying inside.
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["record_id", "clk", "stratum.sex"]
    raw = out.read_bytes()
    for word in ("Somchai", "Jaidee", "Nguy", "1990-04-12", "Lombok", "somchai", "jaidee"):
        assert word.encode() not in raw


def test_same_input_any_format_gives_same_encodings(tmp_path: Path, secret_file: Path) -> None:
    csv_path = write_csv(tmp_path / "in.csv")
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "in.parquet")
    frame.to_excel(tmp_path / "in.xlsx", index=False)
    outputs = []
    for name in ("in.csv", "in.parquet", "in.xlsx"):
        out = tmp_path / f"{name}.tle"
        result = encode(tmp_path / name, secret_file, out)
        assert result.returncode == 0, result.stderr
        outputs.append(read_extract(out))
    for other in outputs[1:]:
        assert other.record_ids == outputs[0].record_ids
        assert np.array_equal(other.clks, outputs[0].clks)


def test_row_numbers_are_ids_without_id_column(tmp_path: Path, secret_file: Path) -> None:
    rows = [r.split(",", 1)[1] for r in ROWS]
    path = write_csv(tmp_path / "in.csv", rows, HEADER.split(",", 1)[1])
    out = tmp_path / "out.tle"
    assert encode(path, secret_file, out).returncode == 0
    assert read_extract(out).record_ids == ["0", "1", "2", "3", "4"]


def test_clkhash_json_format_in_row_order(tmp_path: Path, secret_file: Path) -> None:
    out = tmp_path / "clks.json"
    assert (
        encode(
            write_csv(tmp_path / "in.csv"), secret_file, out, "--format", "clkhash-json"
        ).returncode
        == 0
    )
    clks = json.loads(out.read_text())["clks"]
    assert len(clks) == 5 and len(set(clks)) == 5


def test_another_secret_gives_another_key_check(tmp_path: Path, secret_file: Path) -> None:
    other = tmp_path / "other.key"
    other.write_text("a different secret\n")
    path = write_csv(tmp_path / "in.csv")
    assert encode(path, secret_file, tmp_path / "a.tle").returncode == 0
    assert encode(path, other, tmp_path / "b.tle").returncode == 0
    a, b = read_extract(tmp_path / "a.tle"), read_extract(tmp_path / "b.tle")
    assert a.header.key_check != b.header.key_check
    assert not np.array_equal(a.clks, b.clks)


# --- bad input: one line naming file, row and column; no output left ---------


def assert_failed_cleanly(result, out: Path, *fragments: str) -> str:
    message = assert_one_line_error(result, *fragments)
    assert not out.exists()
    assert [p for p in out.parent.iterdir() if p.name.endswith(".part")] == []
    return message


def test_missing_column(tmp_path: Path, secret_file: Path) -> None:
    header = HEADER.replace(",date_of_birth", "")
    rows = [",".join(r.split(",")[:4] + r.split(",")[5:]) for r in ROWS]
    path = write_csv(tmp_path / "in.csv", rows, header)
    out = tmp_path / "out.tle"
    assert_failed_cleanly(
        encode(path, secret_file, out), out, "in.csv", "row 0", "'date_of_birth'", "missing"
    )


def test_unparsable_date_names_row_and_column_not_value(tmp_path: Path, secret_file: Path) -> None:
    rows = [*ROWS[:2], "POL-3,Siti,,F,31/12/1999,IDN,Lombok", *ROWS[3:]]
    out = tmp_path / "out.tle"
    message = assert_failed_cleanly(
        encode(write_csv(tmp_path / "in.csv", rows), secret_file, out),
        out,
        "in.csv",
        "row 3",
        "'date_of_birth'",
    )
    assert "31/12/1999" not in message and "Siti" not in message


def test_non_utf8_bytes(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.csv"
    content = (HEADER + "\n".join(ROWS[:2]) + "\n").encode("utf-8")
    content += "POL-9,Jos\u00e9,Nu\u00f1ez,M,1980,PHL,Cebu\n".encode("latin-1")
    path.write_bytes(content)
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.csv", "row 3", "UTF-8")


def test_empty_file(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"")
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.csv", "empty")


def test_header_only(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER)
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.csv", "no records")


def test_truncated_csv(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.csv"
    text = HEADER + "\n".join(ROWS) + "\n"
    path.write_text(text[: text.index("POL-5") + 12])  # cut mid-row
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.csv", "row 5", "truncated")


def test_unterminated_quote(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + ROWS[0] + '\nPOL-2,"Huong,Nguyen,F,1995,VNM,x\n')
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.csv", "row 2")


def test_invalid_schema_names_feature(tmp_path: Path, secret_file: Path) -> None:
    schema = json.loads(
        (Path(__file__).parent / "data/clkhash/names_bigram_doublehash/schema.json").read_text()
    )
    schema["features"][2]["hashing"]["strategy"] = {"bitsPerTokens": 15}
    schema_path = tmp_path / "bad.json"
    schema_path.write_text(json.dumps(schema))
    out = tmp_path / "out.tle"
    result = run_encode(write_csv(tmp_path / "in.csv"), secret_file, out, "p", schema_path)
    assert_failed_cleanly(result, out, "bad.json", "'family_name'", "strategy")


def test_schema_not_json(tmp_path: Path, secret_file: Path) -> None:
    schema_path = tmp_path / "bad.json"
    schema_path.write_text("{ nope")
    out = tmp_path / "out.tle"
    result = run_encode(write_csv(tmp_path / "in.csv"), secret_file, out, "p", schema_path)
    assert_failed_cleanly(result, out, "bad.json", "not valid JSON", "line 1")


def test_missing_secret_file(tmp_path: Path) -> None:
    out = tmp_path / "out.tle"
    result = encode(write_csv(tmp_path / "in.csv"), tmp_path / "nope.key", out)
    assert_failed_cleanly(result, out, "nope.key", "secret file not found")


def test_duplicate_record_ids(tmp_path: Path, secret_file: Path) -> None:
    rows = [*ROWS, ROWS[1]]
    out = tmp_path / "out.tle"
    assert_failed_cleanly(
        encode(write_csv(tmp_path / "in.csv", rows), secret_file, out),
        out,
        "row 6",
        "'record_id'",
        "unique",
    )


def test_bad_enum_value(tmp_path: Path, secret_file: Path) -> None:
    rows = [*ROWS[:1], "POL-2,Huong,Nguyen,female,1995,VNM,x", *ROWS[2:]]
    out = tmp_path / "out.tle"
    assert_failed_cleanly(
        encode(write_csv(tmp_path / "in.csv", rows), secret_file, out), out, "row 2", "'sex'"
    )


def test_unsupported_extension(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(HEADER)
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.txt", "unsupported")


def test_corrupt_xlsx(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "in.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    out = tmp_path / "out.tle"
    assert_failed_cleanly(encode(path, secret_file, out), out, "in.xlsx", "corrupt")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_parallel_workers_give_identical_output(
    tmp_path: Path, secret_file: Path, workers: str
) -> None:
    rows = [
        f"R{i},Name{i % 97},Fam{i % 89},{'FM'[i % 2]},19{50 + i % 50}-0{1 + i % 9}-1{i % 9},"
        f"THA,Place{i % 13}"
        for i in range(3000)
    ]
    path = write_csv(tmp_path / "in.csv", rows)
    reference = tmp_path / "ref.tle"
    assert encode(path, secret_file, reference, "--workers", "1").returncode == 0
    out = tmp_path / "out.tle"
    assert encode(path, secret_file, out, "--workers", workers).returncode == 0
    assert np.array_equal(read_extract(out).clks, read_extract(reference).clks)


def test_progress_bar_only_on_request_or_terminal(tmp_path: Path, secret_file: Path) -> None:
    path = write_csv(tmp_path / "in.csv")
    quiet = encode(path, secret_file, tmp_path / "a.tle")
    assert quiet.returncode == 0
    assert "encoding" not in quiet.stderr  # stderr is a pipe here: no bar
    shown = encode(path, secret_file, tmp_path / "b.tle", "--progress")
    assert shown.returncode == 0 and "encoding" in shown.stderr


def test_reader_streams_in_bounded_batches(tmp_path: Path) -> None:
    from tiplink.encoders.readers import open_table

    rows = [f"R{i},a,b,F,1990,THA,x" for i in range(2500)]
    reader = open_table(write_csv(tmp_path / "in.csv", rows))
    sizes = [batch.length for batch in reader.batches(batch_size=1000)]
    assert sizes == [1000, 1000, 500]


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 64, 127, 128])
def test_vectorised_base64_equals_standard(width: int) -> None:
    import base64

    from tiplink.encoders.pipeline import base64_rows

    rows = np.random.default_rng(width).integers(0, 256, (40, width), dtype=np.uint8)
    expected = [base64.b64encode(row.tobytes()).decode() for row in rows]
    assert [bytes(line).decode() for line in base64_rows(rows)] == expected
