"""Record noise: the rates (``NoiseConfig``) and the corruption functions.

Every rate is a probability per record (or per field / name part where the
field says so). ``docs/synthetic-data.md`` gives each default and the reason
for it. The functions here are pure: random draws are made by the caller with
numpy and passed in, so the output depends only on the seed.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synth.lexemes import strip_latin_diacritics


@dataclass(frozen=True)
class NoiseConfig:
    """Per-record noise rates (probabilities in [0, 1]).

    Name fields:
        native_script: multiplier on each agency's native-script rate (how
            often it writes a name in Thai/Khmer/Myanmar/Lao script, or with
            Vietnamese/Filipino diacritics, rather than romanised).
        respell: per name part, a romanisation other than the person's usual
            one (Somchai written Somchay).
        phonetic: per name field, a sound-alike respelling (ph/p, ee/i, w/v).
        typo: per name field, one keyboard slip (insert, delete, substitute
            with a neighbouring key, transpose).
        diacritics_dropped: per name field that has diacritics, all dropped.
        swap: given and family name exchanged.
        full_name_in_given: the whole name in ``given_name``, family empty.
        name_split: a person without a family name (Burmese, most
            Indonesians) gets the last part of the name as family name.
        single_name: only one name part recorded, family name empty.
        honorific: an honorific or title prefixed (Ma, Daw, U, Mr.);
            weighted by nationality (``population.HONORIFIC_WEIGHT``).
        middle_full: Filipino middle name written in full into given_name.
        middle_initial: Filipino middle name as an initial (``C.``).
        no_space: a multi-part romanised name written as one word.
        upper_case: names written in capitals (passport style).
        alias_recorded: a person's alias or nickname recorded in other_names.
        native_in_other_names: a romanised record also notes the native
            spelling of the name in other_names.
        given_missing: given_name empty.
        family_missing: family_name empty.

    Date of birth (at most one of these per record):
        dob_missing, dob_year_only (``YYYY``), dob_year_month (``YYYY-MM``),
        dob_off_by_year (year +-1), dob_day_month_swap (where the day is at
        most 12 and differs from the month), dob_estimated (``YYYY-01-01``
        from an estimated age, year off by up to two).

    Other fields:
        sex_missing, sex_unknown (``X``), sex_wrong, nationality_missing,
        nationality_wrong (a neighbouring country), origin_missing,
        origin_variant (another spelling of the place).
    """

    native_script: float = 1.0
    respell: float = 0.07
    phonetic: float = 0.04
    typo: float = 0.05
    diacritics_dropped: float = 0.30
    swap: float = 0.05
    full_name_in_given: float = 0.04
    name_split: float = 0.25
    single_name: float = 0.03
    honorific: float = 0.12
    middle_full: float = 0.25
    middle_initial: float = 0.15
    no_space: float = 0.03
    upper_case: float = 0.08
    alias_recorded: float = 0.50
    native_in_other_names: float = 0.05
    given_missing: float = 0.01
    family_missing: float = 0.04
    dob_missing: float = 0.05
    dob_year_only: float = 0.04
    dob_year_month: float = 0.03
    dob_off_by_year: float = 0.03
    dob_day_month_swap: float = 0.03
    dob_estimated: float = 0.05
    sex_missing: float = 0.04
    sex_unknown: float = 0.005
    sex_wrong: float = 0.005
    nationality_missing: float = 0.05
    nationality_wrong: float = 0.02
    origin_missing: float = 0.20
    origin_variant: float = 0.25

    def scaled(self, factor: float) -> NoiseConfig:
        """Every rate multiplied by ``factor`` (probabilities capped at 0.9).

        ``native_script`` is a multiplier, not a probability, and is scaled
        without a cap.
        """
        values = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name) * factor
            values[f.name] = value if f.name == "native_script" else min(value, 0.9)
        return NoiseConfig(**values)

    def with_updates(self, **changes: float) -> NoiseConfig:
        """A copy with some rates replaced (unknown names raise ValueError)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown noise setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


#: Named noise presets. ``clean`` has no noise at all (each person's records
#: are identical); ``hard`` doubles every default rate.
PRESETS: dict[str, NoiseConfig] = {
    "clean": NoiseConfig().scaled(0.0),
    "default": NoiseConfig(),
    "hard": NoiseConfig().scaled(2.0),
}


def preset(name: str) -> NoiseConfig:
    """Return the named noise preset (``clean``, ``default`` or ``hard``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown noise preset (choose from {', '.join(PRESETS)})") from None


# ------------------------------------------------------------------ typos

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Keys next to each letter on a QWERTY keyboard (same and adjacent rows)."""
    where = {c: (row, col) for row, keys in enumerate(_QWERTY_ROWS) for col, c in enumerate(keys)}
    near: dict[str, str] = {}
    for c, (row, col) in where.items():
        near[c] = "".join(
            o
            for o, (orow, ocol) in where.items()
            if o != c and abs(orow - row) <= 1 and abs(ocol - col + (orow - row) * 0.5) <= 1
        )
    return near


QWERTY_NEIGHBOURS = _qwerty_neighbours()

# Thai consonants that sound alike and are confused in spelling (several
# letters for s, th, t, d, ph, kh, ch, n, l, y), and the two common tone marks.
_THAI_CONFUSABLE = ("สศษซ", "ทธฑฒถฐ", "ตฏ", "ดฎ", "พภผ", "ขฃคฅฆ", "ชฌฉ", "นณ", "ลฬ", "ยญ", "่้")
THAI_CONFUSABLE = {c: g.replace(c, "") for g in _THAI_CONFUSABLE for c in g}


