"""The gRPC matching server: ``tiplink serve``.

A synchronous grpcio server with a thread pool: handlers do little CPU work
(checking and sealing batches), and linkage runs happen in child processes
(:mod:`tiplink.service.runner`). Every call except health and reflection
passes :class:`AuthInterceptor`, which resolves the bearer token to a role
and checks the method's allowed roles before the handler runs.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tiplink.atomic import atomic_output
from tiplink.errors import ServiceError
from tiplink.service import results as results_mod
from tiplink.service.crypto import load_or_create_key
from tiplink.service.refusal import Refused
from tiplink.service.runner import RunScheduler, WorkerConfig
from tiplink.service.storage import Principal, Store, default_url
from tiplink.service.tokens import Role, new_token, read_token_file
from tiplink.service.uploads import (
    PARTY_RE,
    BatchValidator,
    UploadLimits,
    check_header,
    extract_header_json,
    layout_json,
)
from tiplink.v1 import matching_pb2 as pb
from tiplink.v1 import matching_pb2_grpc as pb_grpc

log = logging.getLogger("tiplink.service")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Matching"].full_name
METHOD_ROLES: dict[str, frozenset[Role]] = {
    f"/{SERVICE_NAME}/CreateProject": frozenset({Role.ADMIN}),
    f"/{SERVICE_NAME}/DeleteProject": frozenset({Role.ADMIN}),
    f"/{SERVICE_NAME}/Upload": frozenset({Role.PARTY}),
    f"/{SERVICE_NAME}/GetStatus": frozenset({Role.PARTY, Role.ANALYST}),
    f"/{SERVICE_NAME}/GetCounts": frozenset({Role.ANALYST}),
    f"/{SERVICE_NAME}/GetClusters": frozenset({Role.PARTY}),
}
OPEN_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
BEARER_RE = re.compile(r"^Bearer ([A-Za-z0-9_\-]{1,512})$")
CLUSTER_BATCH = 10_000
POLICY_NAMES = {
    pb.ENTITY_ID_POLICY_UNSPECIFIED: results_mod.POLICY_PER_PARTY,
    pb.ENTITY_ID_POLICY_PER_PARTY: results_mod.POLICY_PER_PARTY,
    pb.ENTITY_ID_POLICY_SHARED: results_mod.POLICY_SHARED,
}

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")


@dataclass
class ServerConfig:
    """How to run the server (``tiplink serve`` options).

    Attributes:
        data_dir: directory for the SQLite file, key file and admin token.
        listen: ``host:port``.
        tls_cert, tls_key: server certificate and key (PEM) for TLS.
        tls_client_ca: CA (PEM) whose client certificates are required
            (mutual TLS).
        database: database URL; default SQLite under ``data_dir``.
        admin_token_file: read the admin token from here instead of
            generating ``data_dir/admin.token``.
        key_file: the server key file; default ``data_dir/server.key``.
        limits: upload size limits.
        max_message_bytes: largest gRPC message either way.
        grace: seconds in-flight calls get on shutdown.
        workers: gRPC handler threads.
        allow_insecure: allow a non-loopback address without TLS.
    """

    data_dir: Path
    listen: str = "127.0.0.1:50051"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    database: str | None = None
    admin_token_file: Path | None = None
    key_file: Path | None = None
    limits: UploadLimits = field(default_factory=UploadLimits)
    max_message_bytes: int = 16 * 1024 * 1024
    grace: float = 20.0
    workers: int = 32
    allow_insecure: bool = False


def _is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _refuse(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> None:
    context.abort(code, message)


class AuthInterceptor(grpc.ServerInterceptor):
    """Checks the bearer token and the caller's role on every call.

    Health checks and reflection are open (they reveal no data). Denials are
    written to the audit log with the role (``anonymous`` for a bad token)
    and never the token.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def _authorise(self, method: str, context: grpc.ServicerContext) -> Principal:
        action = method.rsplit("/", 1)[-1]
        token = None
        for key, value in context.invocation_metadata():
            if key == "authorization":
                match = BEARER_RE.match(value if isinstance(value, str) else "")
                token = match.group(1) if match else None
                break
        principal = self.store.authenticate(token) if token else None
        if principal is None:
            self.store.audit("anonymous", action, "UNAUTHENTICATED")
            _refuse(context, grpc.StatusCode.UNAUTHENTICATED,
                    "missing or unknown token (send 'authorization: Bearer <token>')")
        assert principal is not None
        if principal.role not in METHOD_ROLES[method]:
            self.store.audit(principal.role.value, action, "PERMISSION_DENIED",
                             principal.project_id, principal.party)
            allowed = " or ".join(sorted(r.value for r in METHOD_ROLES[method]))
            _refuse(context, grpc.StatusCode.PERMISSION_DENIED,
                    f"{action} needs a {allowed} token; this is a {principal.role.value} token")
        return principal

    def intercept_service(self, continuation: Callable[..., Any],
                          handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        if method not in METHOD_ROLES:
            return None  # unknown method: UNIMPLEMENTED
        authorise = functools.partial(self._authorise, method)
        if handler.unary_unary:
            inner = handler.unary_unary

            def unary_unary(request: Any, context: grpc.ServicerContext) -> Any:
                token = _principal.set(authorise(context))
                try:
                    return inner(request, context)
                finally:
                    _principal.reset(token)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            inner_su = handler.stream_unary

            def stream_unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
                token = _principal.set(authorise(context))
                try:
                    return inner_su(requests, context)
                finally:
                    _principal.reset(token)

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            inner_us = handler.unary_stream

            def unary_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                principal = authorise(context)
                token = _principal.set(principal)
                try:
                    yield from inner_us(request, context)
                finally:
                    _principal.reset(token)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer)
        return None


