"""End-to-end tests against a real ``tiplink serve`` on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tiplink.encoders.extract import read_extract
from tiplink.service.client import upload_chunks, upload_header
from tiplink.v1 import matching_pb2 as pb
from tiplink.v1 import matching_pb2_grpc as pb_grpc

from .helpers import (
    ServerProcess,
    create_project,
    fingerprint,
    make_extracts,
    run_cli,
    wait_state,
)

MAX_MESSAGE_MIB = 4
MAX_BATCH = 20_000
MAX_RECORDS = 50_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("svc")
    proc = ServerProcess(root / "data", extra_args=[
        "--max-message-mib", str(MAX_MESSAGE_MIB), "--max-batch-records", str(MAX_BATCH),
        "--max-records", str(MAX_RECORDS), "--grace", "5"]).start()
    yield proc
    proc.stop()


def token(path: Path) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + path.read_text().strip()),)


def stub(server: ServerProcess) -> tuple[grpc.Channel, pb_grpc.MatchingStub]:
    channel = grpc.insecure_channel(server.address, options=[
        ("grpc.max_send_message_length", 64 * 1024 * 1024)])
    return channel, pb_grpc.MatchingStub(channel)


def rows(server: ServerProcess, project_id: str) -> dict[str, int]:
    """What the database holds for a project (checked after every refusal)."""
    with server.db() as db:
        return {
            "uploads": db.execute("SELECT count(*) FROM uploads WHERE project_id=?",
                                  (project_id,)).fetchone()[0],
            "chunks": db.execute(
                "SELECT count(*) FROM upload_chunks WHERE upload_pk IN "
                "(SELECT pk FROM uploads WHERE project_id=?)", (project_id,)).fetchone()[0],
            "orphan_chunks": db.execute(
                "SELECT count(*) FROM upload_chunks WHERE upload_pk NOT IN "
                "(SELECT pk FROM uploads)").fetchone()[0],
            "runs": db.execute("SELECT count(*) FROM runs WHERE project_id=?",
                               (project_id,)).fetchone()[0],
        }


def offline_counts(paths: list[Path], workdir: Path) -> dict:
    """Counts from the offline ``tiplink link`` on the same extracts."""
    out = workdir / "offline-counts.json"
    run_cli("link", *map(str, paths), "--clusters", str(workdir / "offline.csv"),
            "--counts", str(out), "--min-cell-count", "0", check=True)
    return json.loads(out.read_text())


def comparable(doc: dict) -> dict:
    cells = sorted((tuple(c["parties"]), c["count"]) for c in doc["capture_histories"])
    return {"parties": doc["parties"], "records": doc["records"],
            "unique_entities": doc["unique_entities"],
            "unique_per_party": doc["unique_per_party"], "cells": cells,
            "population": (doc.get("estimate") or {}).get("population")}


def read_clusters(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_four_parties_upload_concurrently_and_counts_match_offline(
        server: ServerProcess, tmp_path: Path) -> None:
    parties = ["embassy", "ngo", "police", "welfare"]
    extracts = make_extracts(tmp_path, parties, 3000, seed=11)
    _created, tokens = create_project(server, tmp_path, parties, "--min-cell-count", "0")
    results: dict[str, object] = {}

    def up(party: str) -> None:
        results[party] = server.cli("upload", "--token-file", str(tokens[party]),
                                    str(extracts[party]))

    threads = [threading.Thread(target=up, args=(p,)) for p in parties]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for party in parties:
        proc = results[party]
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["records"] == 3000
    assert sum(json.loads(results[p].stdout)["run_queued"] for p in parties) == 1
    status = wait_state(server, tokens["analyst"], ["done", "failed"])
    assert status["state"] == "done" and status["progress"] == 1.0
    assert status["uploaded"] == sorted(parties)

    counts_path = tmp_path / "COUNTS.json"
    server.cli("results", "--token-file", str(tokens["analyst"]), "--counts",
               str(counts_path), check=True)
    service = json.loads(counts_path.read_text())
    offline = offline_counts([extracts[p] for p in parties], tmp_path)
    assert comparable(service) == comparable(offline)
    assert not any(c["suppressed"] for c in service["capture_histories"])

    own = {}
    for party in ("police", "ngo"):
        out = tmp_path / f"{party}-own.csv"
        server.cli("results", "--token-file", str(tokens[party]), "--clusters", str(out),
                   check=True)
        own[party] = read_clusters(out)
        assert {r["party"] for r in own[party]} == {party}
        assert sorted(r["record_id"] for r in own[party]) == \
            sorted(read_extract(extracts[party]).record_ids)
    # Default policy: no entity id in common between two parties' files.
    assert not ({r["entity_id"] for r in own["police"]} & {r["entity_id"] for r in own["ngo"]})
    # ... but duplicates within a party share one.
    assert len({r["entity_id"] for r in own["police"]}) < len(own["police"])


def test_suppression_roles_and_shared_policy(server: ServerProcess, tmp_path: Path) -> None:
    parties = ["a", "b"]  # 3 cells from about 12 entities: some are small
    extracts = make_extracts(tmp_path, parties, 8, seed=5, overlap=0.2)
    _created, tokens = create_project(server, tmp_path, parties, "--entity-ids", "shared")
    for p in parties:
        server.cli("upload", "--token-file", str(tokens[p]), str(extracts[p]), check=True)
    wait_state(server, tokens["a"], ["done"])
    counts_path = tmp_path / "c.json"
    server.cli("results", "--token-file", str(tokens["analyst"]), "--counts", str(counts_path),
               check=True)
    cells = json.loads(counts_path.read_text())["capture_histories"]
    hidden = [c for c in cells if c["suppressed"]]
    assert hidden and all(c["count"] is None for c in hidden)
    assert all(c["count"] >= 5 for c in cells if not c["suppressed"])
    # A party may not read counts; the analyst may not read clusters.
    proc = server.cli("results", "--token-file", str(tokens["a"]), "--counts",
                      str(tmp_path / "x.json"))
    assert proc.returncode != 0 and "PERMISSION_DENIED" in proc.stderr
    assert not (tmp_path / "x.json").exists()
    proc = server.cli("results", "--token-file", str(tokens["analyst"]), "--clusters",
                      str(tmp_path / "x.csv"))
    assert proc.returncode != 0 and "PERMISSION_DENIED" in proc.stderr
    assert not (tmp_path / "x.csv").exists()
    # Shared policy: matched entities carry the same id for both parties.
    ids = {}
    for p in parties:
        out = tmp_path / f"{p}.csv"
        server.cli("results", "--token-file", str(tokens[p]), "--clusters", str(out),
                   check=True)
        ids[p] = {r["entity_id"] for r in read_clusters(out)}
    assert ids["a"] & ids["b"]


def raw_upload(server: ServerProcess, tok: Path, messages: list[pb.UploadChunk]
               ) -> grpc.StatusCode:
    channel, s = stub(server)
    with channel:
        try:
            s.Upload(iter(messages), metadata=token(tok), timeout=60)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_refused_uploads_store_nothing(server: ServerProcess, tmp_path: Path) -> None:
    parties = ["police", "ngo"]
    extracts = make_extracts(tmp_path, parties, 500, seed=3)
    created, tokens = create_project(server, tmp_path, parties)
    pid = created["project_id"]
    police = read_extract(extracts["police"])
    good_header = upload_header(police, "u-test-1", replace=False)

    def msgs(header: pb.UploadHeader, extract=police, size=100) -> list[pb.UploadChunk]:
        return list(upload_chunks(extract, header, size))

    bad_token = tmp_path / "bad.token"
    bad_token.write_text("not-a-real-token\n")
    admin = server.data_dir / "admin.token"
    wrong_fp = pb.UploadHeader()
    wrong_fp.CopyFrom(good_header)
    wrong_fp.schema_fingerprint = "sha256:" + "0" * 64
    too_many = pb.UploadHeader()
    too_many.CopyFrom(good_header)
    too_many.record_count = MAX_RECORDS + 1
    tampered = pb.UploadHeader()
    tampered.CopyFrom(good_header)
    tampered.content_sha256 = "0" * 64
    truncated = msgs(good_header)[:-1]
    wrong_length = msgs(good_header)
    wrong_length[2].batch.clks = wrong_length[2].batch.clks[:-1]
    duplicate = msgs(good_header)
    duplicate[3].batch.record_ids[0] = duplicate[1].batch.record_ids[0]
    big = 5_000  # records; 5000 * 1 KiB > MAX_MESSAGE_MIB
    big_batch = pb.UploadChunk(batch=pb.RecordBatch(
        record_ids=[f"r{i}" for i in range(big)], clks=b"\0" * (1024 * big)))
    huge_header = pb.UploadHeader()
    huge_header.CopyFrom(good_header)
    huge_header.record_count = MAX_BATCH + 1
    wide_batch = pb.UploadChunk(batch=pb.RecordBatch(
        record_ids=[f"r{i}" for i in range(MAX_BATCH + 1)], clks=b"\0" * (128 * (MAX_BATCH + 1))))

    cases = [
        ("bad token", bad_token, msgs(good_header), grpc.StatusCode.UNAUTHENTICATED),
        ("analyst token", tokens["analyst"], msgs(good_header),
         grpc.StatusCode.PERMISSION_DENIED),
        ("admin token", admin, msgs(good_header), grpc.StatusCode.PERMISSION_DENIED),
        ("other party's token", tokens["ngo"], msgs(good_header),
         grpc.StatusCode.PERMISSION_DENIED),
        ("batch first", tokens["police"], msgs(good_header)[1:],
         grpc.StatusCode.INVALID_ARGUMENT),
        ("truncated", tokens["police"], truncated, grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong clk length", tokens["police"], wrong_length, grpc.StatusCode.INVALID_ARGUMENT),
        ("duplicate ids", tokens["police"], duplicate, grpc.StatusCode.INVALID_ARGUMENT),
        ("content digest differs", tokens["police"], msgs(tampered),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("wrong schema", tokens["police"], msgs(wrong_fp), grpc.StatusCode.FAILED_PRECONDITION),
        ("too many records", tokens["police"], msgs(too_many),
         grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("oversized message", tokens["police"],
         [pb.UploadChunk(header=good_header), big_batch], grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("oversized batch", tokens["police"], [pb.UploadChunk(header=huge_header), wide_batch],
         grpc.StatusCode.RESOURCE_EXHAUSTED),
    ]
    for name, tok, messages, expected in cases:
        assert raw_upload(server, tok, messages) == expected, name
        assert rows(server, pid) == {"uploads": 0, "chunks": 0, "orphan_chunks": 0,
                                     "runs": 0}, name
    # No token at all.
    channel, s = stub(server)
    with channel, pytest.raises(grpc.RpcError) as info:
        s.GetStatus(pb.GetStatusRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # The CLI reports a refusal on one line, without a traceback.
    proc = server.cli("upload", "--token-file", str(bad_token), str(extracts["police"]))
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "UNAUTHENTICATED" in proc.stderr
    assert "Traceback" not in proc.stderr and "not-a-real-token" not in proc.stderr

    # Accepted upload; repeating it is idempotent.
    server.cli("upload", "--token-file", str(tokens["police"]), str(extracts["police"]),
               check=True)
    after_first = rows(server, pid)
    assert after_first["uploads"] == 1 and after_first["chunks"] > 0
    again = server.cli("upload", "--token-file", str(tokens["police"]), str(extracts["police"]),
                       check=True)
    assert json.loads(again.stdout)["duplicate"] is True
    assert rows(server, pid) == after_first

    # Another secret (key-check value) is refused by name, storing nothing.
    (tmp_path / "other").mkdir()
    other = make_extracts(tmp_path / "other", ["ngo"], 200, seed=4, key_check="kc-other")
    proc = server.cli("upload", "--token-file", str(tokens["ngo"]), str(other["ngo"]))
    assert proc.returncode != 0 and "FAILED_PRECONDITION" in proc.stderr
    assert "key-check" in proc.stderr and "kc-other" not in proc.stderr
    assert rows(server, pid) == after_first

    # A different police extract needs --replace.
    newer = make_extracts(tmp_path / "other", ["police"], 300, seed=9)
    proc = server.cli("upload", "--token-file", str(tokens["police"]), str(newer["police"]))
    assert proc.returncode != 0 and "ALREADY_EXISTS" in proc.stderr
    assert rows(server, pid) == after_first
    proc = server.cli("upload", "--token-file", str(tokens["police"]), str(newer["police"]),
                      "--replace", check=True)
    assert json.loads(proc.stdout)["replaced"] is True
    assert rows(server, pid)["uploads"] == 1
    with server.db() as db:
        count = db.execute("SELECT record_count FROM uploads WHERE project_id=?",
                           (pid,)).fetchone()[0]
    assert count == 300


def test_interrupted_upload_leaves_nothing(server: ServerProcess, tmp_path: Path) -> None:
    extracts = make_extracts(tmp_path, ["solo"], 2000, seed=8)
    created, tokens = create_project(server, tmp_path, ["solo"])
    pid = created["project_id"]
    extract = read_extract(extracts["solo"])
    header = upload_header(extract, "u-interrupted", replace=False)
    sent = threading.Event()

    def slow() -> Iterator[pb.UploadChunk]:
        for i, message in enumerate(upload_chunks(extract, header, 50)):
            yield message
            if i == 5:
                sent.set()
                time.sleep(30)  # the call is cancelled meanwhile

    channel, s = stub(server)
    with channel:
        future = s.Upload.future(slow(), metadata=token(tokens["solo"]))
        assert sent.wait(20)
        deadline = time.monotonic() + 20
        while rows(server, pid)["chunks"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rows(server, pid)["chunks"] > 0  # staged meanwhile
        future.cancel()
    deadline = time.monotonic() + 20
    while rows(server, pid)["uploads"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows(server, pid) == {"uploads": 0, "chunks": 0, "orphan_chunks": 0, "runs": 0}


def test_delete_project_purges_and_audits(server: ServerProcess, tmp_path: Path) -> None:
    parties = ["x"]  # one party: a run without an estimate, so the test stays quick
    extracts = make_extracts(tmp_path, parties, 100, seed=2)
    created, tokens = create_project(server, tmp_path, parties)
    pid = created["project_id"]
    for p in parties:
        server.cli("upload", "--token-file", str(tokens[p]), str(extracts[p]), check=True)
    wait_state(server, tokens["x"], ["done"])
    proc = server.cli("project", "delete", "--admin-token-file",
                      str(server.data_dir / "admin.token"), "--project-id", pid)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["deleted"] is True
    with server.db() as db:
        for table, column in [("uploads", "project_id"), ("runs", "project_id"),
                              ("tokens", "project_id"), ("projects", "id")]:
            assert db.execute(f"SELECT count(*) FROM {table} WHERE {column}=?",
                              (pid,)).fetchone()[0] == 0, table
        assert db.execute("SELECT count(*) FROM results WHERE run_id NOT IN "
                          "(SELECT id FROM runs)").fetchone()[0] == 0
        audit = db.execute("SELECT role, action, outcome FROM audit_log WHERE project_id=? "
                           "ORDER BY id", (pid,)).fetchall()
    assert ("admin", "DeleteProject", "OK") in audit
    assert ("admin", "CreateProject", "OK") in audit
    assert ("party", "Upload", "OK") in audit
    proc = server.cli("status", "--token-file", str(tokens["x"]))
    assert proc.returncode != 0 and "UNAUTHENTICATED" in proc.stderr
    again = server.cli("project", "delete", "--admin-token-file",
                       str(server.data_dir / "admin.token"), "--project-id", pid)
    assert again.returncode != 0 and "NOT_FOUND" in again.stderr


def test_no_secret_or_plaintext_at_rest(server: ServerProcess, tmp_path: Path) -> None:
    parties = ["p1"]
    extracts = make_extracts(tmp_path, parties, 200, seed=21)
    created, tokens = create_project(server, tmp_path, parties)
    for p in parties:
        server.cli("upload", "--token-file", str(tokens[p]), str(extracts[p]), check=True)
    wait_state(server, tokens["p1"], ["done"])
    admin = server.data_dir / "admin.token"
    assert admin.stat().st_mode & 0o777 == 0o600
    assert (server.data_dir / "server.key").stat().st_mode & 0o777 == 0o600
    secrets = [admin.read_text().strip(), created["analyst_token"],
               *created["party_tokens"].values()]
    extract = read_extract(extracts["p1"])
    stored = b"".join(p.read_bytes() for p in server.data_dir.glob("tiplink.db*"))
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in server.log()
    assert extract.record_ids[7].encode() not in stored
    assert extract.clks[7].tobytes() not in stored
    assert not np.all(extract.clks[7] == 0)
    with server.db() as db:
        audit = " ".join(map(str, db.execute("SELECT * FROM audit_log").fetchall()))
    for secret in secrets:
        assert secret not in audit
    assert extract.record_ids[7] not in audit


def test_health_and_reflection_need_no_token(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="tiplink.v1.Matching"), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        responses = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        names = {s.name for r in responses for s in r.list_services_response.service}
    assert "tiplink.v1.Matching" in names and "grpc.health.v1.Health" in names


def test_client_errors_are_one_line(tmp_path: Path) -> None:
    tok = tmp_path / "t.token"
    tok.write_text("abc\n")
    proc = run_cli("status", "--server", "127.0.0.1:1", "--token-file", str(tok))
    assert proc.returncode != 0 and "UNAVAILABLE" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    proc = run_cli("status", "--server", "127.0.0.1:1", "--token-file", str(tmp_path / "no"))
    assert proc.returncode != 0 and "token file not found" in proc.stderr
    proc = run_cli("project", "create", "--server", "127.0.0.1:1", "--admin-token-file",
                   str(tok), "--name", "n", "--schema", str(tmp_path / "missing.json"),
                   "--parties", "a")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_fingerprint_helper_is_stable() -> None:
    assert fingerprint().startswith("sha256:") and fingerprint() == fingerprint()
