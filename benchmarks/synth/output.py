"""Write a generated data set to a directory (CSV per agency, truth files).

Layout::

    OUT/police.csv ...          one victim file per agency (CONTRACT columns)
    OUT/truth.csv               party,record_id,person_id
    OUT/truth.json              N, counts and true capture histories
    OUT/capture_table.csv       the true capture histories as a 0/1 table
                                (one column per party, then count), the
                                format of ../shared/mse and `tiplink estimate`
    OUT/cases/police.csv ...    one case file per agency (CONTRACT columns)
    OUT/cases/truth.csv         party,record_id,case_id
    OUT/cases/truth.json        number of cases, counts, capture histories
    OUT/cases/members.csv       case_id,role,person_id of the observed cases

Every file is written atomically (``tiplink.atomic``), so an interrupted run
leaves no half-written file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from synth.generator import CASE_COLUMNS, VICTIM_COLUMNS, Dataset
from synth.tables import Table
from tiplink.atomic import atomic_output


def _write_csv(path: Path, header: tuple[str, ...], columns: list) -> None:
    with atomic_output(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))


def _write_tables(
    out: Path, tables: tuple[Table, ...], header: tuple[str, ...], id_name: str
) -> None:
    for table in tables:
        _write_csv(out / f"{table.party}.csv", header, [table.columns[c].tolist() for c in header])
    parties, records, truth_ids = [], [], []
    for table in tables:
        parties.extend([table.party] * len(table))
        records.extend(table.columns["record_id"].tolist())
        truth_ids.extend(table.truth_ids.tolist())
    _write_csv(out / "truth.csv", ("party", "record_id", id_name), [parties, records, truth_ids])


def _write_json(path: Path, data: dict) -> None:
    with atomic_output(path, "w") as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def _write_capture_table(path: Path, truth: dict) -> None:
    parties = truth["parties"]
    rows = [
        [*(int(p in h["parties"]) for p in parties), h["count"]] for h in truth["capture_histories"]
    ]
    _write_csv(path, (*parties, "count"), list(zip(*rows, strict=True)))


def write_dataset(dataset: Dataset, out_dir: str | Path) -> list[Path]:
    """Write ``dataset`` under ``out_dir`` (created if needed).

    Returns:
        The files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_tables(out, dataset.victims, VICTIM_COLUMNS, "person_id")
    truth = dict(dataset.truth)
    truth["files"] = {t.party: f"{t.party}.csv" for t in dataset.victims}
    _write_json(out / "truth.json", truth)
    _write_capture_table(out / "capture_table.csv", truth)
    written = [out / f"{t.party}.csv" for t in dataset.victims]
    written += [out / "truth.csv", out / "truth.json", out / "capture_table.csv"]
    if dataset.case_truth is not None:
        cases = out / "cases"
        cases.mkdir(exist_ok=True)
        _write_tables(cases, dataset.cases, CASE_COLUMNS, "case_id")
        case_truth = dict(dataset.case_truth)
        case_truth["files"] = {t.party: f"{t.party}.csv" for t in dataset.cases}
        _write_json(cases / "truth.json", case_truth)
        members = dataset.case_members or {}
        _write_csv(
            cases / "members.csv",
            ("case_id", "role", "person_id"),
            [members[c].tolist() for c in ("case_id", "role", "person_id")],
        )
        written += [cases / f"{t.party}.csv" for t in dataset.cases]
        written += [cases / "truth.csv", cases / "truth.json", cases / "members.csv"]
    return written