def _audited(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn Refused into the right status and write the outcome to the audit log."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def handler(self: MatchingServicer, request: Any, context: grpc.ServicerContext) -> Any:
            principal = _principal.get()
            detail: list[str] = []
            try:
                result = fn(self, request, context, principal, detail)
            except Refused as refused:
                self.store.audit(principal.role.value, action, refused.code.name,
                                 principal.project_id, principal.party, "; ".join(detail))
                context.abort(refused.code, refused.message)
            except grpc.RpcError:
                # The client went away mid-call (e.g. an interrupted upload).
                self.store.audit(principal.role.value, action, "CANCELLED",
                                 principal.project_id, principal.party, "; ".join(detail))
                raise
            self.store.audit(principal.role.value, action, "OK",
                             detail_project(principal, detail), principal.party,
                             "; ".join(d for d in detail if not d.startswith("project=")))
            return result

        return handler

    return wrap


def detail_project(principal: Principal, detail: list[str]) -> str | None:
    """The project an admin call concerned (admin tokens carry none)."""
    for item in detail:
        if item.startswith("project="):
            return item.split("=", 1)[1]
    return principal.project_id


class MatchingServicer(pb_grpc.MatchingServicer):
    """The Matching service's handlers (roles already checked)."""

    def __init__(self, store: Store, scheduler: RunScheduler, limits: UploadLimits) -> None:
        self.store = store
        self.scheduler = scheduler
        self.limits = limits

    def _project(self, principal: Principal) -> Any:
        project = self.store.get_project(principal.project_id or "")
        if project is None:
            raise Refused(grpc.StatusCode.NOT_FOUND, "the token's project no longer exists")
        return project

    @_audited("CreateProject")
    def CreateProject(self, request: pb.CreateProjectRequest, context: Any,
                      principal: Principal, detail: list[str]) -> pb.CreateProjectResponse:
        if not 1 <= len(request.name) <= 200 or any(ord(c) < 32 for c in request.name):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "project name must be 1-200 characters without control characters")
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", request.schema_fingerprint):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "schema fingerprint must be 'sha256:' and 64 hex digits")
        if len(request.schema_name) > 200:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "schema name is too long")
        parties = list(request.parties)
        if not 1 <= len(parties) <= 64 or len(set(parties)) != len(parties):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "a project needs 1-64 distinct parties")
        if not all(PARTY_RE.match(p) for p in parties):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "party names must be 1-64 characters from [A-Za-z0-9_.-]")
        if request.min_cell_count > 1_000_000:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "min cell count is too large")
        if request.entity_id_policy not in POLICY_NAMES:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "unknown entity id policy")
        party_tokens = {p: new_token() for p in parties}
        analyst_token = new_token()
        project_id = self.store.create_project(
            request.name, request.schema_name, request.schema_fingerprint, parties,
            request.min_cell_count, POLICY_NAMES[request.entity_id_policy], party_tokens,
            analyst_token)
        detail += [f"project={project_id}", f"parties={len(parties)}"]
        return pb.CreateProjectResponse(project_id=project_id, party_tokens=party_tokens,
                                        analyst_token=analyst_token)

    @_audited("DeleteProject")
    def DeleteProject(self, request: pb.DeleteProjectRequest, context: Any,
                      principal: Principal, detail: list[str]) -> pb.DeleteProjectResponse:
        if not re.fullmatch(r"p_[0-9a-f]{16}", request.project_id):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "malformed project id")
        detail.append(f"project={request.project_id}")
        if not self.store.delete_project(request.project_id):
            raise Refused(grpc.StatusCode.NOT_FOUND, "no such project")
        self.scheduler.wake()
        return pb.DeleteProjectResponse(deleted=True)

    @_audited("Upload")
    def Upload(self, requests: Iterator[pb.UploadChunk], context: Any,
               principal: Principal, detail: list[str]) -> pb.UploadResponse:
        first = next(requests, None)
        if first is None or first.WhichOneof("chunk") != "header":
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                          "the first message of an upload must be its header")
        header = first.header
        project = self._project(principal)
        check_header(header, principal.party or "", project, self.limits)
        existing = self.store.committed_upload(project.id, header.upload_id)
        if existing is not None:
            if existing.party != principal.party:
                raise Refused(grpc.StatusCode.ALREADY_EXISTS,
                              "this upload id is used by another party's upload")
            detail.append("duplicate upload id: nothing stored")
            return pb.UploadResponse(upload_id=header.upload_id, records=existing.record_count,
                                     duplicate=True,
                                     uploaded=self.store.uploaded_parties(project.id))
        if not header.replace and self.store.party_has_upload(project.id, principal.party or ""):
            raise Refused(grpc.StatusCode.ALREADY_EXISTS,
                          f"party {principal.party!r} has already uploaded an extract; "
                          "upload with --replace to replace it")
        upload_pk = self.store.begin_upload(project.id, principal.party or "", header.upload_id,
                                            extract_header_json(header), header.record_count)
        validator = BatchValidator(header, self.limits)
        try:
            for seq, chunk in enumerate(requests):
                if chunk.WhichOneof("chunk") != "batch":
                    raise Refused(grpc.StatusCode.INVALID_ARGUMENT,
                                  "only record batches may follow the upload header")
                records = validator.check(chunk.batch)
                self.store.add_chunk(upload_pk, project.id, seq, records,
                                     chunk.batch.SerializeToString())
            validator.finish()
            outcome = self.store.commit_upload(
                upload_pk, project.id, principal.party or "", header.key_check,
                header.bit_length, layout_json(header), header.replace)
        except BaseException:
            self.store.discard_upload(upload_pk)
            raise
        detail.append(f"records={validator.received}")
        if outcome.replaced:
            detail.append("replaced earlier extract")
        if outcome.run_queued:
            detail.append("run queued")
            self.scheduler.wake()
        log.info("project %s: party upload committed (%d records)", project.id,
                 validator.received)
        return pb.UploadResponse(upload_id=header.upload_id, records=validator.received,
                                 replaced=outcome.replaced, uploaded=outcome.uploaded,
                                 run_queued=outcome.run_queued)

    def _status(self, principal: Principal) -> pb.GetStatusResponse:
        project = self._project(principal)
        uploaded = self.store.uploaded_parties(project.id)
        run = self.store.current_run(project.id)
        if run is None:
            state, progress = "waiting", 0.0
        elif run.state in ("queued", "running"):
            state, progress = "running", float(run.progress)
        else:
            state, progress = run.state, (1.0 if run.state == "done" else float(run.progress))
        return pb.GetStatusResponse(
            project_id=project.id, name=project.name, state=state, uploaded=uploaded,
            parties=sorted(project.parties), progress=progress,
            error=(run.error or "") if run is not None and run.state == "failed" else "",
            run_id=run.id if run is not None else 0)

    @_audited("GetStatus")
    def GetStatus(self, request: pb.GetStatusRequest, context: Any, principal: Principal,
                  detail: list[str]) -> pb.GetStatusResponse:
        return self._status(principal)

    def _done_run(self, principal: Principal) -> Any:
        status = self._status(principal)
        if status.state != "done":
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                          f"linkage results are not ready (state: {status.state})")
        return status

    @_audited("GetCounts")
    def GetCounts(self, request: pb.GetCountsRequest, context: Any, principal: Principal,
                  detail: list[str]) -> pb.GetCountsResponse:
        status = self._done_run(principal)
        # Stored already protected (the run applies the project's
        # min_cell_count), so the unprotected document never exists at rest.
        blob = self.store.result(status.run_id, "counts")
        if blob is None:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "linkage results are not ready")
        detail.append(f"run={status.run_id}")
        return pb.GetCountsResponse(counts_json=blob.decode("utf-8"), run_id=status.run_id)

    def GetClusters(self, request: pb.GetClustersRequest,
                    context: grpc.ServicerContext) -> Iterator[pb.ClusterBatch]:
        # Streaming responses cannot use _audited's single return value.
        principal = _principal.get()
        party = principal.party or ""
        try:
            status = self._done_run(principal)
            blob = self.store.result(status.run_id, f"clusters:{party}")
        except Refused as refused:
            self.store.audit(principal.role.value, "GetClusters", refused.code.name,
                             principal.project_id, party)
            context.abort(refused.code, refused.message)
        self.store.audit(principal.role.value, "GetClusters", "OK", principal.project_id, party,
                         f"run={status.run_id}")
        batch = pb.ClusterBatch(party=party)
        for record_id, entity_id in results_mod.parse_cluster_blob(blob or b""):
            batch.record_ids.append(record_id)
            batch.entity_ids.append(entity_id)
            if len(batch.record_ids) >= CLUSTER_BATCH:
                yield batch
                batch = pb.ClusterBatch(party=party)
        if batch.record_ids:
            yield batch


