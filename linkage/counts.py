"""COUNTS.json: building it from exact entity membership, and reading it back.

The document (see CONTRACT.md) publishes per-party record and unique counts,
the number of unique entities, the capture histories (people seen by exactly
each set of parties), and a population estimate. The estimate is always
computed from the exact counts, before small cells are suppressed; a
suppressed document cannot be used to estimate.

Also reads capture-table CSV files (one 0/1 column per list, last column the
count), the format of the published MSE data sets.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tiplink.errors import InputError
from tiplink.linkage.estimate import (
    DEFAULT_SEED,
    MAX_LISTS,
    MIN_LISTS,
    CaptureTable,
    EstimationError,
)
from tiplink.linkage.strata import EntityStrata, pool_small_values

# Bootstrap replicates for the estimate embedded in COUNTS.json: enough for a
# stable 95% BCa interval, small enough to keep `link` and the service quick
# (stepwise on five parties: about 2.5 s idle; see docs/estimation.md).
COUNTS_BOOTSTRAP = 200
COUNTS_SEED = DEFAULT_SEED
# A stratum with fewer people seen than this gets no estimate
# (``estimate_error`` says so): a log-linear model of a handful of people
# says nothing useful, and its interval would be meaningless.
STRATUM_MIN_OBSERVED = 30
# With small-cell protection on (K >= 2), stratum values held by fewer than
# this many times K entities are published pooled (see
# tiplink.linkage.strata.pool_small_values).
STRATUM_POOL_FACTOR = 10


def cell_key(parties: Iterable[str]) -> frozenset[str]:
    """A capture history as a set of party names."""
    return frozenset(parties)


def exact_histories(entity_party_sets: Iterable[Iterable[str]]) -> Counter[frozenset[str]]:
    """Count entities by the exact set of parties holding them."""
    counts: Counter[frozenset[str]] = Counter()
    for parties in entity_party_sets:
        key = cell_key(parties)
        if key:
            counts[key] += 1
    return counts


def counts_document(
    parties: Iterable[str],
    records_per_party: Mapping[str, int],
    entity_party_sets: Iterable[Iterable[str]],
    min_cell_count: int = 5,
    estimate_kwargs: Mapping[str, Any] | None = None,
    strata: EntityStrata | None = None,
    linkage_uncertainty: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the COUNTS.json document from exact entity membership.

    Args:
        parties: every party in the project (also those with no records).
        records_per_party: number of input records per party.
        entity_party_sets: for each entity, the parties holding at least one
            of its records.
        min_cell_count: small-cell threshold K (cells with 0 < count < K are
            suppressed, with secondary suppression); 0 turns it off.
        estimate_kwargs: options for :func:`tiplink.linkage.estimate.estimate`
            (default: stepwise, 200 bootstrap replicates, fixed seed), or
            ``{"skip": True}`` to leave the estimate out.
        strata: each entity's clear stratum values (aligned with
            ``entity_party_sets``) and records per stratum; adds the
            ``strata`` key, protected jointly with the overall table.
        linkage_uncertainty: the summary of a nested linkage x sampling
            bootstrap (:meth:`tiplink.linkage.uncertainty.LinkageUncertainty.summary`),
            published as ``estimate.linkage_uncertainty`` (rounded like the
            estimate when cells are suppressed; withheld with it).

    Returns:
        The document as a dict, ready for ``json.dump``. ``estimate`` is
        present when there are at least two parties and a finite estimate
        exists; otherwise ``estimate_error`` says why. With strata,
        ``strata`` maps each variable and value to a block with the same
        keys (``records``, ``unique_entities``, ``unique_per_party``,
        ``capture_histories``, ``estimate`` or ``estimate_error``).
    """
    from tiplink.linkage.protect import protect_table

    names = sorted(set(parties))
    index = set(names)
    party_sets = [cell_key(ps) for ps in entity_party_sets]
    histories = exact_histories(party_sets)
    for key in histories:
        if not key <= index:
            raise ValueError("an entity names a party that is not in the project")
    records = {p: int(records_per_party.get(p, 0)) for p in names}
    options = dict(estimate_kwargs or {})
    skip = bool(options.pop("skip", False))
    if strata is not None and strata.names:
        doc = _stratified_document(
            names, records, party_sets, histories, min_cell_count, None if skip else options, strata
        )
        return _with_linkage(doc, linkage_uncertainty)
    unique_per_party = {p: sum(c for k, c in histories.items() if p in k) for p in names}
    unique_entities = sum(histories.values())
    doc: dict[str, Any] = {
        "parties": names,
        "records": records,
        "unique_entities": unique_entities,
        "unique_per_party": unique_per_party,
    }
    protection = protect_table(names, histories, min_cell_count, doc["records"])
    ordered = sorted(histories, key=lambda k: (len(k), sorted(k)))
    cells = []
    for key in ordered:
        if histories[key] == 0:
            continue
        if key in protection.suppressed:
            cells.append({"parties": sorted(key), "count": None, "suppressed": True})
        else:
            cells.append({"parties": sorted(key), "count": histories[key], "suppressed": False})
    doc["capture_histories"] = cells
    for name in sorted(protection.suppressed_totals):
        # Last resort of the protection: cells alone could not hide a small
        # cell from these totals (always so with two parties).
        if name == "unique_entities":
            doc["unique_entities"] = None
        else:
            field, party = name.split(":", 1)
            doc["records" if field == "records" else "unique_per_party"][party] = None
    if protection.suppressed:
        doc["min_cell_count"] = min_cell_count
        doc["suppressed_totals"] = sorted(protection.suppressed_totals)
    if skip:
        return doc
    doc.update(_estimate_fields(names, histories, options, bool(protection.suppressed)))
    return _with_linkage(doc, linkage_uncertainty)


