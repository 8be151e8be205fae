"""Lexemes: one name part (or place name) with its native and romanised spellings.

A lexeme is the unit the generator picks and renders: a Thai given name, a
Burmese name syllable, a Filipino compound surname, a province. It carries its
native-script form (Thai, Khmer, Myanmar, Lao script, or the Vietnamese /
Filipino spelling with diacritics) where one exists, and the romanised
spellings seen in registers, the usual one first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Lexeme:
    """One name part with its spellings.

    Attributes:
        roman: romanised spellings; the first is the most common one.
        native: the native-script (or diacritic) spelling, or None where the
            romanised form is the native one.
    """

    roman: tuple[str, ...]
    native: str | None = None


@lru_cache(maxsize=4096)
def _latin_base(char: str) -> str:
    """Return ``char`` without diacritics if it is a Latin letter, else ``char``.

    Only Latin letters are decomposed: Thai, Lao, Khmer and Myanmar vowel signs
    and tone marks are combining characters too, and must never be dropped.
    """
    if char in "đĐ":
        # Vietnamese d-with-stroke has no decomposition; registers write d/D.
        return "d" if char == "đ" else "D"
    code = ord(char)
    if code < 0x80 or not (code < 0x250 or 0x1E00 <= code <= 0x1EFF):
        return char
    decomposed = unicodedata.normalize("NFD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def strip_latin_diacritics(text: str) -> str:
    """Drop diacritics from Latin letters only (``Nguyễn Thị`` -> ``Nguyen Thi``).

    Args:
        text: any string; non-Latin scripts pass through unchanged.

    Returns:
        The string with Latin diacritics removed.
    """
    if text.isascii():
        return text
    return "".join(_latin_base(c) for c in text)


def s(native: str, *roman: str) -> Lexeme:
    """A lexeme with a native-script spelling and romanisations (usual first)."""
    return Lexeme(roman=tuple(roman), native=native)


def r(*roman: str) -> Lexeme:
    """A lexeme written in Latin script only (usual spelling first)."""
    return Lexeme(roman=tuple(roman))


def d(native: str, *extra: str) -> Lexeme:
    """A Latin lexeme with diacritics; its first romanisation drops them.

    Args:
        native: the spelling with diacritics (``Nguyễn``, ``Dela Peña``).
        *extra: further romanised variants besides the stripped form.
    """
    plain = strip_latin_diacritics(native)
    spellings = (plain, *(e for e in extra if e != plain))
    if native == plain:
        return Lexeme(roman=spellings)
    return Lexeme(roman=spellings, native=native)


def compound(parts: tuple[Lexeme, Lexeme], max_variants: int = 4) -> Lexeme:
    """Join two lexemes into one word (Thai and Lao surnames are compounds).

    The usual spelling joins the usual spellings; variants combine the parts'
    variants, first part varying first, up to ``max_variants`` spellings.
    """
    first, second = parts
    spellings: list[str] = []
    for b in second.roman:
        for a in first.roman:
            word = (a + b.lower()).capitalize()
            if word not in spellings:
                spellings.append(word)
    native = None
    if first.native is not None and second.native is not None:
        native = first.native + second.native
    return Lexeme(roman=tuple(spellings[:max_variants]), native=native)
