"""Linkage schemas: loading, validation and a typed view.

A schema is a clkhash linkage-schema v3 document. tiplink reads every v3
feature (string, pattern, integer, date and enum formats; ngram, exact and
numeric comparisons; bitsPerToken and bitsPerFeature; doubleHash, with
prevent_singularity, and blakeHash; HKDF with SHA256/SHA512, key size, salt and
info; missing values; ignored features; XOR folding) and encodes them bit for
bit as clkhash 0.18.3 does.

tiplink's own additions live under ``x-tiplink`` keys (documented in
``docs/schemas.md``): segments (named bit ranges, one per group of features),
multi-column features, normalisation and transliteration, name-part and
partial-date tokens, clear strata and hardening. A schema without them is
encoded exactly as clkhash would.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema

from tiplink.errors import SchemaError

BUNDLED_SCHEMAS = ("victim", "case")
DEFAULT_KEY_SIZE = 64
RECORD_SEGMENT = "record"


@dataclass(frozen=True)
class KdfConfig:
    """HKDF settings from ``clkConfig.kdf``."""

    hash_name: Literal["SHA256", "SHA512"] = "SHA256"
    salt: bytes | None = None
    info: bytes | None = None
    key_size: int = DEFAULT_KEY_SIZE


@dataclass(frozen=True)
class FieldFormat:
    """The ``format`` of a feature: how an input value is validated and formatted."""

    type: Literal["string", "integer", "date", "enum"]
    encoding: str = "utf-8"
    case: Literal["upper", "lower", "mixed"] = "mixed"
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    date_format: str | None = None
    values: frozenset[str] = frozenset()

    @property
    def unconstrained(self) -> bool:
        """A string format with nothing to check (beyond its encoding)."""
        return (self.pattern is None and self.min_length is None and self.max_length is None
                and self.case == "mixed")


@dataclass(frozen=True)
class Comparison:
    """``hashing.comparison``: how a formatted value becomes tokens."""

    type: Literal["ngram", "exact", "numeric"]
    n: int = 2
    positional: bool = False
    threshold_distance: float = 0.0
    resolution: int = 1
    fractional_precision: int = 0


@dataclass(frozen=True)
class MissingValue:
    """``hashing.missingValue``: a sentinel and what replaces it."""

    sentinel: str
    replace_with: str


@dataclass(frozen=True)
class Normalisation:
    """``x-tiplink.normalise``: clean text before tokenising (tiplink extension)."""

    unicode: Literal["NFKC", "NFC", "none"] = "NFKC"
    casefold: bool = True
    strip_diacritics: bool = True
    transliterate: Literal["anyascii", "none"] = "anyascii"
    punctuation: Literal["keep", "space", "remove"] = "space"
    drop_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TokenSpec:
    """``x-tiplink.tokens``: tokens beyond clkhash's comparisons (tiplink extension)."""

    type: Literal["nameParts", "partialDate", "exactValue"]
    n: int = 2
    phonetic: tuple[str, ...] = ()
    whole_part: bool = False
    year_window: int = 1
    swap_day_month: bool = True


@dataclass(frozen=True)
class SaltSpec:
    """``x-tiplink.salt``: salt a feature's tokens with a stable attribute."""

    column: str
    derive: Literal["value", "year"] = "value"


@dataclass(frozen=True)
class SamplingSpec:
    """``x-tiplink.sampling``: hash only a keyed share of a feature's tokens."""

    rate: float


@dataclass(frozen=True)
class Feature:
    """One entry of ``features``.

    Attributes:
        index: position in ``features`` (it selects the derived keys).
        identifier: the feature's name; by default also its input column.
        ignored: whether the feature is skipped.
        columns: the input columns it reads (``x-tiplink.columns``, else the
            identifier).
        optional_columns: columns that may be absent from the input.
    """

    index: int
    identifier: str
    ignored: bool = False
    format: FieldFormat | None = None
    comparison: Comparison | None = None
    bits_per_token: int | None = None
    bits_per_feature: int | None = None
    hash_type: Literal["doubleHash", "blakeHash"] = "blakeHash"
    prevent_singularity: bool = False
    missing_value: MissingValue | None = None
    columns: tuple[str, ...] = ()
    optional_columns: frozenset[str] = frozenset()
    separator: str = " "
    normalise: Normalisation | None = None
    tokens: TokenSpec | None = None
    segment: str = RECORD_SEGMENT
    salt: SaltSpec | None = None
    sampling: SamplingSpec | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """A named range of bits holding one group of features."""

    name: str
    bits: int


