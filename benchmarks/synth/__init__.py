"""Synthetic multi-agency anti-trafficking registers with known truth.

Import with ``benchmarks/`` on ``sys.path`` (pytest does this through
``pythonpath`` in pyproject.toml; scripts in ``benchmarks/`` have it already)::

    from synth import make_config, generate, write_dataset

    dataset = generate(make_config(population=5000), seed=7)
    write_dataset(dataset, "out/")

Command line (from ``benchmarks/``): ``python -m synth --out DIR --seed 7``;
or from anywhere: ``python benchmarks/synth/cli.py --out DIR``.
See ``docs/synthetic-data.md`` for the model and the noise rates.
"""

from synth.config import AgencyConfig, CaseConfig, Referral, WorldConfig, make_config
from synth.generator import (
    CASE_COLUMNS,
    VICTIM_COLUMNS,
    Dataset,
    GeneratorConfig,
    VictimFrames,
    generate,
    generate_victims,
    population_for_records,
)
from synth.noise import PRESETS, NoiseConfig, preset
from synth.output import write_dataset
from synth.tables import Table

__all__ = [
    "CASE_COLUMNS",
    "PRESETS",
    "VICTIM_COLUMNS",
    "AgencyConfig",
    "CaseConfig",
    "Dataset",
    "GeneratorConfig",
    "NoiseConfig",
    "Referral",
    "Table",
    "VictimFrames",
    "WorldConfig",
    "generate",
    "generate_victims",
    "make_config",
    "population_for_records",
    "preset",
    "write_dataset",
]
