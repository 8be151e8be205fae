"""Bounded load test of the matching service, on 127.0.0.1 only.

Starts a real ``tiplink serve`` (SQLite in a temporary data directory),
creates one project with CLIENTS parties plus one that never uploads (so no
linkage run competes with the uploads), then runs CLIENTS concurrent
``tiplink upload`` processes of RECORDS records each and reports:

* throughput: records committed per second of wall time, first upload start
  to last upload end;
* server peak memory: the highest RSS of the server process (and its
  children), sampled every 50 ms with psutil.

Usage:
    .venv/bin/python benchmarks/service_load.py [--clients 20] [--records 100000]

Every request goes to 127.0.0.1; the run stops by itself (bounded counts,
a timeout per client).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from tiplink.encoders.extract import ExtractHeader, Segment, now_utc, write_extract
from tiplink.encoders.schema import load_schema

BIT_LENGTH = 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_extract(path: Path, party: str, records: int, fingerprint: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    clks = rng.integers(0, 256, size=(records, BIT_LENGTH // 8), dtype=np.uint8)
    header = ExtractHeader(party=party, schema_fingerprint=fingerprint, key_check="load-kc",
                           bit_length=BIT_LENGTH, record_count=records, created_at=now_utc(),
                           schema_name="victim", segments=(Segment("record", 0, BIT_LENGTH),))
    write_extract(path, header, [f"{party}-{i:08d}" for i in range(records)], clks)


def tiplink(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiplink", *args], capture_output=True,
                          text=True, timeout=1800)


class PeakRss(threading.Thread):
    """Samples the RSS of a process tree until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tiplink-load-"))
    server = None
    try:
        fingerprint = load_schema("victim").fingerprint
        parties = [f"agency{i:02d}" for i in range(args.clients)]
        started = time.perf_counter()
        for i, party in enumerate(parties):
            make_extract(work / f"{party}.parquet", party, args.records, fingerprint, i)
        print(f"made {args.clients} extracts in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
        port = free_port()
        address = f"127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "tiplink", "serve", "--data-dir", str(work / "data"),
             "--listen", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        monitor = PeakRss(server.pid)
        monitor.start()
        deadline = time.monotonic() + 60
        while not (work / "data" / "admin.token").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        created = tiplink("project", "create", "--server", address, "--admin-token-file",
                          str(work / "data" / "admin.token"), "--name", "load",
                          "--schema", "victim", "--parties", ",".join([*parties, "holdout"]))
        if created.returncode != 0:
            raise SystemExit(f"project create failed: {created.stderr}")
        tokens = json.loads(created.stdout)["party_tokens"]
        for party in parties:
            (work / f"{party}.token").write_text(tokens[party] + "\n")
        idle_rss = monitor.peak
        begin = time.perf_counter()
        clients = [subprocess.Popen(
            [sys.executable, "-m", "tiplink", "upload", "--server", address, "--token-file",
             str(work / f"{p}.token"), str(work / f"{p}.parquet")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in parties]
        failures = 0
        records = 0
        for client in clients:
            out, err = client.communicate(timeout=1800)
            if client.returncode != 0:
                failures += 1
                print(err.strip(), file=sys.stderr)
            else:
                records += json.loads(out)["records"]
        elapsed = time.perf_counter() - begin
        monitor.done.set()
        monitor.join()
        report = {
            "clients": args.clients, "records_per_client": args.records,
            "records_committed": records, "failed_clients": failures,
            "seconds": round(elapsed, 2), "records_per_second": round(records / elapsed),
            "server_peak_rss_mib": round(monitor.peak / 2**20, 1),
            "server_idle_rss_mib": round(idle_rss / 2**20, 1),
            "database_mib": round(sum(p.stat().st_size for p in (work / "data").glob(
                "tiplink.db*")) / 2**20, 1),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(report, indent=2))
        return 1 if failures else 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
