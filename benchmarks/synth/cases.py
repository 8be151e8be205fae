"""Case (incident) records: victims grouped into cases, with suspects.

Victims are grouped into incidents (same form of exploitation, mostly the
same nationality); each incident has one or more suspects, drawn from a pool
smaller than the number of cases so that some brokers recur. An agency
records a case mostly when it registered one of its victims, names the
victims it knows (and sometimes others) and the suspects, in its own order
and spelling.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synth import names as nm
from synth.config import SUSPECT_NATIONALITY_MIX, CaseConfig, WorldConfig
from synth.names import LEXICON
from synth.noise import pick_category
from synth.population import EXPLOITATION, Population, build_population
from synth.render import render_dates, render_people
from synth.tables import Table, build_tables, entity_ids, summarise

# Exploitation types confused in classification.
_CONFUSED_TYPE = {
    "sexual": "forced_marriage",
    "labour": "forced_criminality",
    "forced_marriage": "sexual",
    "forced_criminality": "labour",
    "organ_removal": "other",
    "other": "labour",
}
# Incident locations (indices into ``names.INCIDENT_PLACES``) by exploitation
# type: fishing and factories on the coast, scam compounds on the borders.
_LOCATIONS_BY_TYPE = {
    "sexual": (1, 2, 5, 12, 16, 14),
    "labour": (0, 3, 6, 7, 6, 13, 15),
    "forced_marriage": (1, 6, 15, 16),
    "forced_criminality": (8, 9, 10, 11, 8, 9),
    "organ_removal": (1, 12),
    "other": (1, 0, 12, 13),
}


def _csr(groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Members sorted by group, and the start offset of each group (n+1)."""
    order = np.argsort(groups, kind="stable")
    starts = np.searchsorted(groups[order], np.arange(n_groups + 1))
    return order, starts


