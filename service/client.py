"""The client side of the matching service: the calls behind the commands.

Tokens come from files and travel only as gRPC metadata
(``authorization: Bearer ...``). Failures become one-line
:class:`~tiplink.errors.ServiceError` messages carrying the gRPC status name
and the server's message.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from tqdm import tqdm

from tiplink.atomic import atomic_output
from tiplink.encoders.extract import ContentDigest, Extract, read_extract
from tiplink.errors import ServiceError, TiplinkError
from tiplink.v1 import matching_pb2 as pb
from tiplink.v1 import matching_pb2_grpc as pb_grpc

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
TARGET_BATCH_BYTES = 2 * 1024 * 1024
UNARY_TIMEOUT = 120.0
POLICIES = {"per-party": pb.ENTITY_ID_POLICY_PER_PARTY, "shared": pb.ENTITY_ID_POLICY_SHARED}


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the server.

    Attributes:
        server: ``host:port``.
        tls_ca: CA certificate (PEM) to verify the server; TLS when set.
        tls_cert, tls_key: client certificate and key for mutual TLS.
    """

    server: str
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        raise TiplinkError(f"{path}: cannot read file") from None


def open_channel(conn: Connection) -> grpc.Channel:
    """A channel to the server (TLS when a CA or client certificate is given)."""
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    if conn.tls_ca is None and conn.tls_cert is None:
        return grpc.insecure_channel(conn.server, options=options)
    if (conn.tls_cert is None) != (conn.tls_key is None):
        raise TiplinkError("mutual TLS needs both --tls-cert and --tls-key")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(conn.tls_ca), private_key=_read(conn.tls_key),
        certificate_chain=_read(conn.tls_cert))
    return grpc.secure_channel(conn.server, credentials, options=options)


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _service_error(exc: grpc.RpcError) -> ServiceError:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else None
    name = code.name if code is not None else "UNKNOWN"
    return ServiceError(details or "the call failed", name)


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except grpc.RpcError as exc:
        raise _service_error(exc) from None


def create_project(conn: Connection, admin_token: str, name: str, schema_name: str,
                   fingerprint: str, parties: list[str], min_cell_count: int,
                   entity_ids: str) -> dict[str, Any]:
    """Create a project; return the contract's JSON object."""
    with open_channel(conn) as channel:
        stub = pb_grpc.MatchingStub(channel)
        response = _call(stub.CreateProject, pb.CreateProjectRequest(
            name=name, schema_name=schema_name, schema_fingerprint=fingerprint,
            parties=parties, min_cell_count=min_cell_count,
            entity_id_policy=POLICIES[entity_ids]),
            metadata=_metadata(admin_token), timeout=UNARY_TIMEOUT)
    return {"project_id": response.project_id, "party_tokens": dict(response.party_tokens),
            "analyst_token": response.analyst_token}


def delete_project(conn: Connection, admin_token: str, project_id: str) -> dict[str, Any]:
    """Delete a project and everything stored for it."""
    with open_channel(conn) as channel:
        response = _call(pb_grpc.MatchingStub(channel).DeleteProject,
                         pb.DeleteProjectRequest(project_id=project_id),
                         metadata=_metadata(admin_token), timeout=UNARY_TIMEOUT)
    return {"project_id": project_id, "deleted": response.deleted}


def default_upload_id(extract: Extract) -> str:
    """A content-derived upload id: retrying the same file is idempotent."""
    digest = extract.header.content_sha256
    if not digest:
        content = ContentDigest()
        content.update(extract.record_ids, extract.clks, extract.strata)
        digest = content.hexdigest()
    material = f"{extract.header.party}\0{extract.header.key_check}\0{digest}"
    return "u-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def upload_header(extract: Extract, upload_id: str, replace: bool) -> pb.UploadHeader:
    """The Upload stream's first message, from the extract's header."""
    h = extract.header
    return pb.UploadHeader(
        upload_id=upload_id, party=h.party, schema_fingerprint=h.schema_fingerprint,
        key_check=h.key_check, record_count=len(extract.record_ids), bit_length=h.bit_length,
        segments=[pb.Segment(name=s.name, start=s.start, bits=s.bits) for s in h.segments],
        strata=list(h.strata), schema_name=h.schema_name, content_sha256=h.content_sha256,
        replace=replace, created_at=h.created_at)


