"""Schema validation reports errors by feature; bundled schemas are sound."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.conftest import DATA
from tiplink.encoders.schema import load_schema, parse_schema
from tiplink.errors import SchemaError

BASE = json.loads((DATA / "clkhash/names_bigram_doublehash/schema.json").read_text())


def broken(change) -> dict:
    document = copy.deepcopy(BASE)
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d["features"][1]["hashing"].pop("strategy"), ["'given_name'", "strategy"]),
        (
            lambda d: d["features"][2]["hashing"]["strategy"].update(bitsPerFeature=100),
            ["'family_name'", "exactly one"],
        ),
        (
            lambda d: d["features"][1]["hashing"]["comparison"].update(type="fuzzy"),
            ["'given_name'", "comparison"],
        ),
        (lambda d: d["features"][1]["hashing"]["comparison"].pop("n"), ["'given_name'", "'n'"]),
        (lambda d: d["features"][2]["format"].update(type="text"), ["'family_name'", "format"]),
        (
            lambda d: d["features"][1]["format"].update(pattern="[a-z"),
            ["'given_name'", "regular expression"],
        ),
        (
            lambda d: d["features"][1]["hashing"].update(
                hash={"type": "blakeHash", "prevent_singularity": True}
            ),
            ["'given_name'", "prevent_singularity"],
        ),
        (
            lambda d: (
                d["clkConfig"].update(l=1000),
                d["features"][1]["hashing"].update(hash={"type": "blakeHash"}),
            ),
            ["'given_name'", "power-of-two"],
        ),
        (lambda d: d.update(version=2), ["version"]),
        (lambda d: d["clkConfig"]["kdf"].update(hash="MD5"), ["clkConfig", "hash"]),
        (lambda d: d["clkConfig"]["kdf"].update(salt="***"), ["salt"]),
        (lambda d: d["features"].append(copy.deepcopy(d["features"][1])), ["used twice"]),
    ],
)
def test_invalid_schemas_name_the_problem(change, fragments) -> None:
    with pytest.raises(SchemaError) as info:
        parse_schema(broken(change), "s.json")
    message = str(info.value)
    assert message.startswith("s.json: invalid linkage schema")
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message


def test_blake_with_power_of_two_ok_and_double_hash_any_length() -> None:
    document = broken(lambda d: d["clkConfig"].update(l=1000))
    for feature in document["features"][1:]:
        feature["hashing"]["hash"] = {"type": "doubleHash"}
    assert parse_schema(document).bit_length == 1000


@pytest.mark.parametrize("name", ["victim", "case"])
def test_bundled_schemas_load(name: str) -> None:
    schema = load_schema(name)
    assert schema.name == name
    assert sum(s.bits for s in schema.segments) == schema.bit_length
    assert schema.fingerprint == load_schema(name).fingerprint
    assert not schema.warnings


def test_fingerprint_changes_with_any_parameter() -> None:
    a = parse_schema(BASE)
    b = parse_schema(
        broken(lambda d: d["features"][1]["hashing"]["strategy"].update(bitsPerToken=16))
    )
    assert a.fingerprint != b.fingerprint


def test_victim_columns_are_the_contract_columns() -> None:
    schema = load_schema("victim")
    assert set(schema.input_columns) == {
        "given_name",
        "family_name",
        "other_names",
        "sex",
        "date_of_birth",
        "nationality",
        "place_of_origin",
    }
    assert schema.optional_columns == {"other_names"}
    case = load_schema("case")
    assert set(case.input_columns) == {
        "suspect_names",
        "incident_date",
        "incident_location",
        "exploitation_type",
        "victim_names",
    }


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="not found"):
        load_schema(tmp_path / "absent.json")