def _neighbour(char: str, u: float) -> str:
    """A plausible wrong character for ``char`` (``u`` in [0, 1) picks one)."""
    lower = char.lower()
    if lower in QWERTY_NEIGHBOURS:
        options = QWERTY_NEIGHBOURS[lower]
        pick = options[int(u * len(options))]
        return pick.upper() if char.isupper() else pick
    if char in THAI_CONFUSABLE:
        options = THAI_CONFUSABLE[char]
        return options[int(u * len(options))]
    # Other scripts: a neighbouring letter of the same kind in the same block.
    step = -1 if u < 0.5 else 1
    candidate = chr(ord(char) + step)
    if unicodedata.category(candidate) == unicodedata.category(char):
        return candidate
    return char


TYPO_OPS = ("insert", "delete", "substitute", "transpose")


def typo(text: str, op: int, u_pos: float, u_char: float) -> str:
    """Apply one typing error to ``text``.

    Args:
        text: the value.
        op: index into ``TYPO_OPS``.
        u_pos: uniform [0, 1) choosing the position.
        u_char: uniform [0, 1) choosing the wrong character.

    Returns:
        The value with one insertion, deletion, substitution or transposition
        (never at a space, never emptying the value).
    """
    positions = [i for i, c in enumerate(text) if not c.isspace() and c not in ".-"]
    if not positions:
        return text
    i = positions[int(u_pos * len(positions))]
    chars = list(text)
    kind = TYPO_OPS[op]
    if kind == "delete" and len(positions) > 1:
        del chars[i]
    elif kind == "insert":
        chars.insert(i, _neighbour(chars[i], u_char))
    elif kind == "transpose" and i + 1 < len(chars) and not chars[i + 1].isspace():
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        chars[i] = _neighbour(chars[i], u_char)
    # Deleting a one-letter part ("U Hein") must not leave a stray space.
    return " ".join("".join(chars).split())


# ------------------------------------------------------ phonetic respelling

# Sound-alike spellings seen across South-East Asian romanisations (both
# directions): aspiration marks, long vowels, final -ai/-ay, w/v, Dutch-era
# Indonesian spelling, doubled finals.
PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    ("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "j"), ("j", "ch"),
    ("ee", "i"), ("oo", "u"), ("ou", "u"), ("u", "ou"), ("ai", "ay"),
    ("ay", "ai"), ("w", "v"), ("v", "w"), ("ae", "e"), ("ie", "i"),
    ("dj", "j"), ("oe", "u"), ("tj", "c"), ("x", "s"), ("y", "i"),
    ("c", "k"), ("k", "c"), ("nn", "n"), ("ng", "n"), ("r", ""),
)  # fmt: skip


def phonetic(text: str, u_rule: float) -> str:
    """Respell ``text`` by one sound-alike rule (``u_rule`` picks the rule).

    Only Latin-script values change; the first applicable rule after the
    picked one is used, at its first occurrence, keeping capitalisation.
    """
    if not text.isascii():
        return text
    lower = text.lower()
    start = int(u_rule * len(PHONETIC_RULES))
    for k in range(len(PHONETIC_RULES)):
        old, new = PHONETIC_RULES[(start + k) % len(PHONETIC_RULES)]
        at = lower.find(old)
        # Dropping r only at the end of a word (Yadanar -> Yadana).
        if old == "r":
            at = lower.rfind("r")
            if (
                at < 1
                or lower[at - 1] not in "aeiou"
                or (at + 1 < len(lower) and lower[at + 1].isalpha())
            ):
                continue
        if at < 0:
            continue
        replacement = new.capitalize() if text[at].isupper() else new
        return text[:at] + replacement + text[at + len(old) :]
    return text


# ------------------------------------------------------------ diacritics


@lru_cache(maxsize=65536)
def strip_diacritics(text: str) -> str:
    """Drop Latin diacritics only (cached: the set of distinct values is small)."""
    return strip_latin_diacritics(text)


# -------------------------------------------------------- array helpers


def apply_where(
    values: np.ndarray,
    mask: np.ndarray,
    fn: Callable[..., str],
    *args: np.ndarray,
) -> np.ndarray:
    """Return ``values`` with ``fn(value, *args[i])`` applied where ``mask``.

    Args:
        values: (R,) object array of strings.
        mask: (R,) bool array.
        fn: the per-value function.
        *args: (R,) arrays of extra per-record arguments (random draws).
    """
    out = values.copy()
    rows = np.flatnonzero(mask & (values != ""))
    picked = [a[rows].tolist() for a in args]
    out[rows] = [fn(v, *extra) for v, *extra in zip(values[rows].tolist(), *picked, strict=True)]
    return out


def join(left: np.ndarray, right: np.ndarray, sep: np.ndarray | str = " ") -> np.ndarray:
    """Join two object arrays of strings elementwise, skipping empty sides."""
    both = left + sep + right
    return np.where(left == "", right, np.where(right == "", left, both))


def pick_category(rng: np.random.Generator, rates: np.ndarray) -> np.ndarray:
    """Draw one mutually exclusive category per record.

    Args:
        rng: the random generator.
        rates: (R, k) probabilities of categories 1..k for each record;
            category 0 (no noise) gets the rest. Rows summing to more than
            one are normalised.

    Returns:
        (R,) int8 category codes in 0..k.
    """
    edges = np.cumsum(rates, axis=1)
    total = edges[:, -1:]
    edges = np.where(total > 1.0, edges / np.maximum(total, 1e-12), edges)
    slot = (rng.random(rates.shape[0])[:, None] >= edges).sum(axis=1)
    # Draws below the first edge are category 1, ..., above the last are 0.
    return ((slot + 1) % (rates.shape[1] + 1)).astype(np.int8)
