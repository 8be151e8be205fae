"""The engine's LSH path on the bundled example registers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import encode_registers
from tiplink.linkage import engine
from tiplink.linkage.inputs import read_extract

REPO = Path(__file__).resolve().parents[1]
PARTIES = ("police", "welfare", "ngo", "embassy")


@pytest.fixture(scope="module")
def example_extracts(tmp_path_factory: pytest.TempPathFactory) -> list:
    work = tmp_path_factory.mktemp("examples")
    for party in PARTIES:
        shutil.copy(REPO / "examples" / f"{party}.csv", work / f"{party}.csv")
    secret = work / "secret.txt"
    secret.write_text("engine test secret, not a real one\n", encoding="utf-8")
    return [read_extract(p) for p in encode_registers(work, PARTIES, secret)]


def test_lsh_path_keeps_identical_pairs_whether_cached_or_rescored(
        example_extracts: list, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = engine.link_extracts(example_extracts, exhaustive_max_pairs=0)
    assert cached.diagnostics["blocking"] == "lsh"
    monkeypatch.setattr(engine, "IDENTICAL_CACHE_PAIRS", 0)
    rescored = engine.link_extracts(example_extracts, exhaustive_max_pairs=0)
    assert np.array_equal(cached.clusters["entity_id"].to_numpy(),
                          rescored.clusters["entity_id"].to_numpy())
    assert np.array_equal(cached.pairs.prob, rescored.pairs.prob)


def test_lsh_path_counts_close_to_exhaustive(example_extracts: list) -> None:
    exhaustive = engine.link_extracts(example_extracts)
    lsh = engine.link_extracts(example_extracts, exhaustive_max_pairs=0)
    assert exhaustive.diagnostics["blocking"] == "exhaustive"
    records = sum(len(e.record_ids) for e in example_extracts)
    # Linking merges a large share of the records in both runs ...
    assert exhaustive.n_entities < 0.7 * records
    # ... and blocking loses few of the links that matter for the count.
    assert abs(lsh.n_entities - exhaustive.n_entities) <= 0.03 * exhaustive.n_entities
