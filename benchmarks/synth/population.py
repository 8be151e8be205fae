"""The hidden population: who the victims are and how their names are built.

Every person gets a nationality, sex, date of birth, place of origin, form of
exploitation, a latent visibility, and a name stored as lexeme ids in fixed
slots (see ``SLOT_*``). Rendering a record later picks a spelling for each
slot; the person's own name never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from synth import names as nm
from synth.names import LEXICON

# Slot layout of ``Population.tokens`` (one lexeme id per slot; 0 = unused).
SLOT_GIVEN = (0, 1, 2)
SLOT_FAMILY = (3, 4)
SLOT_MIDDLE = 5  # Filipino middle name (mother's maiden surname)
SLOT_HONORIFIC = 6
SLOT_ALIAS = (7, 8)
SLOT_ORIGIN = 9
N_SLOTS = 10

#: ISO 3166-1 alpha-3 codes, in the order used by ``Population.nationality``.
NATIONALITIES: tuple[str, ...] = ("THA", "KHM", "MMR", "LAO", "VNM", "IDN", "PHL", "MYS")

#: Native scripts that write a name's parts without spaces (Thai, Khmer,
#: Myanmar, Lao); romanised and Vietnamese names separate parts with spaces.
NO_SPACE_SCRIPT = frozenset({"THA", "KHM", "MMR", "LAO"})

#: How often an honorific is prefixed, relative to the noise rate: Burmese
#: names nearly always carry one in speech, Thai and Lao titles less often.
HONORIFIC_WEIGHT: Mapping[str, float] = {"MMR": 2.0, "THA": 0.5, "LAO": 0.5}

#: Forms of exploitation (CONTRACT ``exploitation_type`` values).
EXPLOITATION: tuple[str, ...] = (
    "sexual",
    "labour",
    "forced_marriage",
    "forced_criminality",
    "organ_removal",
    "other",
)
# Share of each form among identified victims in the region, and the share of
# women within it (sexual exploitation and forced marriage mostly women,
# fishing/construction labour and scam-compound criminality mostly men).
_EXPLOITATION_SHARE = np.array([0.32, 0.48, 0.06, 0.10, 0.005, 0.035])
_FEMALE_SHARE = np.array([0.92, 0.35, 0.97, 0.40, 0.30, 0.60])


@dataclass(frozen=True)
class Population:
    """The hidden population (known truth), one row per person.

    Attributes:
        nationality: (N,) int8 index into ``NATIONALITIES``.
        female: (N,) bool.
        dob: (N,) datetime64[D] true date of birth.
        age: (N,) float64 age in years at the reference date.
        exploitation: (N,) int8 index into ``EXPLOITATION``.
        visibility: (N,) float64 latent visibility (log-odds scale).
        tokens: (N, N_SLOTS) int32 lexeme ids of the name and origin slots.
        usual: (N, N_SLOTS) int8 the person's usual romanisation per slot.
        family_first: (N,) bool, the name is said family name first.
    """

    nationality: np.ndarray
    female: np.ndarray
    dob: np.ndarray
    age: np.ndarray
    exploitation: np.ndarray
    visibility: np.ndarray
    tokens: np.ndarray
    usual: np.ndarray
    family_first: np.ndarray

    @property
    def size(self) -> int:
        """Number of people."""
        return int(self.nationality.shape[0])


def _choose(
    rng: np.random.Generator, pool: np.ndarray, n: int, p: np.ndarray | None = None
) -> np.ndarray:
    """Draw ``n`` lexeme ids from ``pool`` (uniform unless ``p`` is given)."""
    return pool[rng.choice(pool.shape[0], size=n, p=p)]


def _by_sex(
    rng: np.random.Generator, female: np.ndarray, pool_f: np.ndarray, pool_m: np.ndarray
) -> np.ndarray:
    """Draw one lexeme per person from the pool for their sex."""
    n = female.shape[0]
    return np.where(female, _choose(rng, pool_f, n), _choose(rng, pool_m, n))


def _zipf_weights(k: int, exponent: float = 0.7) -> np.ndarray:
    """Skewed frequencies: a few family names are very common, most rare."""
    w = 1.0 / np.arange(1, k + 1) ** exponent
    return w / w.sum()


_P = LEXICON.pool
_ID = LEXICON.id_of

_THA = {
    "gf": _P(nm.THA_GIVEN_F),
    "gm": _P(nm.THA_GIVEN_M),
    "fam": _P(nm.THA_FAMILY),
    "nick": _P(nm.THA_NICK),
    "places": _P(nm.THA_PLACES),
}
_KHM = {
    "gf": _P(nm.KHM_GIVEN_F),
    "gm": _P(nm.KHM_GIVEN_M),
    "fam": _P(nm.KHM_FAMILY),
    "places": _P(nm.KHM_PLACES),
}
_MMR = {"sf": _P(nm.MMR_SYLL_F), "sm": _P(nm.MMR_SYLL_M), "places": _P(nm.MMR_PLACES)}
_LAO = {
    "gf": _P(nm.LAO_GIVEN_F),
    "gm": _P(nm.LAO_GIVEN_M),
    "fam": _P(nm.LAO_FAMILY),
    "places": _P(nm.LAO_PLACES),
}
_VNM = {
    "gf": _P(nm.VNM_GIVEN_F),
    "gm": _P(nm.VNM_GIVEN_M),
    "fam": _P(nm.VNM_FAMILY),
    "mid": _P(nm.VNM_MIDDLE_OTHER),
    "places": _P(nm.VNM_PLACES),
}
_IDN = {
    "gf": _P(nm.IDN_GIVEN_F),
    "gm": _P(nm.IDN_GIVEN_M),
    "fam": _P(nm.IDN_FAMILY),
    "places": _P(nm.IDN_PLACES),
}
_PHL = {
    "gf": _P(nm.PHL_GIVEN_F),
    "gm": _P(nm.PHL_GIVEN_M),
    "fam": _P(nm.PHL_FAMILY),
    "nick": _P(nm.PHL_NICK),
    "places": _P(nm.PHL_PLACES),
}
_MYS = {
    "mf": _P(nm.MYS_MALAY_GIVEN_F),
    "mm": _P(nm.MYS_MALAY_GIVEN_M),
    "cfam": _P(nm.MYS_CHINESE_FAMILY),
    "csyl": _P(nm.MYS_CHINESE_SYLL),
    "eng": _P(nm.MYS_ENGLISH),
    "places": _P(nm.MYS_PLACES),
}


def _with_prob(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    """Keep each value with probability ``p``; the rest become 0 (empty)."""
    return np.where(rng.random(values.shape[0]) < p, values, 0)


def _names_tha(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    tok[:, 0] = _by_sex(rng, female, _THA["gf"], _THA["gm"])
    tok[:, 3] = _choose(rng, _THA["fam"], n)
    title_f = np.where(age < 30, _ID(nm.THA_TITLE_MISS), _ID(nm.THA_TITLE_MRS))
    tok[:, SLOT_HONORIFIC] = np.where(female, title_f, _ID(nm.THA_TITLE_M))
    # Nearly every Thai has a nickname; registers note it as an alias.
    tok[:, 7] = _with_prob(rng, _choose(rng, _THA["nick"], n), 0.7)
    tok[:, SLOT_ORIGIN] = _choose(rng, _THA["places"], n)


def _names_khm(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    tok[:, 0] = _by_sex(rng, female, _KHM["gf"], _KHM["gm"])
    tok[:, 3] = _choose(rng, _KHM["fam"], n, _zipf_weights(_KHM["fam"].shape[0]))
    tok[:, 7] = _with_prob(rng, _by_sex(rng, female, _KHM["gf"], _KHM["gm"]), 0.12)
    tok[:, SLOT_ORIGIN] = _choose(rng, _KHM["places"], n)
    ff[:] = True


def _names_mmr(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    # One to three syllables, mostly from the pool for the person's sex.
    parts = rng.choice([1, 2, 3], size=n, p=[0.12, 0.58, 0.30])
    for k in range(3):
        own = _by_sex(rng, female, _MMR["sf"], _MMR["sm"])
        other = _by_sex(rng, ~female, _MMR["sf"], _MMR["sm"])
        syl = np.where(rng.random(n) < 0.1, other, own)
        tok[:, k] = np.where(parts > k, syl, 0)
    # Reduplicated names (Aye Aye, Khin Khin) are common.
    redup = (parts == 2) & (rng.random(n) < 0.15)
    tok[redup, 1] = tok[redup, 0]
    karen = rng.random(n) < 0.1
    hon_f = np.where(karen, _ID(nm.MMR_NAW), np.where(age < 30, _ID(nm.MMR_MA), _ID(nm.MMR_DAW)))
    hon_m = np.where(
        karen,
        _ID(nm.MMR_SAW),
        np.where(age < 20, _ID(nm.MMR_MAUNG), np.where(age < 40, _ID(nm.MMR_KO), _ID(nm.MMR_U))),
    )
    tok[:, SLOT_HONORIFIC] = np.where(female, hon_f, hon_m)
    nick = _with_prob(rng, _by_sex(rng, female, _MMR["sf"], _MMR["sm"]), 0.25)
    tok[:, 7] = nick
    tok[:, 8] = nick
    tok[:, SLOT_ORIGIN] = _choose(rng, _MMR["places"], n)


def _names_lao(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    tok[:, 0] = _by_sex(rng, female, _LAO["gf"], _LAO["gm"])
    tok[:, 3] = _choose(rng, _LAO["fam"], n)
    tok[:, SLOT_HONORIFIC] = np.where(female, _ID(nm.LAO_NANG), _ID(nm.LAO_THAO))
    tok[:, 7] = _with_prob(rng, _by_sex(rng, female, _LAO["gf"], _LAO["gm"]), 0.12)
    tok[:, SLOT_ORIGIN] = _choose(rng, _LAO["places"], n)


def _names_vnm(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    # About four in ten Vietnamese are Nguyễn; the rest follow a steep curve.
    fam_w = _zipf_weights(_VNM["fam"].shape[0], 1.4)
    tok[:, 3] = _choose(rng, _VNM["fam"], n, fam_w)
    u = rng.random(n)
    gendered = np.where(female, _ID(nm.VNM_MIDDLE_F), _ID(nm.VNM_MIDDLE_M))
    share = np.where(female, 0.65, 0.55)
    middle = np.where(u < share, gendered, _choose(rng, _VNM["mid"], n))
    middle = np.where(u > 0.9, 0, middle)
    given = _by_sex(rng, female, _VNM["gf"], _VNM["gm"])
    second = _with_prob(rng, _by_sex(rng, female, _VNM["gf"], _VNM["gm"]), 0.1)
    has_mid = middle != 0
    tok[:, 0] = np.where(has_mid, middle, given)
    tok[:, 1] = np.where(has_mid, given, second)
    tok[:, 2] = np.where(has_mid, second, 0)
    tok[:, 7] = _with_prob(rng, _by_sex(rng, female, _VNM["gf"], _VNM["gm"]), 0.08)
    tok[:, SLOT_ORIGIN] = _choose(rng, _VNM["places"], n)
    ff[:] = True


def _names_idn(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    u = rng.random(n)
    tok[:, 0] = _by_sex(rng, female, _IDN["gf"], _IDN["gm"])
    # 55% a single name, 30% two names, 15% a family name too.
    two = (u >= 0.55) & (u < 0.85)
    tok[:, 1] = np.where(two, _by_sex(rng, female, _IDN["gf"], _IDN["gm"]), 0)
    tok[:, 3] = np.where(u >= 0.85, _choose(rng, _IDN["fam"], n), 0)
    tok[:, SLOT_ORIGIN] = _choose(rng, _IDN["places"], n)


def _names_phl(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    tok[:, 0] = _by_sex(rng, female, _PHL["gf"], _PHL["gm"])
    tok[:, 1] = _with_prob(rng, _by_sex(rng, female, _PHL["gf"], _PHL["gm"]), 0.35)
    fam_w = _zipf_weights(_PHL["fam"].shape[0], 0.6)
    tok[:, 3] = _choose(rng, _PHL["fam"], n, fam_w)
    tok[:, SLOT_MIDDLE] = _with_prob(rng, _choose(rng, _PHL["fam"], n, fam_w), 0.9)
    tok[:, 7] = _with_prob(rng, _choose(rng, _PHL["nick"], n), 0.3)
    tok[:, SLOT_ORIGIN] = _choose(rng, _PHL["places"], n)


def _names_mys(
    rng: np.random.Generator, female: np.ndarray, age: np.ndarray, tok: np.ndarray, ff: np.ndarray
) -> None:
    n = female.shape[0]
    chinese = rng.random(n) < 0.3
    # Malay: given name(s) and a patronymic (bin/binti + father's given name).
    first_m = np.where(
        rng.random(n) < 0.4, _ID(nm.MYS_MALAY_GIVEN_M[0]), _choose(rng, _MYS["mm"], n)
    )
    first = np.where(female, _choose(rng, _MYS["mf"], n), first_m)
    second = _with_prob(rng, _by_sex(rng, female, _MYS["mf"], _MYS["mm"]), 0.8)
    father = _choose(rng, _MYS["mm"][1:], n)
    link = np.where(female, _ID(nm.MYS_BINTI), _ID(nm.MYS_BIN))
    # Chinese Malaysian: family name first, two given syllables, English name.
    c_fam = _choose(rng, _MYS["cfam"], n, _zipf_weights(_MYS["cfam"].shape[0]))
    c_g1 = _choose(rng, _MYS["csyl"], n)
    c_g2 = _choose(rng, _MYS["csyl"], n)
    tok[:, 0] = np.where(chinese, c_g1, first)
    tok[:, 1] = np.where(chinese, c_g2, second)
    tok[:, 3] = np.where(chinese, c_fam, link)
    tok[:, 4] = np.where(chinese, 0, father)
    tok[:, 7] = np.where(chinese, _with_prob(rng, _choose(rng, _MYS["eng"], n), 0.4), 0)
    tok[:, SLOT_ORIGIN] = _choose(rng, _MYS["places"], n)
    ff[:] = chinese


# Each builder fills the name and origin slots ``tok`` (and ``ff``, family
# name said first) in place for people of one nationality.
_BUILDERS: dict[str, Callable[..., None]] = {
    "THA": _names_tha,
    "KHM": _names_khm,
    "MMR": _names_mmr,
    "LAO": _names_lao,
    "VNM": _names_vnm,
    "IDN": _names_idn,
    "PHL": _names_phl,
    "MYS": _names_mys,
}


def _ages(rng: np.random.Generator, n: int, minor_share: float) -> np.ndarray:
    """Ages at identification: some minors (12-17), adults skewed young."""
    minor = rng.random(n) < minor_share
    adult = 18.0 + np.minimum(rng.gamma(2.0, 6.0, size=n), 47.0)
    return np.where(minor, rng.uniform(12.0, 18.0, size=n), adult)


def build_population(
    n: int,
    nationality_mix: Mapping[str, float],
    rng: np.random.Generator,
    *,
    reference_date: str = "2024-06-30",
    minor_share: float = 0.2,
    heterogeneity: float = 1.0,
    spelling_variant: float = 0.2,
) -> Population:
    """Draw the hidden population.

    Args:
        n: number of people.
        nationality_mix: share of each nationality (ISO alpha-3 keys from
            ``NATIONALITIES``); normalised here.
        rng: the random generator (the only source of randomness).
        reference_date: the date at which ages are taken.
        minor_share: share of children (12-17) among victims.
        heterogeneity: standard deviation of the latent visibility.
        spelling_variant: share of name parts whose usual romanisation (the
            person's passport spelling, say) is not the most common one.

    Returns:
        The population.
    """
    codes = [c for c in NATIONALITIES if nationality_mix.get(c, 0.0) > 0]
    weights = np.array([nationality_mix[c] for c in codes], dtype=float)
    nat_local = rng.choice(len(codes), size=n, p=weights / weights.sum())
    nationality = np.array([NATIONALITIES.index(c) for c in codes], dtype=np.int8)[nat_local]
    exploitation = rng.choice(len(EXPLOITATION), size=n, p=_EXPLOITATION_SHARE).astype(np.int8)
    female = rng.random(n) < _FEMALE_SHARE[exploitation]
    age = _ages(rng, n, minor_share)
    days_old = np.floor(age * 365.25).astype(np.int64)
    dob = np.datetime64(reference_date, "D") - days_old.astype("timedelta64[D]")
    visibility = rng.normal(0.0, heterogeneity, size=n)

    tokens = np.zeros((n, N_SLOTS), dtype=np.int32)
    family_first = np.zeros(n, dtype=bool)
    for code_index, code in enumerate(NATIONALITIES):
        rows = np.flatnonzero(nationality == code_index)
        if rows.size == 0:
            continue
        tok = np.zeros((rows.size, N_SLOTS), dtype=np.int32)
        ff = np.zeros(rows.size, dtype=bool)
        _BUILDERS[code](rng, female[rows], age[rows], tok, ff)
        tokens[rows] = tok
        family_first[rows] = ff

    n_roman = LEXICON.n_roman[tokens].astype(np.int64)
    alt = (rng.random(tokens.shape) * n_roman).astype(np.int8)
    usual = np.where(rng.random(tokens.shape) < spelling_variant, alt, 0).astype(np.int8)
    return Population(
        nationality=nationality,
        female=female,
        dob=dob,
        age=age,
        exploitation=exploitation,
        visibility=visibility,
        tokens=tokens,
        usual=usual,
        family_first=family_first,
    )
