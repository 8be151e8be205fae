"""Differentially private release of a capture-history table (optional).

An alternative to small-cell suppression when a formal guarantee is wanted:
every one of the ``2**m - 1`` cells (zeros included, since which cells are
empty is itself information) gets discrete Laplace noise of scale
``1/epsilon``. Adding or removing one person changes exactly one cell by 1,
so the L1 sensitivity of the cell vector is 1 and the release is
``epsilon``-differentially private for the whole table. Totals and any
population estimate are then computed from the noisy cells (post-processing,
which costs no privacy), so published numbers stay consistent.

Noise comes from OpenDP (secure sampling, no floating-point side channels).
For reproducible experiments only, ``seed`` switches to a numpy two-sided
geometric sampler (the same distribution, but ordinary pseudo-random numbers
are not suitable for a real release).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NoisyTable:
    """A differentially private capture table.

    Attributes:
        parties: the parties, sorted.
        cells: noisy counts indexed by bit mask (``cells[0] == 0``), clamped
            at zero.
        epsilon: the privacy-loss parameter spent.
        mechanism: ``opendp`` or ``numpy-seeded``.
    """

    parties: tuple[str, ...]
    cells: tuple[int, ...]
    epsilon: float
    mechanism: str

    def histories(self) -> dict[frozenset[str], int]:
        """Non-zero noisy cells by set of parties."""
        return {
            frozenset(p for i, p in enumerate(self.parties) if mask >> i & 1): v
            for mask, v in enumerate(self.cells)
            if mask and v > 0
        }


def _noise_opendp(values: list[int], epsilon: float) -> list[int]:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    meas = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=1.0 / epsilon
    )
    # The measurement's own privacy map must agree with the claim above.
    assert meas.map(1) <= epsilon * (1 + 1e-9)
    return [int(v) for v in meas(values)]


def _noise_numpy(values: list[int], epsilon: float, seed: int) -> list[int]:
    # Discrete Laplace = difference of two geometric variables with
    # success probability 1 - exp(-epsilon).
    rng = np.random.default_rng(seed)
    p = 1.0 - math.exp(-epsilon)
    noise = rng.geometric(p, size=len(values)) - rng.geometric(p, size=len(values))
    return [int(v + n) for v, n in zip(values, noise, strict=True)]


def dp_release(
    parties: Sequence[str],
    histories: Mapping[frozenset[str], int],
    epsilon: float,
    seed: int | None = None,
) -> NoisyTable:
    """Release all capture-history cells with ``epsilon``-DP discrete Laplace noise.

    Args:
        parties: the parties of the project.
        histories: exact counts by set of parties.
        epsilon: privacy-loss parameter (> 0); noise scale is ``1/epsilon``.
        seed: for experiments only: use a seeded numpy sampler instead of OpenDP.

    Raises:
        ValueError: if ``epsilon`` is not positive.
    """
    if not epsilon > 0 or not math.isfinite(epsilon):
        raise ValueError("epsilon must be a positive number")
    names = tuple(sorted(parties))
    index = {p: i for i, p in enumerate(names)}
    exact = [0] * (1 << len(names))
    for key, count in histories.items():
        if key:
            exact[sum(1 << index[p] for p in key)] += int(count)
    values = exact[1:]
    if seed is None:
        noisy, mechanism = _noise_opendp(values, epsilon), "opendp"
    else:
        noisy, mechanism = _noise_numpy(values, epsilon, seed), "numpy-seeded"
    cells = (0, *(max(0, v) for v in noisy))
    return NoisyTable(names, cells, float(epsilon), mechanism)
