"""Linkage uncertainty: the match-probability cut, perturbed reclustering, the nested bootstrap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth import generate, make_config, write_dataset

from tests.conftest import assert_one_line_error, encode_registers, run_tiplink
from tiplink.encoders.extract import read_extract
from tiplink.linkage.clustering import cluster
from tiplink.linkage.counts import counts_document, validate_counts
from tiplink.linkage.engine import LinkageResult, ScoredPairs, link_extracts
from tiplink.linkage.estimate import EstimationError
from tiplink.linkage.report import render_report
from tiplink.linkage.uncertainty import (
    linkage_uncertainty,
    perturbed_probabilities,
    replicate_table,
)

PARTIES = ("police", "welfare", "ngo", "embassy")


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four small encoded registers from the generator (known truth)."""
    root = tmp_path_factory.mktemp("registers")
    write_dataset(generate(make_config(PARTIES, population=900, cases=False), seed=5), root)
    secret = root / "secret.txt"
    secret.write_text("linkage uncertainty test secret\n")
    return encode_registers(root, PARTIES, secret)


@pytest.fixture(scope="module")
def linked(registers: list[Path]) -> LinkageResult:
    return link_extracts([read_extract(p) for p in registers])


def test_one_pair_links_as_often_as_its_odds_against_the_cut() -> None:
    """A lone pair links with probability sigmoid(logit p - logit cut): one half at the cut."""
    rng = np.random.default_rng(0)
    for p in (0.1, 0.3, 0.8):
        for cut in (0.1, 0.25, 0.5):
            share = 1.0 / (1.0 + (1 - p) / p * cut / (1 - cut))
            draws, at = perturbed_probabilities(np.full(40_000, p), rng, cut=cut)
            assert at == cut
            assert abs(float(np.mean(draws > cut)) - share) < 0.01
            bern, at = perturbed_probabilities(np.full(40_000, p), rng, "bernoulli", cut=cut)
            assert at == 0.5
            assert set(np.unique(bern)) <= {0.0, 0.99}
            assert abs(float(np.mean(bern > at)) - share) < 0.01
    with pytest.raises(ValueError):
        perturbed_probabilities(np.full(3, 0.5), rng, "other")


def _pairs(prob: float, n: int = 60) -> ScoredPairs:
    """Records 2k and 2k+1 form a pair with the given probability; parties alternate."""
    left = np.arange(0, n, 2)
    return ScoredPairs(
        left=left,
        right=left + 1,
        prob=np.full(len(left), prob),
        n_records=n,
        group=np.arange(n) % 3,
        cut=0.5,
    )


def test_certain_links_give_no_linkage_variance() -> None:
    pairs = _pairs(1.0)
    rng = np.random.default_rng(1)
    table, entities = replicate_table(pairs, ["a", "b", "c"], rng)
    assert entities == 30 and table.observed == 30
    summary = linkage_uncertainty(pairs, ["a", "b", "c"], 4, 30, seed=3).summary()
    assert summary["linkage_sd"] == 0.0
    assert summary["sampling_sd"] > 0
    assert summary["total_sd"] == summary["sampling_sd"]
    assert summary["unique_entities_mean"] == 30


def test_uncertain_links_vary_between_replicates_and_seed_fixes_them() -> None:
    pairs = _pairs(0.5)
    one = linkage_uncertainty(pairs, ["a", "b", "c"], 12, 5, seed=7)
    again = linkage_uncertainty(pairs, ["a", "b", "c"], 12, 5, seed=7)
    assert one.summary() == again.summary()
    assert np.ptp(one.unique_entities) > 0
    # About half of the 30 pairs merge: 45 entities on average out of 30-60.
    assert 37 <= one.unique_entities.mean() <= 53


def test_refuses_too_few_replicates_or_parties() -> None:
    with pytest.raises(EstimationError):
        linkage_uncertainty(_pairs(0.5), ["a", "b", "c"], 1, 5)
    with pytest.raises(EstimationError):
        linkage_uncertainty(_pairs(0.5), ["a"], 5, 5)