def ensure_admin_token(store: Store, config: ServerConfig) -> None:
    """Install the admin token from ``--admin-token-file`` or mint one.

    A minted token goes to ``data_dir/admin.token`` (mode 0600) only; it is
    never logged.
    """
    if config.admin_token_file is not None:
        store.set_admin_token(read_token_file(config.admin_token_file))
        return
    if store.has_admin_token():
        return
    token = new_token()
    path = config.data_dir / "admin.token"
    with atomic_output(path, "w", file_mode=0o600) as handle:
        handle.write(token + "\n")
    store.set_admin_token(token)
    log.info("wrote a new admin token to %s", path)


def open_store(config: ServerConfig) -> tuple[Store, WorkerConfig]:
    """Open the database and the key; recover from an unclean stop."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    url = config.database or default_url(config.data_dir)
    key_file = config.key_file or config.data_dir / "server.key"
    store = Store(url, None)
    try:
        has_data = store.has_key_probe()
    except Exception as exc:
        store.close()
        raise ServiceError(f"cannot open the database ({type(exc).__name__})") from None
    store.keys = load_or_create_key(Path(key_file), create=not has_data)
    store.init_schema()
    purged, requeued = store.recover()
    if purged or requeued:
        log.info("recovered: %d partial uploads purged, %d runs requeued", purged, requeued)
    ensure_admin_token(store, config)
    return store, WorkerConfig(database_url=url, key_file=str(key_file))


def _credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    if config.tls_cert is None and config.tls_key is None:
        if config.tls_client_ca is not None:
            raise ServiceError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if config.tls_cert is None or config.tls_key is None:
        raise ServiceError("TLS needs both --tls-cert and --tls-key")
    try:
        cert = config.tls_cert.read_bytes()
        key = config.tls_key.read_bytes()
        ca = config.tls_client_ca.read_bytes() if config.tls_client_ca else None
    except OSError as exc:
        raise ServiceError(f"{exc.filename}: cannot read TLS file") from None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                       require_client_auth=ca is not None)


def build_server(config: ServerConfig, store: Store,
                 scheduler: RunScheduler) -> tuple[grpc.Server, health.HealthServicer, int]:
    """Create the gRPC server with every service; bind it; return it and the port."""
    credentials = _credentials(config)
    if credentials is None and not _is_loopback(config.listen) and not config.allow_insecure:
        raise ServiceError(
            "refusing to listen on a non-loopback address without TLS (tokens would cross "
            "the network in clear); give --tls-cert/--tls-key, or --allow-insecure")
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.max_metadata_size", 16 * 1024),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.workers,
                                                    thread_name_prefix="grpc"),
                         interceptors=[AuthInterceptor(store)], options=options,
                         maximum_concurrent_rpcs=config.workers * 4)
    pb_grpc.add_MatchingServicer_to_server(
        MatchingServicer(store, scheduler, config.limits), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        if credentials is None:
            port = server.add_insecure_port(config.listen)
        else:
            port = server.add_secure_port(config.listen, credentials)
    except RuntimeError:
        port = 0
    if not port:
        raise ServiceError(f"cannot listen on {config.listen} (address in use or invalid)")
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, health_servicer, port


def serve(config: ServerConfig) -> int:
    """Run the server until SIGTERM or SIGINT; stop gracefully."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store, worker_config = open_store(config)
    scheduler = RunScheduler(store, worker_config)
    server, health_servicer, port = build_server(config, store, scheduler)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    scheduler.start()
    scheduler.wake()  # runs requeued by recovery
    host = config.listen.rsplit(":", 1)[0]
    log.info("tiplink serving on %s:%d (%s), pid %d", host, port,
             "TLS" if config.tls_cert else "plaintext", os.getpid())
    stop.wait()
    log.info("shutting down: finishing in-flight calls (grace %.0fs)", config.grace)
    health_servicer.enter_graceful_shutdown()
    done = server.stop(config.grace)
    scheduler.stop()
    done.wait(config.grace + 5)
    store.close()
    log.info("stopped")
    return 0
