"""Command-line subcommands of the linkage stage.

Each subcommand registers itself through its own ``register_*`` function,
and :func:`register` calls them all, so stages added later (``link``) slot
in beside these without touching them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tiplink.errors import InputError, TiplinkError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the linkage stage's subcommands to the ``tiplink`` parser."""
    register_estimate(subparsers)
    register_report(subparsers)


# --------------------------------------------------------------------------
# tiplink estimate
# --------------------------------------------------------------------------


def register_estimate(subparsers: argparse._SubParsersAction) -> None:
    """``tiplink estimate COUNTS_OR_TABLE [--method ...]``."""
    parser = subparsers.add_parser(
        "estimate",
        help="estimate the population size (multiple systems estimation)",
        description=(
            "Estimate the total population, seen and unseen, from a COUNTS.json with exact "
            "counts or a capture-table CSV (one 0/1 column per list, last column the count). "
            "Model digits refer to the lists in file order (COUNTS.json: 'parties')."
        ),
    )
    parser.add_argument("table", metavar="COUNTS_OR_TABLE", help="COUNTS.json or capture CSV")
    # Values are validated by the handler, not argparse, so that a bad value
    # gives the project's one-line error rather than a usage dump.
    parser.add_argument("--method", default="stepwise", help="stepwise (default), bic or fixed")
    parser.add_argument("--model", help='model for --method fixed, e.g. "[12,23]"')
    parser.add_argument(
        "--bootstrap",
        default="1000",
        help="bootstrap replicates for the BCa 95%% interval; 0: none",
    )
    parser.add_argument("--seed", default="1234", help="bootstrap seed (default 1234)")
    parser.add_argument("--pthresh", default="0.02", help="stepwise p-value threshold (0.02)")
    parser.add_argument("--max-order", help="BIC: highest interaction order (default by lists)")
    parser.add_argument(
        "--top-models", help="BIC: models re-selected among in each bootstrap replicate"
    )
    parser.add_argument(
        "--workers", default=None, help="processes for the bootstrap (default: up to 2)"
    )
    parser.set_defaults(handler=run_estimate)


def _int_option(value: str | None, flag: str, minimum: int) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.lstrip("-").isdigit() or int(text) < minimum:
        raise InputError(f"{flag} must be a whole number of at least {minimum}")
    return int(text)


def _float_option(value: str, flag: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{flag} must be a number between {low} and {high}") from None
    if not low <= number <= high:
        raise InputError(f"{flag} must be a number between {low} and {high}")
    return number


def run_estimate(args: argparse.Namespace) -> int:
    """Handler of ``tiplink estimate``: prints the estimate as JSON."""
    from tiplink.linkage.counts import read_table
    from tiplink.linkage.estimate import METHODS, EstimationError, estimate, parse_model

    method = str(args.method).strip().lower()
    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}")
    bootstrap = _int_option(args.bootstrap, "--bootstrap", 0)
    seed = _int_option(args.seed, "--seed", 0)
    pthresh = _float_option(args.pthresh, "--pthresh", 0.0, 1.0)
    maxorder = _int_option(args.max_order, "--max-order", 1)
    ntop = _int_option(args.top_models, "--top-models", 1)
    workers = _int_option(args.workers, "--workers", 1)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if method == "fixed" and not args.model:
        raise InputError('--method fixed needs --model, e.g. --model "[12,23]"')
    if args.model and method != "fixed":
        raise InputError("--model applies only to --method fixed")
    table = read_table(args.table)
    model = None
    if args.model:
        try:
            model = parse_model(args.model, table.nlists)
        except ValueError as exc:
            raise InputError(f"--model: {exc}") from None
    try:
        result = estimate(
            table,
            method,
            model,
            pthresh=pthresh,
            bootstrap=bootstrap if bootstrap is not None else 1000,
            seed=seed,
            maxorder=maxorder,
            ntop=ntop,
            workers=workers,
        )
    except EstimationError as exc:
        raise TiplinkError(f"{args.table}: {exc.message}") from None
    json.dump(result.to_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0


# --------------------------------------------------------------------------
# tiplink report
# --------------------------------------------------------------------------


def register_report(subparsers: argparse._SubParsersAction) -> None:
    """``tiplink report COUNTS.json --output report.html``."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a COUNTS.json",
        description=(
            "Write one HTML file (no external resources) with the per-agency and unique "
            "counts, an UpSet-style chart of the overlaps, and the population estimate."
        ),
    )
    parser.add_argument("counts", metavar="COUNTS.json")
    parser.add_argument("--output", required=True, help="the HTML file to write")
    parser.add_argument("--title", default="Victims known to agencies", help="page title")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Handler of ``tiplink report``."""
    from tiplink.linkage.counts import read_counts_json
    from tiplink.linkage.report import write_report

    doc = read_counts_json(args.counts)
    write_report(doc, args.output, title=args.title)
    return 0
