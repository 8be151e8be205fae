"""Subcommands of the linkage stage (``tiplink link`` and friends)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Register the linkage subcommands."""
    register_link(subparsers)


def register_link(subparsers: Any) -> None:
    """``tiplink link EXTRACT [EXTRACT ...] --clusters CSV --counts JSON [--threshold T]``."""
    parser = subparsers.add_parser(
        "link",
        help="link and deduplicate encoded extracts; write clusters and counts",
        description=(
            "Link encoded extracts (one per party) and deduplicate within each. "
            "Inputs are tiplink extracts or clkhash CLK JSON files given as PARTY=FILE.json "
            "(record ids are then 0-based row numbers). A single input is deduplicated."
        ),
    )
    parser.add_argument("extracts", nargs="+", metavar="EXTRACT",
                        help="extract file, or PARTY=CLKS.json")
    parser.add_argument("--clusters", required=True, metavar="CLUSTERS.csv",
                        help="output: party,record_id,entity_id for every input record")
    parser.add_argument("--counts", required=True, metavar="COUNTS.json",
                        help="output: unique entities, per-party counts, capture histories, "
                             "population estimate")
    parser.add_argument("--threshold", type=_threshold, default=None, metavar="T",
                        help="Dice threshold on the whole encoding (default: the engine "
                             "fits its own decision rule to the data)")
    parser.add_argument("--min-cell-count", type=int, default=0, metavar="K",
                        help="suppress capture-history cells below K (default 0: none)")
    parser.add_argument("--diagnostics", metavar="FILE",
                        help="also write the model and timing diagnostics as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(handler=run_link)


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number in (0, 1]") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError("must be a number in (0, 1]")
    return value


def run_link(args: argparse.Namespace) -> int:
    """Handler of ``tiplink link``."""
    import sys

    from tiplink.atomic import atomic_output
    from tiplink.errors import InputError
    from tiplink.linkage.engine import link_extracts
    from tiplink.linkage.inputs import read_input
    from tiplink.linkage.report import counts_for

    if args.min_cell_count < 0:
        raise InputError("--min-cell-count must be 0 or more")
    extracts, names = [], []
    for spec in args.extracts:
        extract, name = read_input(spec)
        extracts.append(extract)
        names.append(name)

    def progress(fraction: float) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\rlinking: {fraction:5.0%}", end="" if fraction < 1 else "\n",
                  file=sys.stderr, flush=True)

    result = link_extracts(extracts, threshold=args.threshold, progress=progress, names=names)
    document = counts_for(result, min_cell_count=args.min_cell_count)
    # Write both outputs only once everything has been computed, each atomically.
    with atomic_output(args.clusters, "w") as handle:
        result.clusters.to_csv(handle, index=False, lineterminator="\n")
    with atomic_output(args.counts, "w") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    if args.diagnostics:
        with atomic_output(args.diagnostics, "w") as handle:
            json.dump(result.diagnostics, handle, indent=2, default=float)
            handle.write("\n")
    return 0
