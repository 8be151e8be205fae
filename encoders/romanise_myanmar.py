"""Romanisation of Burmese (Myanmar script) names, syllable by syllable.

Burmese is written without spaces between syllables, and Burmese personal
names are sequences of syllables that registers romanise one word per
syllable: လင်းမိုး is written *Lin Moe*, ကျော်ဇော် *Kyaw Zaw*,
မောင်မောင်ဝင်း *Maung Maung Win*. Letter-by-letter transliteration (as
anyascii does) gives ``lnmiu``, far from any spelling an agency would use.

This module splits the script into syllables (initial consonant, medials,
vowel, final consonant with asat, tone marks) and writes each in the
conventional spelling of names (the common "MLC-like" romanisation used on
Myanmar identity documents and by NGOs). Tones are dropped: registers rarely
mark them. It covers the letters and rhymes that occur in names; anything
else falls back to anyascii.
"""

from __future__ import annotations

import re

from anyascii import anyascii

_CONSONANTS = {
    "က": "k", "ခ": "kh", "ဂ": "g", "ဃ": "g", "င": "ng", "စ": "s", "ဆ": "hs", "ဇ": "z",
    "ဈ": "z", "ည": "ny", "ဉ": "ny", "ဋ": "t", "ဌ": "ht", "ဍ": "d", "ဎ": "d", "ဏ": "n",
    "တ": "t", "ထ": "ht", "ဒ": "d", "ဓ": "d", "န": "n", "ပ": "p", "ဖ": "ph", "ဗ": "b",
    "ဘ": "b", "မ": "m", "ယ": "y", "ရ": "y", "လ": "l", "ဝ": "w", "သ": "th", "ဟ": "h",
    "ဠ": "l", "အ": "",
}
_INDEPENDENT = {"ဣ": "i", "ဤ": "i", "ဥ": "u", "ဦ": "u", "ဧ": "e", "ဩ": "aw", "ဪ": "aw"}
_ASAT = "\u103a"
_VIRAMA = "\u1039"
_TONES = "\u1037\u1038"  # dot below, visarga
_MEDIAL_Y = "\u103b\u103c"
_MEDIAL_W = "\u103d"
_MEDIAL_H = "\u103e"
_KINZI_OR_ANUSVARA = "\u1036"

# Rhymes: (vowel signs, final consonant) -> spelling. The final is the
# consonant that carries the asat (or is stacked under a virama).
_RHYMES = {
    ("", ""): "a", ("ာ", ""): "a", ("ါ", ""): "a", ("ိ", ""): "i", ("ီ", ""): "i",
    ("ု", ""): "u", ("ူ", ""): "u", ("ေ", ""): "ay", ("ဲ", ""): "e", ("ော", ""): "aw",
    ("ေါ", ""): "aw", ("ို", ""): "o", ("ံ", ""): "an", ("ုံ", ""): "oun", ("ိုံ", ""): "oun",
    ("", "က"): "et", ("ိ", "က"): "eik", ("ို", "က"): "aik", ("ော", "က"): "auk",
    ("ေါ", "က"): "auk", ("ု", "က"): "ok",
    ("", "င"): "in", ("ိ", "င"): "ein", ("ို", "င"): "aing", ("ော", "င"): "aung",
    ("ေါ", "င"): "aung", ("ု", "င"): "ong",
    ("", "စ"): "it", ("", "ည"): "i", ("", "ဉ"): "in",
    ("", "တ"): "at", ("ိ", "တ"): "eik", ("ု", "တ"): "ok",
    ("", "န"): "an", ("ိ", "န"): "ein", ("ု", "န"): "oun", ("ို", "န"): "oun",
    ("", "ပ"): "at", ("ိ", "ပ"): "eik", ("ု", "ပ"): "ok",
    ("", "မ"): "an", ("ိ", "မ"): "ein", ("ု", "မ"): "oun",
    ("", "ယ"): "e", ("ာ", "ယ"): "ai", ("ော", "ယ"): "aw", ("", "လ"): "an",
}
_VOWEL_SIGNS = "\u102b\u102c\u102d\u102e\u102f\u1030\u1031\u1032\u1036"
_SYLLABLE_CHARS = re.compile(r"[\u1000-\u109f]")


