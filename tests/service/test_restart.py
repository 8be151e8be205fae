"""Crash and restart: kill -9 during an upload and during a run, SIGTERM
during an upload and a run. Nothing committed is lost, nothing partial
survives, and the resumed run gives the offline result."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import psutil

from tiplink.encoders.extract import read_extract
from tiplink.service.client import upload_chunks, upload_header
from tiplink.service.runner import RUN_DELAY_ENV
from tiplink.v1 import matching_pb2 as pb
from tiplink.v1 import matching_pb2_grpc as pb_grpc

from .helpers import ServerProcess, create_project, make_extracts, wait_state
from .test_service import comparable, offline_counts


def table(server: ServerProcess, sql: str) -> list[tuple]:
    with server.db() as db:
        return db.execute(sql).fetchall()


def wait_for(predicate, timeout: float = 60, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill9_during_upload_and_during_run(tmp_path: Path) -> None:
    parties = ["a", "b", "c"]
    extracts = make_extracts(tmp_path, parties, 4000, seed=31)
    server = ServerProcess(tmp_path / "data", env={RUN_DELAY_ENV: "8"}).start()
    try:
        _created, tokens = create_project(server, tmp_path, parties, "--min-cell-count", "0")
        for p in ("a", "b"):
            server.cli("upload", "--token-file", str(tokens[p]), str(extracts[p]), check=True)
        committed = table(server, "SELECT u.party, count(c.seq), sum(c.records) FROM uploads u "
                                  "JOIN upload_chunks c ON c.upload_pk = u.pk "
                                  "WHERE u.state='committed' GROUP BY u.party ORDER BY u.party")
        assert [r[0] for r in committed] == ["a", "b"]

        # kill -9 while c's upload is streaming in small batches.
        client = subprocess.Popen(
            [sys.executable, "-m", "tiplink", "upload", "--server", server.address,
             "--token-file", str(tokens["c"]), "--chunk-records", "10", str(extracts["c"])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: table(server, "SELECT count(*) FROM upload_chunks c JOIN uploads u "
                                       "ON c.upload_pk=u.pk WHERE u.state='staging'")[0][0] > 5,
                 what="staged batches")
        server.kill9()
        _, err = client.communicate(timeout=60)
        assert client.returncode != 0 and "UNAVAILABLE" in err and "Traceback" not in err
        assert table(server, "SELECT count(*) FROM uploads WHERE state='staging'")[0][0] == 1

        server.start()  # same port and data directory
        assert table(server, "SELECT count(*) FROM uploads WHERE state='staging'")[0][0] == 0
        assert table(server, "SELECT count(*) FROM upload_chunks WHERE upload_pk NOT IN "
                             "(SELECT pk FROM uploads)")[0][0] == 0
        assert table(server, "SELECT u.party, count(c.seq), sum(c.records) FROM uploads u "
                             "JOIN upload_chunks c ON c.upload_pk = u.pk "
                             "WHERE u.state='committed' GROUP BY u.party ORDER BY u.party"
                     ) == committed
        status = json.loads(server.cli("status", "--token-file", str(tokens["a"]),
                                       check=True).stdout)
        assert status["state"] == "waiting" and status["uploaded"] == ["a", "b"]

        # Complete the set; kill -9 while the run is running.
        server.cli("upload", "--token-file", str(tokens["c"]), str(extracts["c"]), check=True)
        wait_state(server, tokens["analyst"], ["running"])
        wait_for(lambda: table(server, "SELECT state FROM runs")[0][0] == "running",
                 what="run started")
        assert server.process is not None
        children = psutil.Process(server.process.pid).children(recursive=True)
        server.kill9()
        # The orphaned worker notices and exits (it could not write anyway).
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
        assert table(server, "SELECT state FROM runs") == [("running",)]

        server.env = {}  # no artificial delay after the restart
        server.start()
        status = wait_state(server, tokens["analyst"], ["done", "failed"])
        assert status["state"] == "done", status
        assert table(server, "SELECT state, attempt FROM runs") == [("done", 2)]
        out = tmp_path / "COUNTS.json"
        server.cli("results", "--token-file", str(tokens["analyst"]), "--counts", str(out),
                   check=True)
        offline = offline_counts([extracts[p] for p in parties], tmp_path)
        assert comparable(json.loads(out.read_text())) == comparable(offline)
    finally:
        server.stop()


def test_sigterm_finishes_inflight_upload_and_parks_run(tmp_path: Path) -> None:
    parties = ["a", "b"]
    extracts = make_extracts(tmp_path, parties, 1000, seed=41)
    server = ServerProcess(tmp_path / "data", env={RUN_DELAY_ENV: "60"},
                           extra_args=["--grace", "30"]).start()
    try:
        _, tokens = create_project(server, tmp_path, parties)
        server.cli("upload", "--token-file", str(tokens["a"]), str(extracts["a"]), check=True)
        extract = read_extract(extracts["b"])
        header = upload_header(extract, "u-slow-b", replace=False)
        halfway = threading.Event()

        def slow() -> Iterator[pb.UploadChunk]:
            for i, message in enumerate(upload_chunks(extract, header, 50)):
                yield message
                if i == 10:
                    halfway.set()
                time.sleep(0.1)  # ~2 s in all

        outcome: dict[str, object] = {}

        def call() -> None:
            with grpc.insecure_channel(server.address) as channel:
                try:
                    outcome["reply"] = pb_grpc.MatchingStub(channel).Upload(
                        slow(), metadata=(("authorization",
                                           "Bearer " + tokens["b"].read_text().strip()),),
                        timeout=60)
                except grpc.RpcError as exc:
                    outcome["error"] = exc.code()

        thread = threading.Thread(target=call)
        thread.start()
        assert halfway.wait(30)
        assert server.process is not None
        server.process.send_signal(15)  # SIGTERM mid-upload
        thread.join(60)
        assert "error" not in outcome, outcome
        assert outcome["reply"].records == 1000 and outcome["reply"].run_queued
        assert server.process.wait(timeout=60) == 0
        # The run (60 s delay) was queued or started, and is now parked.
        assert table(server, "SELECT state FROM runs") == [("queued",)]
        assert table(server, "SELECT count(*) FROM uploads WHERE state='committed'"
                     )[0][0] == 2

        # Again with the run surely running: SIGTERM parks it.
        server.start()
        wait_for(lambda: table(server, "SELECT state FROM runs")[0][0] == "running",
                 what="run started")
        started = time.monotonic()
        assert server.terminate(timeout=60) == 0
        assert time.monotonic() - started < 20
        assert table(server, "SELECT state, progress FROM runs") == [("queued", 0.0)]

        server.env = {}
        server.start()
        assert wait_state(server, tokens["a"], ["done", "failed"])["state"] == "done"
    finally:
        server.stop()
