"""The service on a real PostgreSQL server (``--database postgresql://...``).

Needs ``TIPLINK_TEST_POSTGRES_URL`` (``.ci/postgres.sh`` prints it); skipped
without it unless ``TIPLINK_REQUIRE_POSTGRES`` is set, in which case it fails.
Each run creates a fresh database beside the given one and drops it after.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from .helpers import ServerProcess, create_project, make_extracts, wait_state
from .test_service import comparable, offline_counts

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get("TIPLINK_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("TIPLINK_REQUIRE_POSTGRES"):
            pytest.fail("TIPLINK_REQUIRE_POSTGRES is set but TIPLINK_TEST_POSTGRES_URL is not")
        pytest.skip("TIPLINK_TEST_POSTGRES_URL not set")
    name = "tiplink_t_" + secrets.token_hex(4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(url)
    user, password = params.get("user", ""), params.get("password", "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    yield f"postgresql://{auth}{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_service_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    parties = ["police", "ngo", "welfare"]
    extracts = make_extracts(tmp_path, parties, 2000, seed=51)
    server = ServerProcess(tmp_path / "data", extra_args=["--database", pg_url]).start()
    try:
        assert not (tmp_path / "data" / "tiplink.db").exists()
        created, tokens = create_project(server, tmp_path, parties, "--min-cell-count", "0")
        pid = created["project_id"]
        # A refused upload (wrong party) stores nothing.
        proc = server.cli("upload", "--token-file", str(tokens["ngo"]),
                          str(extracts["police"]))
        assert proc.returncode != 0 and "PERMISSION_DENIED" in proc.stderr
        assert pg_rows(pg_url, "SELECT count(*) FROM uploads") == [(0,)]
        for p in ("police", "ngo"):
            server.cli("upload", "--token-file", str(tokens[p]), str(extracts[p]), check=True)

        # kill -9 mid-upload: the staged rows are purged at restart.
        client = subprocess.Popen(
            [sys.executable, "-m", "tiplink", "upload", "--server", server.address,
             "--token-file", str(tokens["welfare"]), "--chunk-records", "10",
             str(extracts["welfare"])], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pg_rows(
                pg_url, "SELECT count(*) FROM upload_chunks c JOIN uploads u ON "
                        "c.upload_pk = u.pk WHERE u.state = 'staging'")[0][0] < 5:
            time.sleep(0.05)
        server.kill9()
        client.wait(timeout=60)
        assert client.returncode != 0
        server.start()
        assert pg_rows(pg_url, "SELECT party FROM uploads ORDER BY party") == [("ngo",),
                                                                               ("police",)]
        server.cli("upload", "--token-file", str(tokens["welfare"]), str(extracts["welfare"]),
                   check=True)
        assert wait_state(server, tokens["analyst"], ["done", "failed"])["state"] == "done"
        out = tmp_path / "COUNTS.json"
        server.cli("results", "--token-file", str(tokens["analyst"]), "--counts", str(out),
                   check=True)
        offline = offline_counts([extracts[p] for p in parties], tmp_path)
        assert comparable(json.loads(out.read_text())) == comparable(offline)
        # Sealed at rest: no record id in the database.
        dump = pg_rows(pg_url, "SELECT blob FROM upload_chunks LIMIT 20")
        assert all(b"police-0000001" not in bytes(row[0]) for row in dump)
        # Deletion purges.
        server.cli("project", "delete", "--admin-token-file",
                   str(server.data_dir / "admin.token"), "--project-id", pid, check=True)
        assert pg_rows(pg_url, "SELECT count(*) FROM upload_chunks") == [(0,)]
        assert pg_rows(pg_url, "SELECT count(*) FROM results") == [(0,)]
        assert ("DeleteProject", "OK") in pg_rows(
            pg_url, f"SELECT action, outcome FROM audit_log WHERE project_id = '{pid}'")
    finally:
        server.stop()
