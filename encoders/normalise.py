"""Text normalisation for names and places (tiplink extension).

Registers spell the same person in several scripts and spellings: Thai, Khmer
and Burmese script or romanised, Vietnamese with or without diacritics,
Filipino compound surnames written together or apart. Normalising brings
these towards one form before tokenising:

1. Unicode NFKC (full-width and compatibility forms to canonical ones);
2. transliteration of every script to Latin: Myanmar script syllable by
   syllable in the conventional spelling of names; Thai and Lao with their
   preposed vowels read in spoken order (``ใจ`` is *jai*) and Thai silent
   letters and glued-on titles dropped; then ``anyascii`` (maintained,
   table-driven) for every script;
4. case folding; diacritics stripped (NFD, combining marks removed);
5. punctuation to spaces (``O'Neil`` and ``O Neil`` agree), whitespace
   collapsed, listed honorifics or particles dropped.

Every step is idempotent, so normalising twice gives the same text.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from tiplink.encoders.romanise_myanmar import romanise_myanmar
from tiplink.encoders.schema import Normalisation

# Thai and Lao vowels written before the consonant they follow in speech.
_PREPOSED_RE = re.compile("([\u0e40-\u0e44])([\u0e01-\u0e2e])|([\u0ec0-\u0ec4])([\u0e81-\u0eae])")
# A Thai consonant under the thanthakhat (with its vowel) is silent: ศักดิ์ is "sak".
_THAI_SILENT_RE = re.compile("[\u0e01-\u0e2e][\u0e34\u0e38]?\u0e4c")
# Thai titles written onto the name: นาย (Mr), นาง (Mrs), นางสาว (Miss), เด็กชาย/หญิง.
_THAI_TITLE_RE = re.compile("^(?:นางสาว|นาง|นาย|เด็กชาย|เด็กหญิง|ด\\.ช\\.|ด\\.ญ\\.)(?=[\u0e01-\u0e4e]{2})")
# Sara am (also as NFKC leaves it: nikhahit + aa) is "am" in Thai and Lao.
_SARA_AM_RE = re.compile("\u0e33|\u0e4d\u0e32|\u0eb3|\u0ecd\u0eb2")
_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    """Remove combining marks (``Nguyễn`` becomes ``Nguyen``)."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).replace("đ", "d").replace("Đ", "D")


def _spoken_order(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(2) + match.group(1)
    return match.group(4) + match.group(3)


def transliterate(text: str) -> str:
    """Romanise any script to ASCII Latin.

    Myanmar script goes syllable by syllable (see ``romanise_myanmar``);
    Thai and Lao preposed vowels are read in spoken order, Thai silent
    letters and titles are dropped; everything else goes through anyascii.
    """
    if text.isascii():
        return text
    words = []
    for word in text.split():
        word = _THAI_TITLE_RE.sub("", word)
        words.append(word)
    text = " ".join(words)
    text = _THAI_SILENT_RE.sub("", text)
    text = _PREPOSED_RE.sub(_spoken_order, text)
    text = romanise_myanmar(_SARA_AM_RE.sub("am", text))
    return anyascii(text)


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
