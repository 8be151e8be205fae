"""Agency-side commands: ``tiplink keygen`` and ``tiplink encode``."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from tiplink.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``keygen`` and ``encode`` to the command line."""
    keygen = subparsers.add_parser(
        "keygen", help="create a new shared secret file (256 random bits)",
        description="Create a new shared secret for the agencies of one linkage project. "
                    "Share it out of band; never put it on a command line.")
    keygen.add_argument("--output", required=True, metavar="SECRET_FILE",
                        help="file to write (created with mode 0600)")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing file")
    keygen.set_defaults(handler=run_keygen)

    encode = subparsers.add_parser(
        "encode", help="encode a register into an extract (or clkhash JSON)",
        description="Encode identifiers locally into keyed Bloom-filter encodings. "
                    "Nothing identifying leaves the agency: the output holds only "
                    "encodings and record ids.")
    encode.add_argument("input", metavar="INPUT", help="CSV (UTF-8, header row), Parquet or .xlsx")
    encode.add_argument("--schema", required=True,
                        help="bundled schema name (victim, case) or a linkage schema JSON file")
    encode.add_argument("--secret-file", required=True, metavar="SECRET_FILE",
                        help="file holding the shared secret")
    encode.add_argument("--party", required=True, metavar="NAME", help="this agency's name")
    encode.add_argument("--output", required=True, metavar="OUT", help="output file")
    encode.add_argument("--id-column", default=None, metavar="COLUMN",
                        help="column with record ids (default: record_id where present, "
                             "else the 0-based row number); must hold no personal data")
    encode.add_argument("--format", dest="output_format", default="extract",
                        choices=("extract", "clkhash-json"), help="output format")
    encode.add_argument("--workers", type=int, default=None,
                        help="processes to encode with (default: all cores for large inputs)")
    encode.add_argument("--progress", dest="progress", action="store_true", default=None,
                        help="always show a progress bar")
    encode.add_argument("--no-progress", dest="progress", action="store_false",
                        help="never show a progress bar")
    encode.set_defaults(handler=run_encode)


def run_keygen(args: argparse.Namespace) -> int:
    from tiplink.atomic import atomic_output

    path = Path(args.output)
    if path.exists() and not args.force:
        raise InputError("file exists; use --force to replace it (existing encodings will "
                         "no longer link with new ones)", path)
    secret = secrets.token_urlsafe(32)
    with atomic_output(path, "w", file_mode=0o600) as handle:
        handle.write(secret + "\n")
    print(f"wrote a new 256-bit secret to {path} (mode 0600); share it with the other "
          "agencies out of band", file=sys.stderr)
    return 0


def run_encode(args: argparse.Namespace) -> int:
    from tiplink.encoders.pipeline import encode_file, read_secret_file
    from tiplink.encoders.schema import load_schema

    party = args.party.strip()
    if not party or any(c in party for c in ",/\\\n\t") or len(party) > 64:
        raise InputError("--party must be a short name without commas, slashes or tabs")
    schema = load_schema(args.schema)
    for warning in schema.warnings:
        print(f"tiplink: warning: {warning}", file=sys.stderr)
    secret = read_secret_file(args.secret_file)
    summary = encode_file(args.input, schema, secret, party, args.output,
                          id_column=args.id_column, output_format=args.output_format,
                          workers=args.workers, progress=args.progress)
    print(json.dumps({"records": summary.records, "output": str(summary.output),
                      "format": summary.format, "party": party,
                      "schema_fingerprint": summary.schema_fingerprint}), file=sys.stderr)
    return 0
