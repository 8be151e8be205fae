"""Strata through the service: uploads keep the clear strata columns, and the
analyst's COUNTS.json has per-stratum counts protected jointly, as offline."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tiplink.linkage.protect import audit_stratified_document

from .helpers import ServerProcess, create_project, make_extracts, run_cli, wait_state


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("strata") / "data").start()
    yield proc
    proc.stop()


def _link(paths: list[Path], out: Path, k: int) -> dict:
    run_cli(
        "link",
        *map(str, paths),
        "--clusters",
        str(out.with_suffix(".csv")),
        "--counts",
        str(out),
        "--min-cell-count",
        str(k),
        check=True,
    )
    return json.loads(out.read_text())


@pytest.mark.slow
def test_results_carry_protected_strata_equal_to_offline(
    server: ServerProcess, tmp_path: Path
) -> None:
    parties = ["ngo", "police", "welfare"]
    extracts = make_extracts(tmp_path, parties, 200, seed=17, overlap=0.3, strata=True)
    _created, tokens = create_project(server, tmp_path, parties, "--min-cell-count", "5")
    for party in parties:
        server.cli("upload", "--token-file", str(tokens[party]), str(extracts[party]), check=True)
    assert wait_state(server, tokens["analyst"], ["done", "failed"])["state"] == "done"
    counts_path = tmp_path / "COUNTS.json"
    server.cli(
        "results", "--token-file", str(tokens["analyst"]), "--counts", str(counts_path), check=True
    )
    service = json.loads(counts_path.read_text())

    paths = [extracts[p] for p in parties]
    offline = _link(paths, tmp_path / "offline.json", 5)
    assert service["strata"] == offline["strata"]
    assert service["capture_histories"] == offline["capture_histories"]
    # Audit the service's release against the exact (unprotected) counts.
    exact = _link(paths, tmp_path / "exact.json", 0)
    assert {"F", "M"} <= set(exact["strata"]["sex"])  # the uploads' stratum.sex arrived
    pooled = (service.get("strata_pooled") or {}).get("sex")
    relabel = dict.fromkeys(pooled["values"], pooled["label"]) if pooled else {}
    assert set(service["strata"]["sex"]) == {relabel.get(v, v) for v in exact["strata"]["sex"]}
    joint: Counter = Counter()
    combo_records: dict = {}
    for value, block in exact["strata"]["sex"].items():
        label = relabel.get(value, value)
        for cell in block["capture_histories"]:
            joint[((label,), frozenset(cell["parties"]))] += cell["count"]
        combo_records.setdefault((label,), Counter()).update(block["records"])
    verdicts = audit_stratified_document(parties, ["sex"], joint, combo_records, service, 5)
    assert verdicts and all(ok for _, ok in verdicts.values())
