"""Unit tests of the service's pure parts: sealing, tokens, checks, suppression."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pandas as pd
import pytest

from tiplink.errors import ServiceError, TiplinkError
from tiplink.service.crypto import ServerKeys, load_or_create_key
from tiplink.service.refusal import Refused
from tiplink.service.results import (
    POLICY_PER_PARTY,
    POLICY_SHARED,
    opaque_entity_ids,
    parse_cluster_blob,
    party_cluster_blobs,
)
from tiplink.service.storage import Project, engine_url
from tiplink.service.tokens import hashes_match, new_token, read_token_file, token_hash
from tiplink.service.uploads import BatchValidator, UploadLimits, check_header, layout_json
from tiplink.v1 import matching_pb2 as pb

FP = "sha256:" + "ab" * 32


def keys() -> ServerKeys:
    return ServerKeys.from_master(b"k" * 32)


def test_seal_round_trip_and_binding() -> None:
    k = keys()
    blob = k.seal(b"encodings", "chunk:p:1:0")
    assert b"encodings" not in blob
    assert k.open(blob, "chunk:p:1:0") == b"encodings"
    with pytest.raises(ServiceError, match="does not open"):
        k.open(blob, "chunk:p:1:1")  # moved to another row
    with pytest.raises(ServiceError, match="does not open"):
        ServerKeys.from_master(b"x" * 32).open(blob, "chunk:p:1:0")


def test_key_file_created_0600_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    with pytest.raises(ServiceError, match="not found"):
        load_or_create_key(path, create=False)
    first = load_or_create_key(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path, create=False) == first
    os.chmod(path, 0o644)
    with pytest.raises(ServiceError, match="readable by others"):
        load_or_create_key(path, create=False)


def test_tokens_are_random_hashed_and_compared() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 43  # 32 bytes, base64url
    assert token_hash(a) != a and len(token_hash(a)) == 64
    assert hashes_match(token_hash(a), a)
    assert not hashes_match(token_hash(a), b)


def test_token_file_errors(tmp_path: Path) -> None:
    with pytest.raises(TiplinkError, match="not found"):
        read_token_file(tmp_path / "missing")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(TiplinkError, match="empty"):
        read_token_file(tmp_path / "empty")
    (tmp_path / "ok").write_text("abc_DEF-1\n")
    assert read_token_file(tmp_path / "ok") == "abc_DEF-1"


def test_postgres_urls_use_psycopg3() -> None:
    assert engine_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("sqlite:///x.db") == "sqlite:///x.db"


def project(**changes) -> Project:
    base = dict(id="p_0", name="t", schema_name="s", schema_fingerprint=FP,
                parties=("a", "b"), min_cell_count=5, entity_id_policy=POLICY_PER_PARTY,
                key_check=None, bit_length=None, layout=None)
    base.update(changes)
    return Project(**base)


def header(**changes) -> pb.UploadHeader:
    base = dict(upload_id="u1", party="a", schema_fingerprint=FP, key_check="kc",
                record_count=3, bit_length=16, segments=[pb.Segment(name="r", start=0, bits=16)])
    base.update(changes)
    return pb.UploadHeader(**base)


@pytest.mark.parametrize(("changes", "code"), [
    ({"upload_id": ""}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"party": "b"}, grpc.StatusCode.PERMISSION_DENIED),
    ({"schema_fingerprint": "md5:1"}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"schema_fingerprint": "sha256:" + "cd" * 32}, grpc.StatusCode.FAILED_PRECONDITION),
    ({"bit_length": 12}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"record_count": 0}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"record_count": 10**9}, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ({"segments": [pb.Segment(name="r", start=8, bits=16)]}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"key_check": "bad value"}, grpc.StatusCode.INVALID_ARGUMENT),
])
def test_header_refusals(changes: dict, code: grpc.StatusCode) -> None:
    with pytest.raises(Refused) as info:
        check_header(header(**changes), "a", project(), UploadLimits())
    assert info.value.code == code


def test_header_against_fixed_project_fields() -> None:
    h = header()
    fixed = project(key_check="kc", bit_length=16, layout=layout_json(h))
    check_header(h, "a", fixed, UploadLimits())  # same secret and layout: fine
    with pytest.raises(Refused) as info:
        check_header(header(key_check="other"), "a", fixed, UploadLimits())
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "key-check" in info.value.message and "other" not in info.value.message
    with pytest.raises(Refused, match="bit length"):
        check_header(header(bit_length=24, segments=[]), "a",
                     project(key_check="kc", bit_length=16, layout=layout_json(h)),
                     UploadLimits())


def batch(ids: list[str], nbytes: int = 2) -> pb.RecordBatch:
    return pb.RecordBatch(record_ids=ids, clks=b"\x01" * (nbytes * len(ids)))


def test_batch_validator_accepts_and_counts() -> None:
    v = BatchValidator(header(), UploadLimits())
    assert v.check(batch(["r1", "r2"])) == 2
    assert v.check(batch(["r3"])) == 1
    v.finish()


@pytest.mark.parametrize(("batches", "code", "fragment"), [
    ([batch(["r1", "r1"])], grpc.StatusCode.INVALID_ARGUMENT, "duplicate"),
    ([batch(["r1"]), batch(["r1"])], grpc.StatusCode.INVALID_ARGUMENT, "duplicate"),
    ([pb.RecordBatch(record_ids=["r1"], clks=b"\x00")], grpc.StatusCode.INVALID_ARGUMENT,
     "bits per record"),
    ([batch(["r1", "r2", "r3", "r4"])], grpc.StatusCode.INVALID_ARGUMENT, "more records"),
    ([batch(["a\tb"])], grpc.StatusCode.INVALID_ARGUMENT, "control"),
    ([batch([])], grpc.StatusCode.INVALID_ARGUMENT, "empty"),
    ([batch(["r1", "r2", "r3"])], grpc.StatusCode.RESOURCE_EXHAUSTED, "in one batch"),
])
def test_batch_refusals(batches: list, code: grpc.StatusCode, fragment: str) -> None:
    limits = UploadLimits(max_batch_records=2) if code == grpc.StatusCode.RESOURCE_EXHAUSTED \
        else UploadLimits()
    v = BatchValidator(header(), limits)
    with pytest.raises(Refused) as info:
        for b in batches:
            v.check(b)
    assert info.value.code == code and fragment in info.value.message
    assert "r1" not in info.value.message and "a\tb" not in info.value.message


def test_incomplete_upload_refused() -> None:
    v = BatchValidator(header(), UploadLimits())
    v.check(batch(["r1"]))
    with pytest.raises(Refused, match="1 of 3"):
        v.finish()


def test_strata_checked() -> None:
    h = header(strata=["sex"], record_count=2)
    v = BatchValidator(h, UploadLimits())
    with pytest.raises(Refused, match="strata columns"):
        v.check(batch(["r1", "r2"]))
    good = batch(["r1", "r2"])
    good.strata.append(pb.StratumColumn(name="sex", values=["F", "M"]))
    assert v.check(good) == 2


def test_entity_id_policies() -> None:
    clusters = pd.DataFrame({"party": ["a", "a", "b", "b"], "record_id": ["1", "2", "1", "2"],
                             "entity_id": [7, 7, 7, 8]})
    per = opaque_entity_ids(clusters, keys(), "p", 1, POLICY_PER_PARTY)
    assert per[0] == per[1]  # duplicates within a party share an id
    assert per[0] != per[2]  # the same entity differs across parties
    shared = opaque_entity_ids(clusters, keys(), "p", 1, POLICY_SHARED)
    assert shared[0] == shared[1] == shared[2] != shared[3]
    assert "7" not in set(per) and all(len(x) == 25 for x in per)
    blobs = party_cluster_blobs(clusters, per)
    assert sorted(blobs) == ["a", "b"]
    assert list(parse_cluster_blob(blobs["b"])) == [("1", per[2]), ("2", per[3])]