def _with_linkage(doc: dict[str, Any], summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """Attach a linkage-uncertainty summary to the document's estimate."""
    est = doc.get("estimate")
    if summary is None or not est:
        return doc
    out = dict(summary)
    digits = est.get("rounded_to_significant_digits")
    if digits:
        # Same rounding as the estimate itself (see coarsen_estimate).
        for key, value in out.items():
            if key in ("replicates", "replicates_used", "inner", "draws_used", "seed", "cut"):
                continue
            if isinstance(value, float):
                out[key] = _round_significant(value, digits)
            elif key == "ci95" and value:
                out[key] = [_round_significant(v, digits) for v in value]
    est["linkage_uncertainty"] = out
    return doc


def _estimate_fields(
    names: list[str],
    histories: Mapping[frozenset[str], int],
    options: Mapping[str, Any],
    protected: bool,
    min_observed: int = 0,
) -> dict[str, Any]:
    """``{"estimate": ...}`` or ``{"estimate_error": ...}`` (or nothing, one party).

    Args:
        names: the parties (sorted).
        histories: exact counts.
        options: :func:`~tiplink.linkage.estimate.estimate` options.
        protected: some number of the block is withheld: round the estimate
            (three or more parties) or withhold it (two parties).
        min_observed: refuse to estimate below this many people.
    """
    from tiplink.linkage.estimate import estimate

    if len(names) < MIN_LISTS:
        return {}
    observed = sum(histories.values())
    if observed < min_observed:
        return {"estimate_error": f"too few people to estimate (fewer than {min_observed})"}
    options = dict(options)
    options.setdefault("bootstrap", COUNTS_BOOTSTRAP)
    options.setdefault("seed", COUNTS_SEED)
    try:
        if len(names) > MAX_LISTS:
            raise EstimationError(f"estimation supports at most {MAX_LISTS} parties")
        table = CaptureTable.from_histories(names, histories)
        result = estimate(table, **options)
    except EstimationError as exc:
        return {"estimate_error": exc.message}
    if not protected:
        return {"estimate": result.to_dict()}
    if len(names) == 2:
        # N = n1 * n2 / overlap: with two parties the estimate and the
        # per-party counts give back the suppressed overlap exactly.
        return {
            "estimate_error": "withheld: with two parties and a suppressed cell, the "
            "estimate would reveal the suppressed overlap"
        }
    return {"estimate": coarsen_estimate(result.to_dict())}


def _total_names(parties: list[str], block: dict[str, Any]) -> list[str]:
    """Names of a release block's withheld totals (``suppressed_totals``)."""
    out = []
    if block["unique_entities"] is None:
        out.append("unique_entities")
    for field in ("records", "unique_per_party"):
        out += [f"{field}:{p}" for p in parties if block.get(field, {}).get(p, 0) is None]
    return sorted(out)


def _stratified_document(
    names: list[str],
    records: dict[str, int],
    party_sets: list[frozenset[str]],
    histories: Mapping[frozenset[str], int],
    min_cell_count: int,
    options: Mapping[str, Any] | None,
    strata: EntityStrata,
) -> dict[str, Any]:
    """COUNTS.json with ``strata``: the overall table and every stratum protected jointly."""
    from tiplink.linkage.protect import protect_stratified, release_block, stratified_items

    pooled: dict[str, dict[str, Any]] = {}
    if min_cell_count > 1:
        strata, pooled = pool_small_values(strata, STRATUM_POOL_FACTOR * min_cell_count)
    combos = strata.combos()
    if len(combos) != len(party_sets):
        raise ValueError("strata must give one value per entity")
    joint: Counter[tuple[tuple[str, ...], frozenset[str]]] = Counter(
        (combo, key) for combo, key in zip(combos, party_sets, strict=True) if key
    )
    combo_records = {
        c: {p: int(v.get(p, 0)) for p in names} for c, v in strata.combo_records.items()
    }
    for p in names:
        if sum(v[p] for v in combo_records.values()) != records[p]:
            raise ValueError("records per stratum do not add up to the records per party")
    protection = protect_stratified(names, strata.names, joint, combo_records, min_cell_count)
    _, items = stratified_items(names, strata.names, joint, combo_records)
    overall = release_block(names, items, protection, None)
    doc: dict[str, Any] = {"parties": names, **overall}
    if protection.hidden:
        doc["min_cell_count"] = min_cell_count
        doc["suppressed_totals"] = _total_names(names, overall)
    if options is not None:
        overall_hidden = bool(protection.cells(None)) or bool(_total_names(names, overall))
        doc.update(_estimate_fields(names, histories, options, overall_hidden))
    doc["strata"] = {}
    if pooled:
        doc["strata_pooled"] = pooled
    for v, variable in enumerate(strata.names):
        blocks: dict[str, Any] = {}
        for value in sorted({c[v] for c in combos} | {c[v] for c in combo_records}):
            block = release_block(names, items, protection, (variable, value))
            withheld = _total_names(names, block)
            if withheld:
                block["suppressed_totals"] = withheld
            if options is not None:
                exact: Counter[frozenset[str]] = Counter()
                for (combo, key), count in joint.items():
                    if combo[v] == value:
                        exact[key] += count
                hidden = bool(protection.cells((variable, value))) or bool(withheld)
                block.update(_estimate_fields(names, exact, options, hidden, STRATUM_MIN_OBSERVED))
            blocks[value] = block
        doc["strata"][variable] = blocks
    return doc


def _round_significant(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    return float(round(value / scale) * scale)


def coarsen_estimate(est: dict[str, Any], digits: int = 3) -> dict[str, Any]:
    """Round a published estimate when cells are suppressed.

    The estimate is a smooth function of the exact cells; published to the
    unit it narrows what suppressed cells can be. Rounding to ``digits``
    significant figures (well inside its own uncertainty) blunts that; see
    docs/estimation.md for the residual risk.
    """
    out = dict(est)
    out["population"] = _round_significant(est["population"], digits)
    out["dark_figure"] = _round_significant(est["dark_figure"], digits)
    if est.get("ci95"):
        out["ci95"] = [_round_significant(v, digits) for v in est["ci95"]]
    out.pop("bic", None)
    out["rounded_to_significant_digits"] = digits
    return out


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def read_counts_json(path: str | Path) -> dict[str, Any]:
    """Read and validate a COUNTS.json document.

    Raises:
        InputError: naming the file and the offending element.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError):
        raise InputError("cannot read the file as UTF-8 text", path=path) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno})", path=path
        ) from None
    validate_counts(doc, path)
    return doc


def _fail(path: Path | None, where: str, what: str) -> InputError:
    return InputError(f"{where}: {what}", path=path)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_counts(doc: Any, path: Path | None = None) -> None:
    """Check the structure of a COUNTS.json document.

    Raises:
        InputError: naming the element that is wrong (never its value).
    """
    if not isinstance(doc, dict):
        raise _fail(path, "document", "must be a JSON object")
    parties = doc.get("parties")
    if not isinstance(parties, list) or not all(isinstance(p, str) and p for p in parties):
        raise _fail(path, "parties", "must be a list of non-empty party names")
    if len(set(parties)) != len(parties):
        raise _fail(path, "parties", "names a party twice")
    known = set(parties)
    _validate_block(doc, path, "", known)
    strata = doc.get("strata")
    if strata is None:
        return
    if not isinstance(strata, dict):
        raise _fail(path, "strata", "must map stratum names to their values")
    for name, values in strata.items():
        if not isinstance(values, dict):
            raise _fail(path, f"strata[{name!r}]", "must map stratum values to count blocks")
        for value, block in values.items():
            where = f"strata[{name!r}][{value!r}]"
            if not isinstance(block, dict):
                raise _fail(path, where, "must be an object")
            _validate_block(block, path, where + ".", known)


def _validate_block(
    doc: Mapping[str, Any], path: Path | None, prefix: str, known: set[str]
) -> None:
    """Check one block of counts: the document itself, or one stratum."""
    for key in ("records", "unique_per_party"):
        if key in doc:
            value = doc[key]
            if not isinstance(value, dict) or not set(value) <= known:
                raise _fail(path, prefix + key, "must map party names from 'parties' to counts")
            for party, count in value.items():
                # null: withheld by the small-cell protection.
                if not (_is_count(count) or count is None):
                    raise _fail(path, f"{prefix}{key}[{party!r}]", "must be a non-negative integer")
    if "unique_entities" in doc and not (
        _is_count(doc["unique_entities"]) or doc["unique_entities"] is None
    ):
        raise _fail(path, prefix + "unique_entities", "must be a non-negative integer")
    cells = doc.get("capture_histories")
    if not isinstance(cells, list):
        raise _fail(path, prefix + "capture_histories", "must be a list")
    seen: set[frozenset[str]] = set()
    for i, cell in enumerate(cells):
        where = f"{prefix}capture_histories[{i}]"
        if not isinstance(cell, dict):
            raise _fail(path, where, "must be an object")
        names = cell.get("parties")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise _fail(path, f"{where}.parties", "must be a non-empty list of party names")
        if not set(names) <= known:
            raise _fail(path, f"{where}.parties", "names a party missing from 'parties'")
        if len(set(names)) != len(names):
            raise _fail(path, f"{where}.parties", "names a party twice")
        key = frozenset(names)
        if key in seen:
            raise _fail(path, where, "repeats a capture history listed earlier")
        seen.add(key)
        suppressed = cell.get("suppressed", False)
        if not isinstance(suppressed, bool):
            raise _fail(path, f"{where}.suppressed", "must be true or false")
        count = cell.get("count")
        if suppressed:
            if count is not None:
                raise _fail(path, f"{where}.count", "must be null for a suppressed cell")
        elif not _is_count(count):
            raise _fail(path, f"{where}.count", "must be a non-negative integer")
    if "estimate" in doc:
        _validate_estimate(doc["estimate"], path, prefix + "estimate")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validate_estimate(est: Any, path: Path | None, where: str) -> None:
    """An embedded estimate: a finite population, and a two-number interval or null."""
    if not isinstance(est, dict) or not _is_number(est.get("population")):
        raise _fail(path, where, "must be an object with a finite 'population'")
    ci = est.get("ci95")
    if ci is not None and not (
        isinstance(ci, list) and len(ci) == 2 and all(_is_number(v) for v in ci)
    ):
        raise _fail(path, f"{where}.ci95", "must be null or two numbers")
    lu = est.get("linkage_uncertainty")
    if lu is None:
        return
    where = f"{where}.linkage_uncertainty"
    if not isinstance(lu, dict):
        raise _fail(path, where, "must be an object")
    ci = lu.get("ci95")
    if ci is not None and not (
        isinstance(ci, list) and len(ci) == 2 and all(_is_number(v) for v in ci)
    ):
        raise _fail(path, f"{where}.ci95", "must be null or two numbers")
    for key in ("linkage_mean", "linkage_sd", "sampling_sd", "total_sd"):
        if lu.get(key) is not None and not _is_number(lu[key]):
            raise _fail(path, f"{where}.{key}", "must be a number or null")


def table_from_counts(doc: Mapping[str, Any], path: str | Path | None = None) -> CaptureTable:
    """The exact capture table of a validated COUNTS.json document.

    Raises:
        InputError: if cells are suppressed (estimates need exact counts) or
            the number of parties is outside 2..8.
    """
    parties = list(doc["parties"])
    cells = doc["capture_histories"]
    if any(c.get("suppressed") or c.get("count") is None for c in cells):
        raise InputError(
            "has suppressed cells; estimates must be computed on the trusted side from "
            "exact counts (tiplink link, or the service, embed one in COUNTS.json)",
            path=path,
        )
    if not MIN_LISTS <= len(parties) <= MAX_LISTS:
        raise InputError(
            f"estimation needs {MIN_LISTS} to {MAX_LISTS} parties, the file lists {len(parties)}",
            path=path,
        )
    return CaptureTable.from_histories(parties, [(c["parties"], c["count"]) for c in cells])


def read_capture_csv(path: str | Path) -> CaptureTable:
    """Read a capture table CSV: one 0/1 column per list, the last column the count.

    Repeated histories add up; histories not listed count 0. The all-zero
    history may appear only with count 0.

    Raises:
        InputError: naming the file, data row (1-based) and column.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError:
        raise InputError("cannot open the file", path=path) from None
    with handle:
        try:
            rows = list(csv.reader(handle))
        except (csv.Error, UnicodeDecodeError):
            raise InputError("not a readable UTF-8 CSV file", path=path) from None
    if not rows:
        raise InputError("empty file; expected a header row", path=path)
    header = [h.strip() for h in rows[0]]
    if len(header) < MIN_LISTS + 1:
        raise InputError(
            "needs at least two 0/1 list columns and a last count column", path=path, row=0
        )
    if len(header) - 1 > MAX_LISTS:
        raise InputError(f"has more than {MAX_LISTS} list columns", path=path, row=0)
    for j, name in enumerate(header):
        if not name:
            raise InputError("column has an empty name", path=path, row=0, column=f"#{j + 1}")
    if len(set(header)) != len(header):
        raise InputError("two columns have the same name", path=path, row=0)
    lists, count_col = header[:-1], header[-1]
    m = len(lists)
    cells = [0] * (1 << m)
    data_rows = 0
    for r, row in enumerate(rows[1:], start=1):
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"has {len(row)} fields, the header has {len(header)}", path=path, row=r
            )
        mask = 0
        for i, name in enumerate(lists):
            value = row[i].strip()
            if value not in ("0", "1"):
                raise InputError("must be 0 or 1", path=path, row=r, column=name)
            if value == "1":
                mask |= 1 << i
        raw = row[-1].strip()
        if not raw:
            raise InputError("count is missing", path=path, row=r, column=count_col)
        if raw.startswith("-") and raw[1:].isdigit():
            raise InputError("count must not be negative", path=path, row=r, column=count_col)
        if not raw.isdigit():
            raise InputError("count must be a whole number", path=path, row=r, column=count_col)
        count = int(raw)
        if mask == 0 and count:
            raise InputError(
                "a history on no list cannot have a count (it is what is estimated)",
                path=path,
                row=r,
                column=count_col,
            )
        cells[mask] += count
        data_rows += 1
    if data_rows == 0:
        raise InputError("has a header but no data rows", path=path)
    if sum(cells) == 0:
        raise InputError("all counts are zero", path=path)
    return CaptureTable(tuple(lists), tuple(cells))


def read_table(path: str | Path) -> CaptureTable:
    """Read a COUNTS.json (by ``.json`` suffix or a leading ``{``) or a capture CSV."""
    path = Path(path)
    is_json = path.suffix.lower() == ".json"
    if not is_json:
        try:
            with path.open("rb") as handle:
                is_json = handle.read(64).lstrip().startswith(b"{")
        except FileNotFoundError:
            raise InputError("file not found", path=path) from None
        except OSError:
            raise InputError("cannot open the file", path=path) from None
    if is_json:
        return table_from_counts(read_counts_json(path), path)
    return read_capture_csv(path)
