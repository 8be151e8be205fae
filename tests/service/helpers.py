"""Shared helpers for the service tests: synthetic extracts, a real server
subprocess on 127.0.0.1, and the ``tiplink`` command as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tiplink.encoders.extract import ExtractHeader, Segment, now_utc, write_extract
from tiplink.service.linkage_adapter import schema_fingerprint

DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMA = DATA / "service_schema.json"
BIT_LENGTH = 1024


def fingerprint() -> str:
    """The test schema's fingerprint, as the client computes it."""
    return schema_fingerprint(str(SCHEMA))[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_extracts(directory: Path, parties: Sequence[str], per_party: int, seed: int = 1,
                  key_check: str = "kc-test-1", overlap: float = 0.4, flips: int = 0,
                  strata: bool = False) -> dict[str, Path]:
    """Write one synthetic extract per party that share some entities.

    Entities are random 1024-bit encodings; each party holds ``per_party``
    records drawn from a common pool (so parties overlap) with a few
    within-party duplicates; ``flips`` random bits are flipped per record.
    """
    rng = np.random.default_rng(seed)
    pool_size = max(1, int(per_party * len(parties) * (1 - overlap)))
    pool = rng.random((pool_size, BIT_LENGTH)) < 0.3
    paths = {}
    fp = fingerprint()
    for party in parties:
        picks = rng.choice(pool_size, size=per_party, replace=True)
        bits = pool[picks].copy()
        for row in range(per_party):
            if flips:
                idx = rng.choice(BIT_LENGTH, size=flips, replace=False)
                bits[row, idx] ^= True
        clks = np.packbits(bits, axis=1)
        header = ExtractHeader(
            party=party, schema_fingerprint=fp, key_check=key_check, bit_length=BIT_LENGTH,
            record_count=per_party, created_at=now_utc(), schema_name="service_schema",
            segments=(Segment("record", 0, BIT_LENGTH),),
            strata=("sex",) if strata else ())
        ids = [f"{party}-{i:07d}" for i in range(per_party)]
        strata_values = {"sex": [["F", "M", ""][i % 3] for i in range(per_party)]} \
            if strata else None
        path = directory / f"{party}.extract.parquet"
        write_extract(path, header, ids, clks, strata_values)
        paths[party] = path
    return paths


def run_cli(*args: str, check: bool = False, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``tiplink ARGS`` in a subprocess, capturing text output."""
    proc = subprocess.run([sys.executable, "-m", "tiplink", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"tiplink {args[0]} failed ({proc.returncode}): {proc.stderr}")
    return proc


@dataclass
class ServerProcess:
    """A real ``tiplink serve`` subprocess on 127.0.0.1."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    tls_ca: Path | None = None
    ready_from_log: bool = False  # for mutual TLS, where a bare health probe fails

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        """Start the server and wait until its health check says SERVING."""
        if not self.port:
            self.port = free_port()
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tiplink", "serve", "--data-dir", str(self.data_dir),
             "--listen", self.address, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early: {self.log()}")
            if self.ready_from_log and "tiplink serving on" in self.log():
                return self
            if not self.ready_from_log and self.healthy():
                return self
            time.sleep(0.1)
        raise AssertionError(f"server did not become healthy: {self.log()}")

    def channel(self) -> grpc.Channel:
        if self.tls_ca is not None:
            creds = grpc.ssl_channel_credentials(root_certificates=self.tls_ca.read_bytes())
            return grpc.secure_channel(self.address, creds)
        return grpc.insecure_channel(self.address)

    def healthy(self) -> bool:
        try:
            with self.channel() as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1)
            return reply.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM and wait; return the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server still running {timeout:.0f} s after SIGTERM; "
                                 f"its log:\n{self.log()[-4000:]}") from None

    def kill9(self) -> None:
        """SIGKILL, as a crash would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.terminate(timeout=30)
            except AssertionError:
                self.kill9()

    def cli(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        """Run a client command against this server."""
        command, *rest = args
        prefix = [command]
        if command == "project":
            prefix, rest = [command, rest[0]], rest[1:]
        tls = ["--tls-ca", str(self.tls_ca)] if self.tls_ca else []
        return run_cli(*prefix, "--server", self.address, *tls, *rest, **kwargs)

    def db(self) -> sqlite3.Connection:
        """A read connection to the server's SQLite file."""
        return sqlite3.connect(self.data_dir / "tiplink.db", timeout=30)


def write_tokens(directory: Path, created: dict) -> dict[str, Path]:
    """Write the tokens of a ``project create`` reply to files; return them."""
    paths = {}
    for party, token in created["party_tokens"].items():
        paths[party] = directory / f"{party}.token"
        paths[party].write_text(token + "\n")
    paths["analyst"] = directory / "analyst.token"
    paths["analyst"].write_text(created["analyst_token"] + "\n")
    return paths


def create_project(server: ServerProcess, directory: Path, parties: Sequence[str],
                   *extra: str) -> tuple[dict, dict[str, Path]]:
    """Create a project through the CLI; return its reply and token files."""
    proc = server.cli("project", "create", "--admin-token-file",
                      str(server.data_dir / "admin.token"), "--name", "test",
                      "--schema", str(SCHEMA), "--parties", ",".join(parties), *extra,
                      check=True)
    created = json.loads(proc.stdout)
    return created, write_tokens(directory, created)


def wait_state(server: ServerProcess, token: Path, states: Sequence[str],
               timeout: float = 120) -> dict:
    """Poll ``status`` until the state is one of ``states``."""
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        proc = server.cli("status", "--token-file", str(token))
        if proc.returncode == 0:
            status = json.loads(proc.stdout)
            if status["state"] in states:
                return status
        time.sleep(0.3)
    raise AssertionError(f"state never reached {states}: {status} {server.log()[-2000:]}")
