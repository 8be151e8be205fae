"""Command-line subcommands of the linkage stage: ``link``, ``estimate``, ``report``.

Each subcommand registers itself through its own ``register_*`` function,
and :func:`register` calls them all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tiplink.errors import InputError, TiplinkError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the linkage stage's subcommands to the ``tiplink`` parser."""
    register_link(subparsers)
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
    if (maxorder is not None or ntop is not None) and method != "bic":
        raise InputError("--max-order and --top-models apply only to --method bic")
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


# --------------------------------------------------------------------------
# tiplink link
# --------------------------------------------------------------------------

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
    parser.add_argument("--match-cut", default=None, metavar="P",
                        help="match-probability cut of the engine's own decision model, in "
                             "(0, 1); lower links more (default: the count-matched cut, "
                             "where the clustering has as many entities as the match "
                             "probabilities predict people, kept in [0.03, 0.5])")
    parser.add_argument("--linkage-uncertainty", default=None, metavar="R",
                        help="also give an interval that includes linkage uncertainty: R "
                             "linkage replicates (each reclusters perturbed match "
                             "probabilities), each with --linkage-inner sampling resamples "
                             "(see docs/estimation.md)")
    parser.add_argument("--linkage-inner", default="20", metavar="B",
                        help="sampling resamples per linkage replicate (default 20)")
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
    from tiplink.linkage.counts import counts_document
    from tiplink.linkage.engine import link_extracts
    from tiplink.linkage.inputs import read_input
    from tiplink.linkage.strata import strata_of_result

    if args.min_cell_count < 0:
        raise InputError("--min-cell-count must be 0 or more")
    match_cut = None
    if args.match_cut is not None:
        match_cut = _float_option(args.match_cut, "--match-cut", 0.0, 1.0)
        if not 0.0 < match_cut < 1.0:
            raise InputError("--match-cut must be a number strictly between 0 and 1")
        if args.threshold is not None:
            raise InputError("give either --threshold (a Dice cut) or --match-cut, not both")
    replicates = _int_option(args.linkage_uncertainty, "--linkage-uncertainty", 2)
    inner = _int_option(args.linkage_inner, "--linkage-inner", 2)
    if replicates is not None and args.threshold is not None:
        raise InputError("--linkage-uncertainty needs the engine's own decision model; "
                         "it cannot be combined with --threshold")
    extracts, names = [], []
    for spec in args.extracts:
        extract, name = read_input(spec)
        extracts.append(extract)
        names.append(name)

    def progress(fraction: float) -> None:
        if not args.quiet and sys.stderr.isatty():
            print(f"\rlinking: {fraction:5.0%}", end="" if fraction < 1 else "\n",
                  file=sys.stderr, flush=True)

    result = link_extracts(extracts, threshold=args.threshold, progress=progress, names=names,
                           match_cut=match_cut)
    summary = None
    if replicates is not None and len(result.parties) >= 2 and result.pairs is not None:
        from tiplink.linkage.counts import COUNTS_SEED
        from tiplink.linkage.uncertainty import linkage_uncertainty

        summary = linkage_uncertainty(result.pairs, result.parties, replicates,
                                      inner or 20, seed=COUNTS_SEED).summary()
    document = counts_document(parties=result.parties, records_per_party=result.records,
                               entity_party_sets=result.party_sets,
                               min_cell_count=args.min_cell_count,
                               strata=strata_of_result(result),
                               linkage_uncertainty=summary)
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
