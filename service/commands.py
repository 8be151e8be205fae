"""Service subcommands: serve, project create/delete, upload, status, results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tiplink.errors import TiplinkError


def _connection(args: argparse.Namespace) -> Any:
    from tiplink.service.client import Connection

    return Connection(server=args.server, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                      tls_key=args.tls_key)


def _client_options(parser: argparse.ArgumentParser, token_flag: str) -> None:
    parser.add_argument("--server", required=True, metavar="HOST:PORT",
                        help="address of the matching service")
    parser.add_argument(token_flag, required=True, type=Path, metavar="F",
                        help="file holding the token (never pass a token on the command line)")
    parser.add_argument("--tls-ca", type=Path, metavar="F",
                        help="CA certificate (PEM) to verify the server; enables TLS")
    parser.add_argument("--tls-cert", type=Path, metavar="F",
                        help="client certificate (PEM) for mutual TLS")
    parser.add_argument("--tls-key", type=Path, metavar="F",
                        help="client private key (PEM) for mutual TLS")


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


def _serve(args: argparse.Namespace) -> int:
    from tiplink.service.server import ServerConfig, serve
    from tiplink.service.uploads import UploadLimits

    if args.grace < 0 or args.max_message_mib < 1 or args.max_records < 1:
        raise TiplinkError("--grace, --max-message-mib and --max-records must be positive")
    config = ServerConfig(
        data_dir=args.data_dir, listen=args.listen, tls_cert=args.tls_cert,
        tls_key=args.tls_key, tls_client_ca=args.tls_client_ca, database=args.database,
        admin_token_file=args.admin_token_file, key_file=args.key_file,
        limits=UploadLimits(max_records=args.max_records,
                            max_batch_records=args.max_batch_records),
        max_message_bytes=args.max_message_mib * 1024 * 1024, grace=args.grace,
        workers=args.workers, allow_insecure=args.allow_insecure)
    return serve(config)


def _project_create(args: argparse.Namespace) -> int:
    from tiplink.service import client
    from tiplink.service.linkage_adapter import schema_fingerprint
    from tiplink.service.tokens import read_token_file

    if args.min_cell_count < 0:
        raise TiplinkError("--min-cell-count must be 0 or more")
    parties = [p.strip() for p in args.parties.split(",") if p.strip()]
    if not parties:
        raise TiplinkError("--parties needs at least one party name")
    schema_name, fingerprint = schema_fingerprint(args.schema)
    token = read_token_file(args.admin_token_file)
    _print(client.create_project(_connection(args), token, args.name, schema_name,
                                 fingerprint, parties, args.min_cell_count, args.entity_ids))
    return 0


def _project_delete(args: argparse.Namespace) -> int:
    from tiplink.service import client
    from tiplink.service.tokens import read_token_file

    token = read_token_file(args.admin_token_file)
    _print(client.delete_project(_connection(args), token, args.project_id))
    return 0


def _upload(args: argparse.Namespace) -> int:
    from tiplink.service import client
    from tiplink.service.tokens import read_token_file

    token = read_token_file(args.token_file)
    _print(client.upload(_connection(args), token, args.extract, replace=args.replace,
                         upload_id=args.upload_id, chunk_records=args.chunk_records))
    return 0


def _status(args: argparse.Namespace) -> int:
    from tiplink.service import client
    from tiplink.service.tokens import read_token_file

    _print(client.status(_connection(args), read_token_file(args.token_file)))
    return 0


def _results(args: argparse.Namespace) -> int:
    from tiplink.service import client
    from tiplink.service.tokens import read_token_file

    if args.counts is None and args.clusters is None:
        raise TiplinkError("results needs --counts and/or --clusters")
    token = read_token_file(args.token_file)
    conn = _connection(args)
    summary: dict[str, Any] = {}
    if args.counts is not None:
        document = client.write_counts(conn, token, args.counts)
        summary["counts"] = str(args.counts)
        summary["unique_entities"] = document.get("unique_entities")
    if args.clusters is not None:
        summary["clusters"] = str(args.clusters)
        summary["records"] = client.write_clusters(conn, token, args.clusters)
    _print(summary)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the service subcommands to the ``tiplink`` parser."""
    p = subparsers.add_parser("serve", help="run the matching service (gRPC)")
    p.add_argument("--data-dir", required=True, type=Path, metavar="DIR",
                   help="directory for the database, server key and admin token")
    p.add_argument("--listen", default="127.0.0.1:50051", metavar="HOST:PORT")
    p.add_argument("--tls-cert", type=Path, metavar="F", help="server certificate (PEM)")
    p.add_argument("--tls-key", type=Path, metavar="F", help="server private key (PEM)")
    p.add_argument("--tls-client-ca", type=Path, metavar="F",
                   help="require client certificates signed by this CA (mutual TLS)")
    p.add_argument("--database", metavar="URL",
                   help="database URL (default: SQLite file DIR/tiplink.db); "
                        "postgresql://user:pass@host/db for PostgreSQL")
    p.add_argument("--admin-token-file", type=Path, metavar="F",
                   help="use the admin token in this file (default: generate DIR/admin.token)")
    p.add_argument("--key-file", type=Path, metavar="F",
                   help="server key for encryption at rest (default: DIR/server.key); "
                        "keep it out of database backups")
    p.add_argument("--max-records", type=int, default=10_000_000,
                   help="largest upload in records (default 10,000,000)")
    p.add_argument("--max-batch-records", type=int, default=100_000,
                   help="largest upload batch in records (default 100,000)")
    p.add_argument("--max-message-mib", type=int, default=16,
                   help="largest gRPC message in MiB (default 16)")
    p.add_argument("--grace", type=float, default=20.0,
                   help="seconds in-flight calls get on SIGTERM (default 20)")
    p.add_argument("--workers", type=int, default=32, help="gRPC handler threads")
    p.add_argument("--allow-insecure", action="store_true",
                   help="allow a non-loopback --listen address without TLS")
    p.set_defaults(handler=_serve)

    project = subparsers.add_parser("project", help="create or delete a project (admin)")
    project_sub = project.add_subparsers(dest="project_command", metavar="ACTION")
    project_sub.required = True
    p = project_sub.add_parser("create", help="create a project; prints its tokens as JSON")
    _client_options(p, "--admin-token-file")
    p.add_argument("--name", required=True)
    p.add_argument("--schema", required=True,
                   help="bundled schema name (victim, case) or a JSON schema path")
    p.add_argument("--parties", required=True, help="comma-separated party names")
    p.add_argument("--min-cell-count", type=int, default=5,
                   help="suppress capture-history cells below this count (0: off; default 5)")
    p.add_argument("--entity-ids", choices=("per-party", "shared"), default="per-party",
                   help="per-party (default): parties' entity ids cannot be joined; "
                        "shared: the same id for the same entity across parties")
    p.set_defaults(handler=_project_create)
    p = project_sub.add_parser("delete", help="delete a project and purge its data")
    _client_options(p, "--admin-token-file")
    p.add_argument("--project-id", required=True)
    p.set_defaults(handler=_project_delete)

    p = subparsers.add_parser("upload", help="upload an extract to the matching service")
    _client_options(p, "--token-file")
    p.add_argument("extract", type=Path, metavar="EXTRACT")
    p.add_argument("--replace", action="store_true",
                   help="replace this party's earlier extract")
    p.add_argument("--upload-id", help="idempotency key (default: derived from the content)")
    p.add_argument("--chunk-records", type=int, help="records per message (default: ~2 MiB)")
    p.set_defaults(handler=_upload)

    p = subparsers.add_parser("status", help="show a project's state as JSON")
    _client_options(p, "--token-file")
    p.set_defaults(handler=_status)

    p = subparsers.add_parser("results", help="download counts (analyst) or own clusters")
    _client_options(p, "--token-file")
    p.add_argument("--counts", type=Path, metavar="COUNTS.json")
    p.add_argument("--clusters", type=Path, metavar="OWN_RECORDS.csv")
    p.set_defaults(handler=_results)
