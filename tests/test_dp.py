"""Differentially private table release."""

from __future__ import annotations

import numpy as np
import pytest

from tiplink.linkage.dp import dp_release

F = frozenset
EXACT = {F("A"): 40, F("B"): 30, F("AB"): 12, F("C"): 25, F("AC"): 3}


def test_seeded_release_is_reproducible_and_consistent() -> None:
    a = dp_release("ABC", EXACT, 1.0, seed=4)
    b = dp_release("ABC", EXACT, 1.0, seed=4)
    assert a == b and a.mechanism == "numpy-seeded"
    assert len(a.cells) == 8 and a.cells[0] == 0
    assert all(v >= 0 for v in a.cells)
    # Every cell is released, including the empty ones.
    assert dp_release("ABC", EXACT, 1.0, seed=5).cells != a.cells


def test_noise_scale_matches_epsilon() -> None:
    # Discrete Laplace with scale 1/eps: E|noise| = 2 e^-eps / (1 - e^-2eps).
    eps = 0.5
    big = {F("A"): 1000, F("B"): 1000, F("AB"): 1000}
    errs = [abs(dp_release("AB", big, eps, seed=s).cells[3] - 1000) for s in range(2000)]
    expected = 2 * np.exp(-eps) / (1 - np.exp(-2 * eps))
    assert np.mean(errs) == pytest.approx(expected, rel=0.1)


def test_opendp_release() -> None:
    noisy = dp_release("ABC", EXACT, 2.0)
    assert noisy.mechanism == "opendp"
    assert len(noisy.cells) == 8 and all(v >= 0 for v in noisy.cells)


def test_bad_epsilon() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        dp_release("AB", EXACT, 0.0)