def batch_size(extract: Extract, limit: int | None) -> int:
    """Records per batch: about TARGET_BATCH_BYTES per message."""
    per_record = extract.header.bit_length // 8 + 40 + 16 * len(extract.header.strata)
    size = max(1, min(50_000, TARGET_BATCH_BYTES // per_record))
    return min(size, limit) if limit else size


def upload_chunks(extract: Extract, header: pb.UploadHeader, size: int,
                  bar: tqdm | None = None) -> Iterator[pb.UploadChunk]:
    """The Upload stream: the header, then the records in batches."""
    yield pb.UploadChunk(header=header)
    n = len(extract.record_ids)
    for start in range(0, n, size):
        stop = min(n, start + size)
        yield pb.UploadChunk(batch=pb.RecordBatch(
            record_ids=extract.record_ids[start:stop],
            clks=extract.clks[start:stop].tobytes(),
            strata=[pb.StratumColumn(name=name, values=extract.strata[name][start:stop])
                    for name in extract.header.strata]))
        if bar is not None:
            bar.update(stop - start)


def upload(conn: Connection, token: str, path: Path, replace: bool = False,
           upload_id: str | None = None, chunk_records: int | None = None) -> dict[str, Any]:
    """Upload an extract (read and verified locally first); return the outcome."""
    extract = read_extract(path)
    upload_id = upload_id or default_upload_id(extract)
    header = upload_header(extract, upload_id, replace)
    size = batch_size(extract, chunk_records)
    with tqdm(total=len(extract.record_ids), unit="rec", unit_scale=True, file=sys.stderr,
              disable=not sys.stderr.isatty(), desc="upload") as bar, \
            open_channel(conn) as channel:
        response = _call(pb_grpc.MatchingStub(channel).Upload,
                         upload_chunks(extract, header, size, bar), metadata=_metadata(token))
    return {"upload_id": response.upload_id, "records": response.records,
            "duplicate": response.duplicate, "replaced": response.replaced,
            "uploaded": list(response.uploaded), "run_queued": response.run_queued}


def status(conn: Connection, token: str) -> dict[str, Any]:
    """The project's status as the contract's JSON object."""
    with open_channel(conn) as channel:
        r = _call(pb_grpc.MatchingStub(channel).GetStatus, pb.GetStatusRequest(),
                  metadata=_metadata(token), timeout=UNARY_TIMEOUT)
    out: dict[str, Any] = {"project_id": r.project_id, "name": r.name, "state": r.state,
                           "uploaded": list(r.uploaded), "parties": list(r.parties),
                           "progress": round(r.progress, 4), "run_id": r.run_id}
    if r.error:
        out["error"] = r.error
    return out


def fetch_counts(conn: Connection, token: str) -> dict[str, Any]:
    """The analyst's COUNTS.json document."""
    with open_channel(conn) as channel:
        r = _call(pb_grpc.MatchingStub(channel).GetCounts, pb.GetCountsRequest(),
                  metadata=_metadata(token), timeout=UNARY_TIMEOUT)
    return json.loads(r.counts_json)


def write_counts(conn: Connection, token: str, path: Path) -> dict[str, Any]:
    """Fetch counts and write them atomically to ``path``."""
    document = fetch_counts(conn, token)
    with atomic_output(path, "w") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return document


def write_clusters(conn: Connection, token: str, path: Path) -> int:
    """Fetch the caller's own records with entity ids into a CSV; return rows."""
    rows = 0
    with open_channel(conn) as channel, atomic_output(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["party", "record_id", "entity_id"])
        try:
            for batch in pb_grpc.MatchingStub(channel).GetClusters(
                    pb.GetClustersRequest(), metadata=_metadata(token)):
                for record_id, entity_id in zip(batch.record_ids, batch.entity_ids,
                                                strict=True):
                    writer.writerow([batch.party, record_id, entity_id])
                rows += len(batch.record_ids)
        except grpc.RpcError as exc:
            raise _service_error(exc) from None
    return rows
