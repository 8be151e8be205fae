"""Render records: spell a person as an agency would, with noise.

``render_people`` is vectorised over records: it picks a spelling for each
name slot of each record by numpy indexing into the lexicon, joins the parts,
then applies the noise modes. Each mode's draw is kept in ``Rendered.flags``
so that tests and benchmarks can see which record received which noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth.config import WorldConfig
from synth.names import LEXICON
from synth.noise import (
    NoiseConfig,
    apply_where,
    join,
    phonetic,
    pick_category,
    strip_diacritics,
    typo,
)
from synth.population import (
    HONORIFIC_WEIGHT,
    N_SLOTS,
    NATIONALITIES,
    NO_SPACE_SCRIPT,
    SLOT_ALIAS,
    SLOT_FAMILY,
    SLOT_GIVEN,
    SLOT_HONORIFIC,
    SLOT_MIDDLE,
    SLOT_ORIGIN,
    Population,
)

# A neighbouring country recorded by mistake (border areas, shared languages).
CONFUSED_NATIONALITY = {
    "THA": "LAO",
    "MMR": "THA",
    "LAO": "THA",
    "KHM": "THA",
    "VNM": "KHM",
    "IDN": "MYS",
    "MYS": "IDN",
    "PHL": "IDN",
}

# Codes of ``render_dates`` kinds (0 = written exactly).
DATE_EXACT, DATE_MISSING, DATE_YEAR, DATE_YEAR_MONTH = 0, 1, 2, 3
DATE_OFF_BY_YEAR, DATE_SWAP, DATE_ESTIMATED = 4, 5, 6

_VNM = NATIONALITIES.index("VNM")
_NO_SPACE = np.array([c in NO_SPACE_SCRIPT for c in NATIONALITIES])
_HONORIFIC_WEIGHT = np.array([HONORIFIC_WEIGHT.get(c, 0.0) for c in NATIONALITIES])


@dataclass(frozen=True)
class Rendered:
    """Rendered records.

    Attributes:
        fields: object arrays ``given_name``, ``family_name``, ``other_names``,
            and either ``sex``, ``date_of_birth``, ``nationality``,
            ``place_of_origin``, or (with ``full_names``) ``full_name``.
        flags: per-record noise draws: bool arrays named like the
            ``NoiseConfig`` fields (per-field ones suffixed ``_given``,
            ``_family``, ``_other``), plus ``native`` (native script chosen),
            and int8 category codes ``dob_kind`` (``DATE_*``), ``sex_kind``
            (1 missing, 2 X, 3 wrong) and ``nationality_kind`` (1 missing,
            2 wrong).
    """

    fields: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]


def _drop_to_single_name(
    tok: np.ndarray, usual: np.ndarray, nat: np.ndarray, rows: np.ndarray
) -> None:
    """Keep one given-name part of ``rows`` (in place); Vietnamese keep the last."""
    given = tok[rows][:, list(SLOT_GIVEN)]
    last = np.where(given[:, 2] != 0, 2, np.where(given[:, 1] != 0, 1, 0))
    keep = np.where(nat[rows] == _VNM, last, 0)
    kept_tok, kept_usual = tok[rows, keep], usual[rows, keep]
    tok[np.ix_(rows, [*SLOT_GIVEN, *SLOT_FAMILY, SLOT_MIDDLE])] = 0
    tok[rows, 0], usual[rows, 0] = kept_tok, kept_usual


def _split_single_name(tok: np.ndarray, usual: np.ndarray, rows: np.ndarray) -> None:
    """Move the last given-name part of ``rows`` into the family slot (in place)."""
    last = np.where(tok[rows, 2] != 0, 2, 1)
    tok[rows, 3], usual[rows, 3] = tok[rows, last], usual[rows, last]
    tok[rows, last] = 0


def render_people(
    pop: Population,
    person: np.ndarray,
    agency: np.ndarray,
    config: WorldConfig,
    rng: np.random.Generator,
    *,
    full_names: bool = False,
) -> Rendered:
    """Spell each record's person as the agency would, with noise.

    Args:
        pop: the population.
        person: (R,) person index of each record.
        agency: (R,) agency index of each record.
        config: the world (agencies and noise rates).
        rng: random generator for this rendering.
        full_names: return only the names, with ``full_name`` (the name in
            display order, as written in case name lists); skips the other
            fields.

    Returns:
        The rendered fields and the noise flags.
    """
    noise: NoiseConfig = config.noise
    n = person.shape[0]
    scale = np.array([a.noise_scale for a in config.agencies])[agency]
    flags: dict[str, np.ndarray] = {}

    def rate(value: float) -> np.ndarray:
        return np.minimum(value * scale, 0.95)

    def hit(name: str, eligible: np.ndarray | bool = True) -> np.ndarray:
        # Per-field flags are named "<setting>_<field>" (typo_given, ...).
        setting = name if hasattr(noise, name) else name.rsplit("_", 1)[0]
        flags[name] = (rng.random(n) < rate(getattr(noise, setting))) & eligible
        return flags[name]

    nat = pop.nationality[person]
    native_table = np.array([[a.native_rate(c) for c in NATIONALITIES] for a in config.agencies])
    native_p = np.minimum(native_table[agency, nat] * noise.native_script, 1.0)
    native = flags["native"] = rng.random(n) < native_p

    tok = pop.tokens[person]
    usual = pop.usual[person]
    _split_single_name(
        tok, usual, np.flatnonzero(hit("name_split", (tok[:, 3] == 0) & (tok[:, 1] != 0)))
    )
    _drop_to_single_name(tok, usual, nat, np.flatnonzero(hit("single_name", tok[:, 1] != 0)))

    # Spelling of each slot: native script, the person's usual romanisation,
    # or (respelled) another romanisation of that name part.
    slot_rate = np.full(N_SLOTS, noise.respell)
    slot_rate[SLOT_ORIGIN] = noise.origin_variant
    respell = rng.random((n, N_SLOTS)) < np.minimum(slot_rate[None, :] * scale[:, None], 0.95)
    n_roman = LEXICON.n_roman[tok].astype(np.int64)
    respell &= n_roman > 1
    step = 1 + (rng.random((n, N_SLOTS)) * np.maximum(n_roman - 1, 1)).astype(np.int64)
    alt = (usual + step) % np.maximum(n_roman, 1)
    column = np.where(
        native[:, None] & LEXICON.has_native[tok], 0, 1 + np.where(respell, alt, usual)
    )
    text = LEXICON.forms[tok, column]
    flags["respell"] = respell[:, :SLOT_ORIGIN].any(axis=1) & ~native
    flags["origin_variant"] = respell[:, SLOT_ORIGIN] & ~native

    sep = np.where(native & _NO_SPACE[nat], "", " ").astype(object)
    multi = tok[:, 1] != 0
    given_sep = np.where(hit("no_space", multi & ~native), "", sep).astype(object)
    given = join(join(text[:, 0], text[:, 1], given_sep), text[:, 2], given_sep)
    family = join(text[:, 3], text[:, 4], " ")

    # Filipino middle name: in full, as an initial, or left out.
    middle = text[:, SLOT_MIDDLE]
    has_mid = middle != ""
    u = rng.random(n)
    flags["middle_full"] = has_mid & (u < rate(noise.middle_full))
    flags["middle_initial"] = (
        has_mid & ~flags["middle_full"] & (u < rate(noise.middle_full) + rate(noise.middle_initial))
    )
    rows = np.flatnonzero(flags["middle_initial"])
    shown_mid = np.where(flags["middle_full"], middle, "").astype(object)
    shown_mid[rows] = [m[0] + "." for m in middle[rows].tolist()]
    given = join(given, shown_mid)

    honorific = text[:, SLOT_HONORIFIC]
    p_title = np.minimum(rate(noise.honorific) * _HONORIFIC_WEIGHT[nat], 0.95)
    flags["honorific"] = (honorific != "") & (rng.random(n) < p_title)
    given = np.where(flags["honorific"], join(honorific, given, sep), given)

    # other_names: the alias or nickname, and sometimes the native spelling.
    alias = join(text[:, SLOT_ALIAS[0]], text[:, SLOT_ALIAS[1]], sep)
    other = np.where(hit("alias_recorded", alias != ""), alias, "").astype(object)
    rows = np.flatnonzero(hit("native_in_other_names", ~native & LEXICON.has_native[tok[:, 0]]))
    if rows.size:
        other[rows] = join(
            other[rows], _native_full_name(pop, person[rows], tok[rows], nat[rows]), "; "
        )

    # Field-level spelling noise, drawn per field. Only native forms carry
    # diacritics; only romanised forms get sound-alike respellings.
    fields = {"given": given, "family": family, "other": other}
    for key in fields:
        drop = hit(f"diacritics_dropped_{key}", native)
        fields[key] = apply_where(fields[key], drop, strip_diacritics)
    for key in ("given", "family"):
        sound = hit(f"phonetic_{key}", ~native)
        fields[key] = apply_where(fields[key], sound, phonetic, rng.random(n))
    for key in fields:
        slip = hit(f"typo_{key}")
        ops = rng.integers(0, 4, size=n)
        fields[key] = apply_where(fields[key], slip, typo, ops, rng.random(n), rng.random(n))
    given, family, other = fields["given"], fields["family"], fields["other"]

    # Structure: the whole name in one field, or given and family swapped.
    family_first = pop.family_first[person]
    layout = pick_category(
        rng, np.stack([rate(noise.full_name_in_given), rate(noise.swap)], axis=1)
    )
    flags["full_name_in_given"] = layout == 1
    swapped = flags["swap"] = layout == 2
    display = np.where(family_first, join(family, given), join(given, family))
    given, family = (
        np.where(layout == 1, display, np.where(swapped, family, given)).astype(object),
        np.where(layout == 1, "", np.where(swapped, given, family)).astype(object),
    )

    upper = hit("upper_case")
    given, family, other = (apply_where(f, upper, str.upper) for f in (given, family, other))
    given = np.where(hit("given_missing"), "", given).astype(object)
    family = np.where(hit("family_missing"), "", family).astype(object)
    names = {"given_name": given, "family_name": family, "other_names": other}
    if full_names:
        in_order = np.where(family_first & ~swapped, join(family, given), join(given, family))
        return Rendered(fields={**names, "full_name": in_order}, flags=flags)

    dob_rates = np.stack(
        [
            rate(noise.dob_missing),
            rate(noise.dob_year_only),
            rate(noise.dob_year_month),
            rate(noise.dob_off_by_year),
            rate(noise.dob_day_month_swap),
            rate(noise.dob_estimated),
        ],
        axis=1,
    )
    dob, flags["dob_kind"] = render_dates(pop.dob[person], rng, dob_rates)
    sex, flags["sex_kind"] = _render_sex(pop.female[person], rate, noise, rng)
    nationality, flags["nationality_kind"] = _render_nationality(nat, rate, noise, rng)
    origin = np.where(hit("origin_missing"), "", text[:, SLOT_ORIGIN]).astype(object)
    return Rendered(
        fields={
            **names,
            "sex": sex,
            "date_of_birth": dob,
            "nationality": nationality,
            "place_of_origin": origin,
        },
        flags=flags,
    )


def _native_full_name(
    pop: Population, person: np.ndarray, tok: np.ndarray, nat: np.ndarray
) -> np.ndarray:
    """The full name in native script, in the person's display order."""
    native_text = LEXICON.forms[tok[:, :5], 0]
    sep = np.where(_NO_SPACE[nat], "", " ").astype(object)
    given = join(join(native_text[:, 0], native_text[:, 1], sep), native_text[:, 2], sep)
    family = join(native_text[:, 3], native_text[:, 4], " ")
    return np.where(pop.family_first[person], join(family, given), join(given, family))


