"""Tokens: what is hashed into the Bloom filter for a formatted value.

clkhash's comparisons (bit-identical):

* ``ngram``: the value padded with ``n - 1`` spaces on each side, cut into
  n-grams; positional n-grams are prefixed with their 1-based position and a
  space;
* ``exact``: the whole value as one token (nothing for an empty value);
* ``numeric`` (Vatsalan and Christen 2015): the value scaled by
  ``10 ** fractional_precision``, multiplied by ``2 * resolution``, rounded
  to the nearest multiple of the threshold distance, and the ``2 *
  resolution + 1`` neighbours of that grid point.

tiplink's extension tokens:

* ``nameParts``: every word of every name column, each cut into padded
  n-grams (so word order, swapped given and family names, and a full name in
  one field do not matter), plus optional phonetic codes of each word;
* ``partialDate``: year, neighbouring years, month, day, the unordered
  day-month pair and the full date, so that ``YYYY`` and ``YYYY-MM`` give
  partial credit, off-by-one years partial credit, and day-month swaps agree
  on the pair;
* ``exactValue``: the normalised value as one token.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jellyfish

from tiplink.encoders.schema import Comparison, TokenSpec


def ngrams(word: str, n: int, positional: bool) -> list[str]:
    """clkhash's n-grams of ``word``."""
    if not word:
        return []
    if n > 1:
        pad = " " * (n - 1)
        word = f"{pad}{word}{pad}"
    count = len(word) - n + 1
    if positional:
        return [f"{i + 1} {word[i:i + n]}" for i in range(count)]
    if n == 2:
        return list(map(str.__add__, word, word[1:]))  # pairs of characters, at C speed
    return [word[i:i + n] for i in range(count)]


def numeric_tokens(word: str, comparison: Comparison) -> list[str]:
    """clkhash's numeric-neighbourhood tokens of ``word``.

    Raises:
        ValueError: ``word`` is not a number.
    """
    if not word:
        return []
    precision = comparison.fractional_precision
    interval = round(comparison.threshold_distance * 10 ** precision)
    try:
        value = int(word, 10)
        if precision > 0:
            value *= 10 ** precision
    except ValueError:
        as_float = float(word)
        value = round(as_float * 10 ** precision) if precision > 0 else int(as_float)
    resolution = comparison.resolution
    value *= 2 * resolution
    residue = value % interval
    if residue:
        value = value - residue if residue < interval / 2 else value + (interval - residue)
    return [str(value + i * interval) for i in range(-resolution, resolution + 1)]


def comparison_tokens(word: str, comparison: Comparison) -> list[str]:
    """Tokens of a formatted value under a clkhash comparison."""
    if comparison.type == "ngram":
        return ngrams(word, comparison.n, comparison.positional)
    if comparison.type == "exact":
        return [word] if word else []
    return numeric_tokens(word, comparison)


# --- tiplink extension tokens -------------------------------------------------

_CONSONANT_CLASSES = (
    # Romanisations of one sound across schemes (RTGS, ALA-LC, anyascii, folk).
    ("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "c"), ("sh", "s"), ("gh", "g"),
    ("j", "c"), ("z", "s"), ("x", "s"), ("q", "k"), ("v", "w"), ("f", "p"),
    # Voicing is not stable across scripts (Thida / သီတာ "thi ta").
    ("d", "t"), ("b", "p"), ("g", "k"),
)
_VOWELS = re.compile(r"[aeiouyhw']")
_REPEATS = re.compile(r"(.)\1+")


def consonant_skeleton(word: str) -> str:
    """A script-neutral phonetic key: consonant classes with vowels removed.

    Transliterated Thai omits inherent vowels (``สมชาย`` gives ``smchay``)
    where folk romanisation writes them (``Somchai``); both give ``smc``.
    """
    key = word.lower()
    for source, target in _CONSONANT_CLASSES:
        key = key.replace(source, target)
    key = _VOWELS.sub("", key)
    key = _REPEATS.sub(r"\1", key)
    return key or word[:1]


PHONETIC_CODES: dict[str, Callable[[str], str]] = {
    "metaphone": jellyfish.metaphone,
    "nysiis": jellyfish.nysiis,
    "soundex": jellyfish.soundex,
    "match_rating": jellyfish.match_rating_codex,
    "skeleton": consonant_skeleton,
}


def name_part_tokens(text: str, spec: TokenSpec) -> list[str]:
    """Tokens of every word of a (normalised) name string."""
    tokens: list[str] = []
    for word in dict.fromkeys(text.split()):
        tokens.extend(ngrams(word, spec.n, False))
        if spec.whole_part:
            tokens.append(f"={word}")
        for code in spec.phonetic:
            if word.isalpha() and word.isascii():
                tokens.append(f"~{code}:{PHONETIC_CODES[code](word)}")
    return tokens


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(text: str) -> tuple[int, int | None, int | None]:
    """Parse ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    Raises:
        ValueError: not one of those forms, or not a real date.
    """
    match = _DATE_RE.match(text.strip())
    if not match:
        raise ValueError("expected a date as YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise ValueError("month out of range (1-12)")
    if day is not None:
        import calendar

        assert month is not None
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise ValueError("day out of range for its month")
    if not 1800 <= year <= 2200:
        raise ValueError("year out of range (1800-2200)")
    return year, month, day


def partial_date_tokens(text: str, spec: TokenSpec) -> list[str]:
    """Tokens of a partial date (see the module docstring)."""
    if not text.strip():
        return []
    year, month, day = parse_partial_date(text)
    tokens = [f"Y{year}"]
    tokens += [f"W{year + offset}" for offset in range(-spec.year_window, spec.year_window + 1)]
    if month is not None:
        tokens.append(f"M{month:02d}")
        tokens.append(f"YM{year}-{month:02d}")
    if day is not None:
        assert month is not None
        tokens.append(f"D{day:02d}")
        if spec.swap_day_month:
            low, high = sorted((month, day))
            tokens.append(f"S{low:02d}-{high:02d}")
        tokens.append(f"YMD{year}-{month:02d}-{day:02d}")
    return tokens


def extension_tokens(text: str, spec: TokenSpec) -> list[str]:
    """Tokens of a normalised value under a tiplink token spec."""
    if spec.type == "nameParts":
        return name_part_tokens(text, spec)
    if spec.type == "partialDate":
        return partial_date_tokens(text, spec)
    return [text] if text else []
