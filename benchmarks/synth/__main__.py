"""``python -m synth`` (run from ``benchmarks/``)."""

from synth.cli import main

raise SystemExit(main())
