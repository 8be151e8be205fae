"""The extract file: round trip, and refusal of corrupt, truncated, empty files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiplink.encoders.extract import (
    ExtractHeader,
    ExtractWriter,
    Segment,
    now_utc,
    read_extract,
    read_extract_header,
    write_extract,
)
from tiplink.errors import ExtractError


def header(bits: int = 64) -> ExtractHeader:
    return ExtractHeader(
        party="ngo",
        schema_fingerprint="sha256:abc",
        key_check="kcv1:x",
        bit_length=bits,
        record_count=0,
        created_at=now_utc(),
        segments=(Segment("record", 0, bits),),
        strata=("sex",),
    )


@pytest.fixture
def extract_path(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "x.tle"
    write_extract(
        path,
        header(),
        [f"id{i}" for i in range(100)],
        rng.integers(0, 256, (100, 8), dtype=np.uint8),
        {"sex": ["F"] * 100},
    )
    return path


def test_round_trip_and_streaming(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    clks = rng.integers(0, 256, (2500, 8), dtype=np.uint8)
    path = tmp_path / "s.tle"
    with ExtractWriter(path, header()) as writer:
        for start in range(0, 2500, 1000):
            writer.write_batch(
                [str(i) for i in range(start, min(start + 1000, 2500))],
                clks[start : start + 1000],
                {"sex": ["M"] * len(clks[start : start + 1000])},
            )
    extract = read_extract(path)
    assert extract.header.record_count == 2500
    assert np.array_equal(extract.clks, clks)
    assert read_extract_header(path).content_sha256 == extract.header.content_sha256


def test_failed_writer_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.tle"
    with pytest.raises(RuntimeError), ExtractWriter(path, header()) as writer:
        writer.write_batch(["a"], np.zeros((1, 8), np.uint8), {"sex": [""]})
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_truncated(extract_path: Path) -> None:
    data = extract_path.read_bytes()
    extract_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="truncated or corrupt"):
        read_extract(extract_path)


def test_empty(tmp_path: Path) -> None:
    path = tmp_path / "e.tle"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match="empty"):
        read_extract(path)


def test_bit_flip_anywhere_in_data_is_detected(extract_path: Path) -> None:
    data = bytearray(extract_path.read_bytes())
    for position in (8, len(data) // 3, len(data) // 2):
        corrupt = bytearray(data)
        corrupt[position] ^= 0x40
        extract_path.write_bytes(bytes(corrupt))
        with pytest.raises(ExtractError):
            read_extract(extract_path)


def test_not_an_extract(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(ExtractError, match="not a tiplink extract"):
        read_extract(path)