@dataclass(frozen=True)
class StratumSpec:
    """A clear, non-identifying attribute carried in the extract for strata."""

    name: str
    column: str
    values: frozenset[str] = frozenset()
    derive: Literal["value", "year", "age_band"] = "value"
    bands: tuple[int, ...] = ()
    as_of: str | None = None


@dataclass(frozen=True)
class Hardening:
    """Protections against attacks on the encodings (tiplink extension)."""

    balance: bool = False
    blip_epsilon: float | None = None
    random_hashing: bool = False


@dataclass(frozen=True)
class LinkageSchema:
    """A validated linkage schema.

    Attributes:
        name: bundled name or file stem.
        bit_length: ``clkConfig.l`` (after folding; before balancing).
        xor_folds: folds applied to each segment.
        kdf: key-derivation settings.
        features: every feature, ignored ones included (they use key slots).
        segments: the bit layout; one ``record`` segment for plain schemas.
        strata: clear strata to carry in the extract.
        hardening: hardening settings.
        document: the schema JSON as loaded.
        fingerprint: ``sha256:<hex>`` of the canonical JSON.
        warnings: notes for the user (for example a clkhash quirk applied).
    """

    name: str
    bit_length: int
    xor_folds: int
    kdf: KdfConfig
    features: tuple[Feature, ...]
    segments: tuple[SegmentSpec, ...]
    strata: tuple[StratumSpec, ...] = ()
    hardening: Hardening = Hardening()
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    fingerprint: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def output_bits(self) -> int:
        """Length of each encoding written to extracts (balancing doubles it)."""
        return self.bit_length * (2 if self.hardening.balance else 1)

    @property
    def input_columns(self) -> tuple[str, ...]:
        """Every input column a feature or stratum reads, in schema order."""
        seen: dict[str, None] = {}
        for feature in self.features:
            if not feature.ignored:
                for column in feature.columns:
                    seen.setdefault(column, None)
                if feature.salt:
                    seen.setdefault(feature.salt.column, None)
        for stratum in self.strata:
            seen.setdefault(stratum.column, None)
        return tuple(seen)

    @property
    def optional_columns(self) -> frozenset[str]:
        """Input columns whose absence is allowed (treated as empty)."""
        optional: set[str] = set()
        for feature in self.features:
            optional |= feature.optional_columns
        return frozenset(optional)


