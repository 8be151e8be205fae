"""Reading linkage inputs: tiplink extracts and clkhash CLK JSON files.

A clkhash file is named on the command line with its party,
``police=clks.json``; it holds ``{"clks": [base64, ...]}`` and its record ids
are the 0-based row numbers. It carries no schema fingerprint or key-check
value, so only its bit length can be checked against the other inputs.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

import numpy as np

from tiplink.encoders.extract import Extract, ExtractHeader, read_extract
from tiplink.errors import ExtractError

_PARTY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_input_spec(spec: str) -> tuple[str | None, Path]:
    """``party=path`` or ``path`` -> ``(party or None, path)``."""
    if "=" in spec:
        party, _, path = spec.partition("=")
        if not _PARTY.match(party):
            raise ExtractError("party name must be 1-64 letters, digits, '.', '_' or '-'",
                               path or spec)
        return party, Path(path)
    return None, Path(spec)


def read_clkhash_json(path: Path, party: str) -> Extract:
    """Read a clkhash ``{"clks": [...]}`` file as an in-memory extract."""
    if not path.exists():
        raise ExtractError("file not found", path)
    if path.stat().st_size == 0:
        raise ExtractError("CLK file is empty (0 bytes)", path)
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise ExtractError("not valid JSON (truncated or corrupt CLK file?)", path) from None
    clks = data.get("clks") if isinstance(data, dict) else None
    if not isinstance(clks, list):
        raise ExtractError("not a clkhash CLK file (no \"clks\" list)", path)
    rows = []
    width = None
    for row, item in enumerate(clks):
        try:
            raw = base64.b64decode(item, validate=True) if isinstance(item, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None or not raw:
            raise ExtractError("CLK is not valid base64", path, row=row)
        if width is None:
            width = len(raw)
        elif len(raw) != width:
            raise ExtractError(f"CLK has {len(raw) * 8} bits, earlier ones {width * 8}",
                               path, row=row)
        rows.append(raw)
    if width is None:
        raise ExtractError("CLK file holds no CLKs", path)
    array = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), width).copy()
    header = ExtractHeader(party=party, schema_fingerprint="", key_check="",
                           bit_length=width * 8, record_count=len(rows), created_at="",
                           schema_name="clkhash")
    return Extract(header=header, record_ids=[str(i) for i in range(len(rows))], clks=array)


def read_input(spec: str) -> tuple[Extract, str]:
    """Read one command-line input; returns the extract and its display name."""
    party, path = parse_input_spec(spec)
    if path.suffix.lower() == ".json":
        if party is None:
            raise ExtractError("a clkhash CLK file needs a party name: give it as "
                               "PARTY=FILE.json", path)
        return read_clkhash_json(path, party), str(path)
    extract = read_extract(path)
    if party is not None and party != extract.header.party:
        raise ExtractError(f"extract is from party {extract.header.party!r}, "
                           f"not {party!r}", path)
    return extract, str(path)
