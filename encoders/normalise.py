"""Text normalisation for names and places (tiplink extension).

Registers spell the same person in several scripts and spellings: Thai, Khmer
and Burmese script or romanised, Vietnamese with or without diacritics,
Filipino compound surnames written together or apart. Normalising brings
these towards one form before tokenising:

1. Unicode NFKC (full-width and compatibility forms to canonical ones);
2. Thai preposed vowels moved after their consonant, so that transliteration
   follows pronunciation order (``ใจ`` is read *jai*);
3. transliteration of every script to Latin with ``anyascii`` (maintained,
   table-driven, covers Thai, Khmer, Myanmar, Lao, Vietnamese, ...);
4. case folding; diacritics stripped (NFD, combining marks removed);
5. punctuation to spaces (``O'Neil`` and ``O Neil`` agree), whitespace
   collapsed, listed honorifics or particles dropped.

Every step is idempotent, so normalising twice gives the same text.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from tiplink.encoders.schema import Normalisation

# Thai vowels written before the consonant they follow in speech.
_THAI_PREPOSED = "\u0e40\u0e41\u0e42\u0e43\u0e44"
_THAI_PREPOSED_RE = re.compile(f"([{_THAI_PREPOSED}])([\u0e01-\u0e2e])")
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    """Remove combining marks (``Nguyễn`` becomes ``Nguyen``)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).replace("đ", "d").replace("Đ", "D")


def transliterate(text: str) -> str:
    """Romanise any script to ASCII Latin, reading Thai vowels in spoken order."""
    if not text.isascii():
        text = _THAI_PREPOSED_RE.sub(r"\2\1", text)
        text = anyascii(text)
    return text


def normalise_text(text: str, spec: Normalisation) -> str:
    """Apply the normalisation steps a feature asks for.

    Args:
        text: the raw value.
        spec: which steps to apply.

    Returns:
        The normalised text; empty when nothing meaningful remains.
    """
    if spec.unicode != "none":
        text = unicodedata.normalize(spec.unicode, text)
    if spec.transliterate == "anyascii":
        text = transliterate(text)
    if spec.casefold:
        text = text.casefold()
    if spec.strip_diacritics:
        text = strip_diacritics(text)
    if spec.punctuation == "space":
        text = _NON_WORD.sub(" ", text)
    elif spec.punctuation == "remove":
        text = _NON_WORD.sub("", text)
    words = _SPACES.split(text.strip())
    if spec.drop_words:
        kept = [w for w in words if w.casefold() not in spec.drop_words]
        # A name made only of honorifics keeps them rather than becoming empty.
        words = kept or words
    return " ".join(w for w in words if w)