def _render_sex(
    female: np.ndarray,
    rate: Callable[[float], np.ndarray],
    noise: NoiseConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    true = np.where(female, "F", "M").astype(object)
    flipped = np.where(female, "M", "F").astype(object)
    kind = pick_category(
        rng,
        np.stack([rate(noise.sex_missing), rate(noise.sex_unknown), rate(noise.sex_wrong)], axis=1),
    )
    return np.select([kind == 1, kind == 2, kind == 3], ["", "X", flipped], true).astype(
        object
    ), kind


def _render_nationality(
    nat: np.ndarray,
    rate: Callable[[float], np.ndarray],
    noise: NoiseConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array(NATIONALITIES, dtype=object)
    confused = np.array([CONFUSED_NATIONALITY[c] for c in NATIONALITIES], dtype=object)
    kind = pick_category(
        rng, np.stack([rate(noise.nationality_missing), rate(noise.nationality_wrong)], axis=1)
    )
    return np.select([kind == 1, kind == 2], ["", confused[nat]], codes[nat]).astype(object), kind


# ------------------------------------------------------------------- dates


def ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of datetime64[D] values."""
    months = dates.astype("datetime64[M]")
    years = dates.astype("datetime64[Y]")
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    return years.astype(np.int64) + 1970, month, day


def from_ymd(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] from parts; days past the month's end are clamped."""
    months = ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]")
    start = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - start).astype(np.int64)
    return start + (np.minimum(day, length) - 1).astype("timedelta64[D]")