def fingerprint_of(document: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON form of a schema document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@cache
def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("tiplink.encoders").joinpath("schemas/linkage-schema-v3.json")
    meta = json.loads(text.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(meta)


def _where(document: dict[str, Any], path: list[Any]) -> str:
    """Describe a JSON path, naming the feature by identifier where there is one."""
    if len(path) >= 2 and path[0] == "features" and isinstance(path[1], int):
        index = path[1]
        try:
            identifier = document["features"][index]["identifier"]
            feature = f"feature {identifier!r} (features[{index}])"
        except (KeyError, IndexError, TypeError):
            feature = f"features[{index}]"
        rest = ".".join(str(p) for p in path[2:])
        return f"{feature}{': ' + rest if rest else ''}"
    return ".".join(str(p) for p in path) or "schema"


def _json_schema_errors(document: Any, source: str) -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: (len(e.path), str(e.path)))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    # Descend into oneOf/if-then alternatives to report the most specific cause.
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    where = _where(document if isinstance(document, dict) else {}, list(error.absolute_path))
    message = error.message
    if error.absolute_path and error.absolute_path[-1] == "strategy" and \
            error.validator in ("oneOf", "not", "required"):
        message = "strategy needs exactly one of bitsPerToken or bitsPerFeature"
    if len(message) > 200:
        message = message[:200] + "..."
    raise SchemaError(f"invalid linkage schema: {where}: {message}", source)


def _b64(value: str | None, what: str, source: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SchemaError(f"invalid linkage schema: clkConfig.kdf.{what} is not base64",
                          source) from None


def _parse_format(raw: dict[str, Any], where: str, source: str) -> FieldFormat:
    kind = raw["type"]
    if kind == "string":
        pattern = None
        if "pattern" in raw:
            if any(k in raw for k in ("case", "minLength", "maxLength")):
                raise SchemaError(f"invalid linkage schema: {where}: format.pattern cannot be "
                                  "combined with case, minLength or maxLength", source)
            try:
                pattern = re.compile(raw["pattern"])
            except re.error as exc:
                raise SchemaError(f"invalid linkage schema: {where}: format.pattern is not a "
                                  f"valid regular expression ({exc})", source) from None
        return FieldFormat(
            type="string", encoding=raw.get("encoding", "utf-8"), case=raw.get("case", "mixed"),
            min_length=raw.get("minLength"), max_length=raw.get("maxLength"), pattern=pattern)
    if kind == "integer":
        return FieldFormat(type="integer", minimum=raw.get("minimum"), maximum=raw.get("maximum"))
    if kind == "date":
        date_format = raw["format"]
        try:
            datetime.now().strftime(date_format)
        except ValueError:
            raise SchemaError(f"invalid linkage schema: {where}: format.format is not a valid "
                              "strptime format", source) from None
        return FieldFormat(type="date", date_format=date_format)
    return FieldFormat(type="enum", values=frozenset(raw["values"]))


def _parse_feature(index: int, raw: dict[str, Any], source: str,
                   warnings: list[str]) -> Feature:
    identifier = raw["identifier"]
    where = f"feature {identifier!r} (features[{index}])"
    if raw.get("ignored"):
        return Feature(index=index, identifier=identifier, ignored=True)
    hashing = raw["hashing"]
    fmt = _parse_format(raw["format"], where, source)
    comparison_raw = hashing["comparison"]
    kind = comparison_raw["type"]
    if kind == "numeric":
        if "fractionalPrecision" in comparison_raw and "fractional_precision" not in comparison_raw:
            warnings.append(f"{where}: clkhash 0.18 reads 'fractional_precision', not "
                            "'fractionalPrecision'; encoding with precision 0 as clkhash does")
        threshold = float(comparison_raw["thresholdDistance"])
        precision = int(comparison_raw.get("fractional_precision", 0))
        if round(threshold * 10 ** precision) == 0:
            raise SchemaError(f"invalid linkage schema: {where}: thresholdDistance is zero at "
                              "this fractional precision", source)
        comparison = Comparison(type="numeric", threshold_distance=threshold,
                                resolution=int(comparison_raw["resolution"]),
                                fractional_precision=precision)
    elif kind == "ngram":
        comparison = Comparison(type="ngram", n=int(comparison_raw["n"]),
                                positional=bool(comparison_raw.get("positional", False)))
    else:
        comparison = Comparison(type="exact")
    hash_raw = hashing.get("hash", {"type": "blakeHash"})
    prevent = bool(hash_raw.get("prevent_singularity", False))
    if "prevent_singularity" in hash_raw and hash_raw["type"] != "doubleHash":
        raise SchemaError(f"invalid linkage schema: {where}: hash.prevent_singularity applies "
                          "only to doubleHash", source)
    missing = None
    if "missingValue" in hashing:
        mv = hashing["missingValue"]
        missing = MissingValue(sentinel=mv["sentinel"],
                               replace_with=mv.get("replaceWith", mv["sentinel"]))
    strategy = hashing["strategy"]
    ext = raw.get("x-tiplink", {})
    normalise = None
    if "normalise" in ext:
        n = ext["normalise"]
        normalise = Normalisation(
            unicode=n.get("unicode", "NFKC"), casefold=n.get("casefold", True),
            strip_diacritics=n.get("stripDiacritics", True),
            transliterate=n.get("transliterate", "anyascii"),
            punctuation=n.get("punctuation", "space"),
            drop_words=frozenset(w.casefold() for w in n.get("dropWords", ())))
    tokens = None
    if "tokens" in ext:
        t = ext["tokens"]
        tokens = TokenSpec(type=t["type"], n=t.get("n", 2), phonetic=tuple(t.get("phonetic", ())),
                           whole_part=t.get("wholePart", False),
                           year_window=t.get("yearWindow", 1),
                           swap_day_month=t.get("swapDayMonth", True))
    columns = tuple(ext.get("columns", (identifier,)))
    optional = frozenset(ext.get("optionalColumns", ()))
    if not optional <= set(columns):
        raise SchemaError(f"invalid linkage schema: {where}: x-tiplink.optionalColumns must be "
                          "among its columns", source)
    salt = None
    if "salt" in ext:
        salt = SaltSpec(column=ext["salt"]["column"], derive=ext["salt"].get("derive", "value"))
    sampling = SamplingSpec(rate=float(ext["sampling"]["rate"])) if "sampling" in ext else None
    return Feature(
        index=index, identifier=identifier, format=fmt, comparison=comparison,
        bits_per_token=strategy.get("bitsPerToken"), bits_per_feature=strategy.get("bitsPerFeature"),
        hash_type=hash_raw["type"], prevent_singularity=prevent, missing_value=missing,
        columns=columns, optional_columns=optional, separator=ext.get("separator", " "),
        normalise=normalise, tokens=tokens, segment=ext.get("segment", RECORD_SEGMENT), salt=salt,
        sampling=sampling)


def parse_schema(document: Any, source: str = "schema", name: str = "") -> LinkageSchema:
    """Validate a schema document and build its typed view.

    Args:
        document: the parsed JSON.
        source: where it came from, for error messages.
        name: the schema's name (bundled name or file stem).

    Raises:
        SchemaError: naming the failing feature and key.
    """
    _json_schema_errors(document, source)
    warnings: list[str] = []
    config = document["clkConfig"]
    kdf_raw = config["kdf"]
    kdf = KdfConfig(hash_name=kdf_raw.get("hash", "SHA256"), salt=_b64(kdf_raw.get("salt"), "salt", source),
                    info=_b64(kdf_raw.get("info"), "info", source),
                    key_size=int(kdf_raw.get("keySize", DEFAULT_KEY_SIZE)))
    if "xorFolds" in config and "xor_folds" not in config:
        warnings.append("clkConfig.xorFolds is ignored by clkhash 0.18 (it reads 'xor_folds'); "
                        "encoding without folding, as clkhash does")
    folds = int(config.get("xor_folds", 0))
    bit_length = int(config["l"])
    features = tuple(_parse_feature(i, f, source, warnings)
                     for i, f in enumerate(document["features"]))
    identifiers = [f.identifier for f in features]
    duplicates = {i for i in identifiers if identifiers.count(i) > 1}
    if duplicates:
        raise SchemaError(f"invalid linkage schema: feature identifier {sorted(duplicates)[0]!r} "
                          "is used twice", source)
    ext = document.get("x-tiplink", {})
    if "segments" in ext:
        segments = tuple(SegmentSpec(s["name"], int(s["bits"])) for s in ext["segments"])
        if sum(s.bits for s in segments) != bit_length:
            raise SchemaError("invalid linkage schema: x-tiplink.segments bits must add up to "
                              f"clkConfig.l ({bit_length})", source)
        if len({s.name for s in segments}) != len(segments):
            raise SchemaError("invalid linkage schema: x-tiplink.segments names must be unique",
                              source)
    else:
        segments = (SegmentSpec(RECORD_SEGMENT, bit_length),)
    segment_bits = {s.name: s.bits for s in segments}
    for feature in features:
        if feature.ignored:
            continue
        where = f"feature {feature.identifier!r} (features[{feature.index}])"
        if feature.segment not in segment_bits:
            raise SchemaError(f"invalid linkage schema: {where}: segment {feature.segment!r} "
                              "is not declared in x-tiplink.segments", source)
        hash_bits = segment_bits[feature.segment] * 2 ** folds
        if feature.hash_type == "blakeHash" and hash_bits & (hash_bits - 1):
            raise SchemaError(f"invalid linkage schema: {where}: blakeHash needs a power-of-two "
                              f"length, but the feature hashes into {hash_bits} bits", source)
        if hash_bits % 2 ** folds:
            raise SchemaError("invalid linkage schema: bit length not divisible by the folds",
                              source)
    strata = tuple(
        StratumSpec(name=s["name"], column=s["column"], values=frozenset(s.get("values", ())),
                    derive=s.get("derive", "value"), bands=tuple(s.get("bands", ())),
                    as_of=s.get("asOf"))
        for s in ext.get("strata", ()))
    for stratum in strata:
        if stratum.derive == "age_band" and (not stratum.bands or not stratum.as_of):
            raise SchemaError(f"invalid linkage schema: stratum {stratum.name!r}: age_band needs "
                              "bands and asOf", source)
    hard = ext.get("hardening", {})
    hardening = Hardening(balance=bool(hard.get("balance", False)),
                          blip_epsilon=(hard.get("blip") or {}).get("epsilon"),
                          random_hashing=bool(hard.get("randomHashing", False)))
    return LinkageSchema(
        name=name or ext.get("name", ""), bit_length=bit_length, xor_folds=folds, kdf=kdf,
        features=features, segments=segments, strata=strata, hardening=hardening,
        document=copy.deepcopy(document), fingerprint=fingerprint_of(document),
        warnings=tuple(warnings))


def load_schema(name_or_path: str | Path) -> LinkageSchema:
    """Load a bundled schema by name (``victim``, ``case``) or a schema file.

    Raises:
        SchemaError: the file is missing, not JSON, or not a valid schema.
    """
    text_name = str(name_or_path)
    if text_name in BUNDLED_SCHEMAS:
        resource = resources.files("tiplink.encoders").joinpath(f"schemas/{text_name}.json")
        return parse_schema(json.loads(resource.read_text(encoding="utf-8")),
                            f"bundled schema {text_name!r}", text_name)
    path = Path(name_or_path)
    if not path.is_file():
        raise SchemaError(f"schema file not found (bundled schemas: {', '.join(BUNDLED_SCHEMAS)})",
                          path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SchemaError("schema file is not UTF-8 text", path) from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schema is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg})", path) from None
    return parse_schema(document, str(path), path.stem)
