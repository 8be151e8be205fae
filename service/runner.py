"""Background linkage runs.

A scheduler thread in the server claims queued runs one at a time and runs
each in a child process (``forkserver``), so the CPU-heavy engine neither blocks
the gRPC threads nor shares their memory. The child reads the committed
uploads, links them, and stores sealed results in one fenced transaction:
it may write only while the run is still ``running`` under its own attempt
number, so a child orphaned by a server crash, or a run superseded by a
replacement upload or a project deletion, cannot write stale results.

Shutdown parks the running run (back to ``queued``) after stopping its
child; a crash leaves it ``running``, and :meth:`Store.recover` requeues it
at the next start. Either way the run starts again from the stored uploads.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiplink.encoders.extract import Extract, ExtractHeader
from tiplink.errors import TiplinkError
from tiplink.service import linkage_adapter
from tiplink.service.crypto import load_or_create_key
from tiplink.service.results import opaque_entity_ids, party_cluster_blobs
from tiplink.service.storage import RunTicket, Store
from tiplink.v1 import matching_pb2 as pb

log = logging.getLogger("tiplink.service")

# Test and operations knob: seconds the worker waits (reporting progress)
# before linking, so restart behaviour can be exercised on small data.
RUN_DELAY_ENV = "TIPLINK_TEST_RUN_DELAY"
PROGRESS_INTERVAL = 0.5
# Imported once by the fork server; missing ones are skipped.
PRELOAD = ("tiplink.service.runner", "tiplink.linkage.engine", "tiplink.linkage.counts",
           "tiplink.linkage.estimate")


@dataclass(frozen=True)
class WorkerConfig:
    """What a run child needs to open the store itself."""

    database_url: str
    key_file: str


def assemble_extract(store: Store, project_id: str, upload_pk: int,
                     header_json: str) -> Extract:
    """Rebuild one party's extract from its stored batches."""
    header = ExtractHeader.from_json(header_json)
    record_ids: list[str] = []
    clk_parts: list[bytes] = []
    strata: dict[str, list[str]] = {name: [] for name in header.strata}
    for payload in store.upload_payloads(project_id, upload_pk):
        batch = pb.RecordBatch.FromString(payload)
        record_ids.extend(batch.record_ids)
        clk_parts.append(batch.clks)
        for column in batch.strata:
            strata[column.name].extend(column.values)
    nbytes = header.bit_length // 8
    clks = np.frombuffer(b"".join(clk_parts), dtype=np.uint8).reshape(len(record_ids), nbytes)
    return Extract(header=header, record_ids=record_ids, clks=clks.copy(), strata=strata)


def _watch_parent(parent_pid: int) -> None:
    # Exit when the server dies (kill -9): the fenced writes already make a
    # stale child harmless; this also frees the CPU. (Under forkserver our
    # parent process is the fork server, so check the server's pid itself.)
    while True:
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(3)
        except PermissionError:
            pass
        time.sleep(0.5)


def run_job(config: WorkerConfig, ticket: RunTicket, parent_pid: int) -> None:
    """Child-process entry: link a project's uploads and store the results."""
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    keys = load_or_create_key(Path(config.key_file), create=False)
    store = Store(config.database_url, keys)
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL or fraction >= 1.0:
            last[0] = now
            # Scale the engine's progress into [0.05, 0.95]: loading and
            # storing take the rest.
            if not store.set_progress(ticket, 0.05 + 0.9 * fraction):
                os._exit(4)  # no longer our run (superseded, deleted, parked)

    try:
        project = store.get_project(ticket.project_id)
        if project is None:
            return
        delay = float(os.environ.get(RUN_DELAY_ENV, "0") or 0)
        steps = int(delay / 0.1)
        for i in range(steps):
            time.sleep(0.1)
            if i % 5 == 0:
                progress(0.0)
        uploads = store.committed_uploads(ticket.project_id)
        extracts = [assemble_extract(store, ticket.project_id, u.pk, u.header_json)
                    for u in uploads]
        store.set_progress(ticket, 0.05)
        result = linkage_adapter.link(extracts, progress=progress)
        clusters = result.clusters
        counts = linkage_adapter.counts(result, project.min_cell_count)
        opaque = opaque_entity_ids(clusters, keys, ticket.project_id, ticket.run_id,
                                   project.entity_id_policy)
        blobs = {f"clusters:{party}": blob
                 for party, blob in party_cluster_blobs(clusters, opaque).items()}
        blobs["counts"] = json.dumps(counts, sort_keys=True).encode()
        store.finish_run(ticket, blobs)
    except TiplinkError as exc:
        store.fail_run(ticket, f"linkage failed: {exc.message}")
    except Exception as exc:
        # The exception text may quote data; keep only its type.
        store.fail_run(ticket, f"linkage failed ({type(exc).__name__})")
    finally:
        store.close()


class RunScheduler:
    """Runs queued linkage runs, one at a time, in child processes.

    Args:
        store: the server's store.
        config: how a child opens the store.
    """

    def __init__(self, store: Store, config: WorkerConfig) -> None:
        self.store = store
        self.config = config
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-scheduler", daemon=True)
        # forkserver: children fork from a clean process that has already
        # imported the engine (pandas, numpy, statsmodels, numba), so a run
        # starts in milliseconds instead of re-importing for seconds, and
        # without inheriting the gRPC server's threads as plain fork would.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(list(PRELOAD))

    def start(self) -> None:
        """Start the scheduler thread (and, in the background, the fork server)."""
        self._thread.start()

    def wake(self) -> None:
        """Look for queued runs now (after an upload completed a project)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                ticket = self.store.claim_queued_run()
            except Exception as exc:
                log.warning("run scheduler: storage error (%s)", type(exc).__name__)
                continue
            if ticket is not None:
                self._execute(ticket)
                self._wake.set()  # there may be more queued

    def _execute(self, ticket: RunTicket) -> None:
        log.info("run %d of project %s: started (attempt %d)", ticket.run_id,
                 ticket.project_id, ticket.attempt)
        process = self._context.Process(target=run_job, args=(self.config, ticket, os.getpid()),
                                        name=f"tiplink-run-{ticket.run_id}", daemon=True)
        process.start()
        while process.is_alive():
            if self._stop.is_set():
                # Shutdown: stop the worker here, in the thread that owns it,
                # so that stop() never waits on a process start in progress.
                self._park(ticket, process)
                return
            process.join(timeout=0.5)
            if not self._still_ours(ticket):
                log.info("run %d: superseded or deleted; stopping its worker", ticket.run_id)
                process.terminate()
        process.join(timeout=10)
        row = self.store.current_run(ticket.project_id)
        if row is not None and row.id == ticket.run_id and row.state == "running":
            self.store.fail_run(ticket, f"linkage worker stopped unexpectedly "
                                        f"(exit code {process.exitcode})")
        log.info("run %d: finished (%s)", ticket.run_id,
                 row.state if row is not None else "gone")

    def _park(self, ticket: RunTicket,
              process: multiprocessing.process.BaseProcess) -> None:
        process.terminate()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
        if self.store.park_run(ticket):
            log.info("run %d: parked; it resumes when the server restarts", ticket.run_id)

    def _still_ours(self, ticket: RunTicket) -> bool:
        try:
            row = self.store.current_run(ticket.project_id)
        except Exception:
            return True
        return row is not None and row.id == ticket.run_id and row.attempt == ticket.attempt

    def stop(self) -> None:
        """Stop the scheduler; park a running run so it resumes after restart."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
        if self._thread.is_alive():
            log.warning("run scheduler: did not stop within 30 s")
