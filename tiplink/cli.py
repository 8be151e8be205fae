"""The ``tiplink`` console command.

Each stage registers its own subcommands (see ``COMMAND_MODULES``); this
module only builds the parser and turns failures into one-line messages.
Heavy libraries are imported inside the command handlers, so ``--help`` and
simple commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tiplink import __version__
from tiplink.errors import TiplinkError

# Each module exposes ``register(subparsers)`` and sets ``handler`` defaults.
COMMAND_MODULES: tuple[str, ...] = (
    "tiplink.encoders.commands",
    "tiplink.linkage.commands",
    "tiplink.service.commands",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="tiplink",
        description="Privacy-preserving record linkage for anti-trafficking registers.",
    )
    parser.add_argument("--version", action="version", version=f"tiplink {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except TiplinkError as exc:
        print(f"tiplink: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tiplink: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:
        # Unexpected failures must not print a traceback or the exception text:
        # library messages can quote input values, which may be identifiers.
        if os.environ.get("TIPLINK_DEBUG") == "1":
            raise
        print(
            f"tiplink: internal error ({type(exc).__name__}); "
            "rerun with TIPLINK_DEBUG=1 to see details",
            file=sys.stderr,
        )
        return 70
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