def _expand(
    records_group: np.ndarray, members: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (record, member) pairs for records of groups given in CSR form.

    Returns:
        Record index, member, and the member's position within its group.
    """
    sizes = starts[records_group + 1] - starts[records_group]
    rec = np.repeat(np.arange(records_group.shape[0]), sizes)
    first = np.repeat(starts[records_group], sizes)
    within = np.arange(rec.shape[0]) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return rec, members[first + within], within


def _name_lists(
    rec: np.ndarray, names: np.ndarray, n_records: int, max_names: int, rng: np.random.Generator
) -> np.ndarray:
    """Join names per record in a random order, ``;``-separated, capped."""
    order = np.lexsort((rng.random(rec.shape[0]), rec))
    rec, names = rec[order], names[order]
    keep = names != ""
    rec, names = rec[keep], names[keep]
    starts = np.searchsorted(rec, np.arange(n_records + 1))
    semicolon = np.where(rng.random(n_records) < 0.5, "; ", ";")
    listed = names.tolist()
    return np.array(
        [
            semicolon[r].join(listed[starts[r] : min(starts[r + 1], starts[r] + max_names)])
            for r in range(n_records)
        ],
        dtype=object,
    )


def _full_names(
    pop: Population,
    person: np.ndarray,
    agency: np.ndarray,
    config: WorldConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """Names as an agency writes them in a case's name list."""
    return render_people(pop, person, agency, config, rng, full_names=True).fields["full_name"]


def generate_cases(
    pop: Population, held: np.ndarray, config: WorldConfig, rng: np.random.Generator
) -> tuple[tuple[Table, ...], dict, dict[str, np.ndarray]]:
    """Case records for every agency, built on the victims' captures.

    Args:
        pop: the victim population.
        held: (N, A) which agency registered which victim.
        config: the world; ``config.cases`` must be set.
        rng: random generator for the cases.

    Returns:
        The case tables, the case truth summary, and the membership of the
        observed cases (columns ``case_id``, ``role``, ``person_id``; victims
        are ``P`` ids as in the victim truth, suspects ``S`` ids).
    """
    cc: CaseConfig = config.cases  # type: ignore[assignment]
    # A name left out of a list is modelled by list completeness, so names in
    # lists are never blank.
    config = dataclasses.replace(
        config, noise=config.noise.with_updates(given_missing=0.0, family_missing=0.0)
    )
    n_people = pop.size
    order = np.lexsort((rng.random(n_people), pop.nationality, pop.exploitation))
    sizes = rng.geometric(1.0 / cc.mean_victims, size=n_people)
    n_cases = int(np.searchsorted(np.cumsum(sizes), n_people) + 1)
    sizes = sizes[:n_cases]
    sizes[-1] = n_people - sizes[:-1].sum()
    case_of = np.empty(n_people, dtype=np.int64)
    case_of[order] = np.repeat(np.arange(n_cases), sizes)
    lead = order[np.cumsum(sizes) - sizes]  # the first victim of each case
    case_type = pop.exploitation[lead]

    first = np.datetime64(cc.first_date, "D")
    span = int((np.datetime64(cc.last_date, "D") - first).astype(np.int64))
    case_date = first + rng.integers(0, span + 1, size=n_cases).astype("timedelta64[D]")
    places = LEXICON.pool(nm.INCIDENT_PLACES)
    case_place = np.empty(n_cases, dtype=np.int32)
    for t, name in enumerate(EXPLOITATION):
        rows = np.flatnonzero(case_type == t)
        options = np.array(_LOCATIONS_BY_TYPE[name])
        case_place[rows] = places[options[rng.integers(0, options.size, size=rows.size)]]

    # Suspects: a pool smaller than the number of cases; popular brokers recur.
    n_suspects = max(1, int(np.ceil(n_cases * cc.suspect_pool_ratio)))
    suspects = build_population(
        n_suspects,
        SUSPECT_NATIONALITY_MIX,
        rng,
        reference_date=config.reference_date,
        minor_share=0.0,
        spelling_variant=config.spelling_variant,
    )
    k = 1 + rng.poisson(max(cc.mean_suspects - 1.0, 0.0), size=n_cases)
    popularity = 1.0 / np.arange(1, n_suspects + 1) ** 0.8
    pairs_case = np.repeat(np.arange(n_cases), k)
    pairs_suspect = rng.choice(n_suspects, size=pairs_case.size, p=popularity / popularity.sum())
    pair_code = np.unique(pairs_case * n_suspects + pairs_suspect)
    sus_case, sus_person = pair_code // n_suspects, pair_code % n_suspects

    # Which agencies know which case.
    n_ag = len(config.agencies)
    registered = np.stack(
        [np.bincount(case_of, weights=held[:, j], minlength=n_cases) > 0 for j in range(n_ag)],
        axis=1,
    )
    p_known = np.where(registered, cc.known_if_victim_registered, cc.known_otherwise)
    known = rng.random((n_cases, n_ag)) < p_known
    case_idx, ag_idx = np.nonzero(known)
    copies = 1 + (rng.random(case_idx.size) < cc.duplicate_rate)
    case_idx, ag_idx = np.repeat(case_idx, copies), np.repeat(ag_idx, copies)
    n_rec = case_idx.size

    # Victim names: registered victims mostly, others sometimes, at least one.
    v_members, v_starts = _csr(case_of, n_cases)
    rec, victim, within = _expand(case_idx, v_members, v_starts)
    reg = held[victim, ag_idx[rec]]
    listed = rng.random(rec.size) < np.where(
        reg, cc.victim_listed_registered, cc.victim_listed_other
    )
    any_listed = np.bincount(rec[listed], minlength=n_rec) > 0
    listed |= ~any_listed[rec] & (within == 0)
    rec, victim = rec[listed], victim[listed]
    victim_names = _full_names(pop, victim, ag_idx[rec], config, rng)

    s_members, s_starts = _csr(sus_case, n_cases)
    s_rec, s_pair, _ = _expand(case_idx, s_members, s_starts)
    s_keep = rng.random(s_rec.size) < cc.suspect_listed
    s_rec, s_person = s_rec[s_keep], sus_person[s_pair[s_keep]]
    suspect_names = _full_names(suspects, s_person, ag_idx[s_rec], config, rng)

    scale = np.array([a.noise_scale for a in config.agencies])[ag_idx]
    rates = np.minimum(
        np.array([cc.date_missing, cc.date_year_only, cc.date_year_month])[None, :]
        * scale[:, None],
        0.95,
    )
    dates = case_date[case_idx]
    shift = rng.random(n_rec) < np.minimum(cc.date_shifted * scale, 0.95)
    delta = rng.integers(1, 31, size=n_rec) * np.where(rng.random(n_rec) < 0.5, -1, 1)
    dates = np.where(shift, dates + delta.astype("timedelta64[D]"), dates)
    incident_date, date_kind = render_dates(dates, rng, rates)

    # Incident places are mostly Thai; agencies that write Thai names in Thai
    # script write Thai places in it too.
    place_tok = case_place[case_idx]
    native_rate = (
        np.array([a.native_rate("THA") for a in config.agencies])[ag_idx]
        * config.noise.native_script
    )
    native = (rng.random(n_rec) < native_rate) & LEXICON.has_native[place_tok]
    variant = (rng.random(n_rec) * LEXICON.n_roman[place_tok]).astype(np.int64)
    respelled = rng.random(n_rec) < np.minimum(cc.location_variant * scale, 0.95)
    location = LEXICON.forms[place_tok, np.where(native, 0, 1 + np.where(respelled, variant, 0))]
    no_location = rng.random(n_rec) < np.minimum(cc.location_missing * scale, 0.95)
    location = np.where(no_location, "", location)

    types = np.array(EXPLOITATION, dtype=object)
    confused = np.array([_CONFUSED_TYPE[t] for t in EXPLOITATION], dtype=object)
    ctype = case_type[case_idx]
    kind = pick_category(
        rng, np.minimum(np.array([cc.type_missing, cc.type_wrong])[None, :] * scale[:, None], 0.95)
    )
    exploitation_type = np.select([kind == 1, kind == 2], ["", confused[ctype]], types[ctype])

    columns = {
        "suspect_names": _name_lists(s_rec, suspect_names, n_rec, cc.max_names, rng),
        "incident_date": incident_date,
        "incident_location": location.astype(object),
        "exploitation_type": exploitation_type.astype(object),
        "victim_names": _name_lists(rec, victim_names, n_rec, cc.max_names, rng),
    }
    flags = {
        "date_kind": date_kind,
        "date_shifted": shift,
        "location_native": native,
        "location_variant": respelled & ~native,
        "location_missing": no_location,
        "type_kind": kind,
    }
    tables = build_tables(
        config.agencies, case_idx, ag_idx, columns, flags,
        id_infix="-C", entity_prefix="C", total=n_cases, rng=rng,
    )  # fmt: skip
    case_held = np.zeros((n_cases, n_ag), dtype=bool)
    case_held[case_idx, ag_idx] = True
    truth = summarise(case_held, tables, n_cases, "cases")
    truth["victims_per_case_mean"] = round(float(n_people / n_cases), 4)
    truth["suspects"] = int(n_suspects)

    seen = case_held.any(axis=1)
    v_rows = np.flatnonzero(seen[case_of])
    s_rows = np.flatnonzero(seen[sus_case])
    members = {
        "case_id": np.concatenate(
            [entity_ids("C", case_of[v_rows], n_cases), entity_ids("C", sus_case[s_rows], n_cases)]
        ),
        "role": np.array(["victim"] * v_rows.size + ["suspect"] * s_rows.size, dtype=object),
        "person_id": np.concatenate(
            [entity_ids("P", v_rows, n_people), entity_ids("S", sus_person[s_rows], n_suspects)]
        ),
    }
    order = np.lexsort((members["person_id"], members["role"], members["case_id"]))
    return tables, truth, {k: v[order] for k, v in members.items()}