def render_dates(
    dates: np.ndarray, rng: np.random.Generator, rates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Write dates as registers do, with partial and wrong dates.

    Args:
        dates: (R,) datetime64[D] true dates.
        rng: random generator.
        rates: (R, k) probabilities of the first k of: missing, year only,
            year-month, off by one year, day/month swapped (only where the
            day is 1-12 and differs from the month), estimated
            (``YYYY-01-01`` from an estimated age, year off by up to two).

    Returns:
        (R,) object array of ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or "";
        and the (R,) int8 kind actually applied (``DATE_*``).
    """
    n = dates.shape[0]
    kind = pick_category(rng, rates)
    year, month, day = ymd(dates)
    step = np.where(rng.random(n) < 0.5, -1, 1)
    estimate = rng.choice([-2, -1, 0, 1, 2], size=n, p=[0.1, 0.25, 0.3, 0.25, 0.1])
    kind = np.where((kind == DATE_SWAP) & ~((day <= 12) & (day != month)), DATE_EXACT, kind).astype(
        np.int8
    )
    ones = np.ones_like(month)
    written = np.select(
        [kind == DATE_OFF_BY_YEAR, kind == DATE_SWAP, kind == DATE_ESTIMATED],
        [
            from_ymd(year + step, month, day),
            from_ymd(year, day, month),
            from_ymd(year + estimate, ones, ones),
        ],
        dates,
    )
    out = np.select(
        [kind == DATE_MISSING, kind == DATE_YEAR, kind == DATE_YEAR_MONTH],
        [
            "",
            np.datetime_as_string(dates, unit="Y").astype(object),
            np.datetime_as_string(dates, unit="M").astype(object),
        ],
        np.datetime_as_string(written, unit="D").astype(object),
    )
    return out.astype(object), kind