def _special_onsets(consonant: str, medials: str) -> str | None:
    """Onsets whose spelling is not consonant + medial letters."""
    has_y = any(m in medials for m in _MEDIAL_Y)
    if has_y and consonant in "ခဂ":
        return "ch" if consonant == "ခ" else "j"
    if has_y and consonant == "က":
        return "ky"
    if _MEDIAL_H in medials and consonant in "မနလငညယရဝ":
        base = _CONSONANTS[consonant]
        if consonant in "ယရ":
            return "sh"
        return "h" + base + ("y" if has_y else "")
    return None


def _onset(consonant: str, medials: str) -> str:
    special = _special_onsets(consonant, medials)
    if special is not None:
        return special + ("w" if _MEDIAL_W in medials and not special.endswith("w") else "")
    text = _CONSONANTS.get(consonant, _INDEPENDENT.get(consonant, ""))
    if any(m in medials for m in _MEDIAL_Y):
        text += "y"
    if _MEDIAL_W in medials:
        text += "w"
    if _MEDIAL_H in medials:
        text = "h" + text
    return text


def _rhyme(vowels: str, final: str) -> str:
    vowels = "".join(sorted(vowels, key=lambda c: "\u1031\u102d\u102e\u102f\u1030\u102b\u102c\u1032\u1036".find(c)))
    vowels = vowels.replace("\u102e", "\u102d").replace("\u1030", "\u102f")
    if vowels == "\u1031\u102c" or vowels == "\u1031\u102b":
        vowels = "ော"
    key = (vowels, final)
    if key in _RHYMES:
        return _RHYMES[key]
    # Unknown combination: vowel without its final, then the final's sound.
    return _RHYMES.get((vowels, ""), "a") + (_CONSONANTS.get(final, "") if final else "")


def _syllables(word: str) -> list[str]:
    """Split a run of Myanmar script into romanised syllables."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        char = word[i]
        if char in _INDEPENDENT:
            text = _INDEPENDENT[char]
            i += 1
            while i < n and (word[i] in _TONES or word[i] in _VOWEL_SIGNS):
                i += 1
            out.append(text)
            continue
        if char not in _CONSONANTS:
            i += 1
            continue
        consonant = char
        i += 1
        medials = ""
        while i < n and word[i] in _MEDIAL_Y + _MEDIAL_W + _MEDIAL_H:
            medials += word[i]
            i += 1
        vowels = ""
        while i < n and word[i] in _VOWEL_SIGNS:
            vowels += word[i]
            i += 1
        final = ""
        syllable_start = i
        # A final consonant carries the asat (possibly after tone marks), or is
        # stacked with a virama on top of the next syllable's consonant.
        if i + 1 < n and word[i] in _CONSONANTS and word[i + 1] == _ASAT:
            final = word[i]
            i += 2
        elif (i + 2 < n and word[i] in _CONSONANTS and word[i + 1] in _TONES
              and word[i + 2] == _ASAT):
            final = word[i]  # tone mark typed before the asat
            i += 3
        elif i + 1 < n and word[i] in _CONSONANTS and word[i + 1] == _VIRAMA:
            final = word[i]
            i += 2
        while i < n and (word[i] in _TONES or word[i] == _ASAT or word[i] in _VOWEL_SIGNS):
            if word[i] in _VOWEL_SIGNS:
                vowels += word[i]
            i += 1
        onset = _onset(consonant, medials)
        if _MEDIAL_W in medials and not vowels and final in ("န", "မ", "တ", "ပ"):
            # ွန် is "un" (Tun), ွတ် "ut": the medial w is the vowel here.
            out.append(onset[:-1] + ("un" if final in "နမ" else "ut"))
            continue
        rhyme = _rhyme(vowels, final)
        if final in ("န", "င") and "\u1037" in word[syllable_start:i]:
            rhyme += "t"  # creaky nasal: Khant, Myint
        if rhyme == "o" and not onset.endswith("y"):
            rhyme = "oe"  # Moe, Soe; but Phyo, Nyo
        out.append(onset + rhyme)
    return [s for s in out if s]


def romanise_myanmar(text: str) -> str:
    """Romanise Myanmar-script runs in ``text``; leave everything else alone."""
    if not _SYLLABLE_CHARS.search(text):
        return text
    parts: list[str] = []
    for chunk in re.split(r"([\u1000-\u109f]+)", text):
        if chunk and _SYLLABLE_CHARS.match(chunk):
            syllables = _syllables(chunk)
            parts.append(" " + " ".join(syllables) + " " if syllables else anyascii(chunk))
        else:
            parts.append(chunk)
    return "".join(parts)