def test_default_cut_is_unchanged_and_scored_pairs_reproduce_the_clusters(
    registers: list[Path], linked: LinkageResult
) -> None:
    pairs = linked.pairs
    assert pairs is not None and 0.03 <= pairs.cut <= 0.5  # the count-unbiased default
    assert pairs.rival_strength > 0
    again = cluster(pairs.n_records, pairs.left, pairs.right, pairs.link_prob(),
                    threshold=pairs.cut)
    assert np.array_equal(again.labels, linked.clusters["entity_id"].to_numpy())
    explicit = link_extracts([read_extract(p) for p in registers], match_cut=pairs.cut)
    assert explicit.clusters.equals(linked.clusters)


def test_lower_cut_links_more(registers: list[Path], linked: LinkageResult) -> None:
    extracts = [read_extract(p) for p in registers]
    low = link_extracts(extracts, match_cut=0.1).n_entities
    high = link_extracts(extracts, match_cut=0.9).n_entities
    assert low < linked.n_entities < high


def test_nested_bootstrap_on_linked_registers(linked: LinkageResult) -> None:
    assert linked.pairs is not None
    result = linkage_uncertainty(linked.pairs, linked.parties, 8, 10, seed=2)
    summary = result.summary()
    assert summary["replicates_used"] == 8 and summary["draws_used"] >= 70
    lo, hi = summary["ci95"]
    assert lo < summary["linkage_mean"] < hi
    assert summary["linkage_sd"] > 0 and summary["sampling_sd"] > 0
    assert summary["total_sd"] == pytest.approx(
        (summary["linkage_sd"] ** 2 + summary["sampling_sd"] ** 2) ** 0.5, abs=0.02
    )
    # Published with the estimate; rounded like it when cells are suppressed.
    exact = counts_document(
        linked.parties,
        linked.records,
        linked.party_sets,
        0,
        {"bootstrap": 0},
        linkage_uncertainty=summary,
    )
    assert exact["estimate"]["linkage_uncertainty"]["ci95"] == summary["ci95"]
    protected = counts_document(
        linked.parties,
        linked.records,
        linked.party_sets,
        50,
        {"bootstrap": 0},
        linkage_uncertainty=summary,
    )
    lu = protected["estimate"]["linkage_uncertainty"]
    assert protected["estimate"]["rounded_to_significant_digits"] == 3
    assert all(len(f"{v:.0f}".rstrip("0")) <= 3 for v in lu["ci95"])
    validate_counts(json.loads(json.dumps(protected)))
    page = render_report(exact)
    assert "95% interval including linkage uncertainty" in page


@pytest.mark.slow
def test_link_command_writes_the_combined_interval(tmp_path: Path, registers: list[Path]) -> None:
    counts = tmp_path / "counts.json"
    result = run_tiplink(
        [
            "link",
            *registers,
            "--clusters",
            tmp_path / "c.csv",
            "--counts",
            counts,
            "--linkage-uncertainty",
            "5",
            "--linkage-inner",
            "5",
            "--match-cut",
            "0.4",
            "--quiet",
        ]
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(counts.read_text())
    lu = doc["estimate"]["linkage_uncertainty"]
    assert lu["replicates"] == 5 and lu["inner"] == 5 and lu["cut"] == 0.4
    assert lu["ci95"][0] < lu["ci95"][1]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--linkage-uncertainty", "1"], "--linkage-uncertainty"),
        (["--linkage-uncertainty", "5", "--threshold", "0.8"], "--threshold"),
        (["--match-cut", "1.5"], "--match-cut"),
        (["--match-cut", "0.3", "--threshold", "0.8"], "--match-cut"),
    ],
)
def test_bad_options_fail_in_one_line_and_write_nothing(
    tmp_path: Path, registers: list[Path], extra: list[str], fragment: str
) -> None:
    clusters, counts = tmp_path / "c.csv", tmp_path / "counts.json"
    result = run_tiplink(
        ["link", *registers[:2], "--clusters", clusters, "--counts", counts, *extra]
    )
    assert_one_line_error(result, fragment)
    assert not clusters.exists() and not counts.exists()
