"""CLK encoding: from a record's values to its keyed Bloom-filter encoding.

:class:`Encoder` compiles a schema and the secret once, then encodes rows.
For a plain clkhash v3 schema the result equals clkhash 0.18.3's CLK bit for
bit. Values repeat a great deal in registers (names, dates, places), so each
feature remembers the filter of values it has already seen; the cache is
bounded, so memory stays flat on any input size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiplink.encoders import bloomfilter
from tiplink.encoders.fields import FieldValueError, prepare_value
from tiplink.encoders.hardening import (
    BlipNoise,
    balance,
    balance_permutations,
    random_positions,
    salt_value,
    salted_tokens,
    sample_tokens,
)
from tiplink.encoders.key_derivation import derive_feature_keys, derive_subkey, key_check_value
from tiplink.encoders.normalise import normalise_text
from tiplink.encoders.schema import Feature, LinkageSchema, StratumSpec
from tiplink.encoders.tokenise import (
    comparison_tokens,
    extension_tokens,
    name_part_tokens,
    parse_partial_date,
)

CACHE_LIMIT = 1 << 17


def tokens_per_feature_k(feature: Feature, num_tokens: int) -> list[int]:
    """Bits per token: fixed, or ``bitsPerFeature`` spread as clkhash does."""
    if feature.bits_per_token is not None:
        return [feature.bits_per_token] * num_tokens
    if num_tokens == 0:
        return []
    total = feature.bits_per_feature or 0
    base = int(total / num_tokens)
    extra = total % num_tokens
    return [base + 1] * extra + [base] * (num_tokens - extra)


class FeatureEncoder:
    """Encodes one feature's value(s) into a filter of its segment's hash length.

    Args:
        feature: the feature.
        keys: its two derived keys.
        hash_length: bits of its segment before folding.
    """

    def __init__(self, feature: Feature, keys: tuple[bytes, bytes], hash_length: int,
                 random_hashing: bool = False, sampling_key: bytes = b"") -> None:
        self.feature = feature
        self._sampling_key = sampling_key
        self.hash_length = hash_length
        self.encoding = feature.format.encoding if feature.format else "utf-8"
        if feature.hash_type == "blakeHash":
            self._positions = bloomfilter.blake_positions(keys[0], hash_length)
        elif random_hashing:
            # Hardening: independent positions in place of h1 + i * h2.
            self._positions = random_positions(keys[0], hash_length)
        else:
            self._positions = bloomfilter.double_hash_positions(
                keys[0], keys[1], hash_length, feature.prevent_singularity)
        self._extended = feature.tokens is not None or feature.normalise is not None
        self._cache: dict[tuple[str, ...], int] = {}
        self._token_caches: dict[int, dict[str, int]] = {}
        self._word_cache: dict[str, tuple[str, ...]] = {}
        self._part_cache: dict[tuple[str, str], int] = {}
        # Name parts hashed with a fixed k per token: a name's filter is the
        # union of its words' filters, which repeat far more than whole names.
        self._by_word = (feature.tokens is not None and feature.tokens.type == "nameParts"
                         and feature.bits_per_token is not None
                         and feature.normalise is not None
                         and feature.missing_value is None)
        self._drop_words = feature.normalise.drop_words if feature.normalise else frozenset()
        self._normalise_keep_words = (dataclasses.replace(feature.normalise, drop_words=frozenset())
                                      if feature.normalise else None)

    def tokens(self, values: Sequence[str], salt: str = "", sample: bool = True) -> list[str]:
        """The tokens of a record's values for this feature.

        Args:
            values: the feature's input values.
            salt: the record's salt ('' when the feature is not salted).
            sample: apply the feature's keyed token sampling, if any.

        Raises:
            FieldValueError: a value breaks the feature's format.
        """
        feature = self.feature
        if not self._extended:
            text, _ = prepare_value(values[0], feature)
            tokens = comparison_tokens(text, feature.comparison)  # type: ignore[arg-type]
        else:
            joined = feature.separator.join(v for v in values if v)
            if feature.missing_value is not None and joined == feature.missing_value.sentinel:
                joined = feature.missing_value.replace_with
            if feature.normalise is not None:
                joined = normalise_text(joined, feature.normalise)
            try:
                if feature.tokens is not None:
                    tokens = extension_tokens(joined, feature.tokens)
                else:
                    tokens = comparison_tokens(joined, feature.comparison)  # type: ignore[arg-type]
            except ValueError as exc:
                raise FieldValueError(feature.columns[0], str(exc)) from None
        tokens = salted_tokens(tokens, salt)
        if sample and feature.sampling is not None:
            if feature.tokens is not None and feature.tokens.type == "nameParts":
                # Sampled name part by name part, as the cached path does.
                spec = feature.tokens
                tokens = [t for word in dict.fromkeys(joined.split())
                          for t in self._sampled(salted_tokens(name_part_tokens(word, spec),
                                                               salt))]
            else:
                tokens = self._sampled(tokens)
        return tokens

    def _sampled(self, tokens: list[str]) -> list[str]:
        """The tokens keyed sampling keeps (all of them without sampling)."""
        if self.feature.sampling is None:
            return tokens
        return sample_tokens(tokens, self._sampling_key, self.feature.sampling.rate)

    def token_positions(self, token: str) -> list[int]:
        """Positions (before folding) one token sets under ``bitsPerToken``.

        For analysis and tests (the privacy benchmark's evaluator); encoding
        never needs it.
        """
        if self.feature.bits_per_token is None:
            raise ValueError("token positions are defined for bitsPerToken features only")
        return self._positions(token.encode(self.encoding), self.feature.bits_per_token)

    def _token_mask(self, tokens: Sequence[str], ks: Sequence[int]) -> int:
        value = 0
        caches = self._token_caches
        for token, k in zip(tokens, ks, strict=True):
            cache = caches.get(k)
            if cache is None:
                cache = caches[k] = {}
            bits = cache.get(token)
            if bits is None:
                bits = bloomfilter.mask_of(self._positions(token.encode(self.encoding), k),
                                           self.hash_length)
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[token] = bits
            value |= bits
        return value

    def _words(self, raw: str) -> tuple[str, ...]:
        """Normalised words of one column value (cached)."""
        words = self._word_cache.get(raw)
        if words is None:
            assert self.feature.normalise is not None
            words = tuple(normalise_text(raw, self._normalise_keep_words).split())
            if len(self._word_cache) >= CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[raw] = words
        return words

    def _name_parts_mask(self, values: Sequence[str], salt: str) -> int:
        """Name-part filters are the union of each word's, so cache per word."""
        words: list[str] = []
        for raw in values:
            if raw:
                words.extend(self._words(raw))
        if self._drop_words:
            # Same rule as normalise_text on the joined name: drop honorifics
            # unless nothing else remains.
            words = [w for w in words if w.casefold() not in self._drop_words] or words
        value = 0
        spec = self.feature.tokens
        assert spec is not None
        for word in dict.fromkeys(words):
            key = (word, salt)
            bits = self._part_cache.get(key)
            if bits is None:
                tokens = self._sampled(salted_tokens(name_part_tokens(word, spec), salt))
                bits = self._token_mask(tokens, tokens_per_feature_k(self.feature, len(tokens)))
                if len(self._part_cache) >= CACHE_LIMIT:
                    self._part_cache.clear()
                self._part_cache[key] = bits
            value |= bits
        return value

    def mask(self, values: tuple[str, ...], salt: str = "") -> int:
        """The feature's filter (an int of ``hash_length`` bits) for the values."""
        if self._by_word:
            return self._name_parts_mask(values, salt)
        key = (*values, salt) if salt else values
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        tokens = self.tokens(values, salt)
        value = self._token_mask(tokens, tokens_per_feature_k(self.feature, len(tokens)))
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = value
        return value


@dataclass(frozen=True)
class _SegmentPlan:
    name: str
    bits: int
    features: tuple[FeatureEncoder, ...]


def stratum_value(values: Sequence[str], spec: StratumSpec) -> str:
    """The clear stratum value for a record ('' when unknown).

    Raises:
        FieldValueError: the value is not one of the stratum's allowed values.
    """
    raw = values[0].strip() if values else ""
    if not raw:
        return ""
    if spec.derive == "value":
        if spec.values and raw not in spec.values:
            raise FieldValueError(spec.column, f"not an allowed value for stratum {spec.name!r}")
        return raw
    try:
        year, month, day = parse_partial_date(raw)
    except ValueError as exc:
        raise FieldValueError(spec.column, str(exc)) from None
    if spec.derive == "year":
        return str(year)
    as_of_year, as_of_month, as_of_day = (int(p) for p in (spec.as_of or "").split("-"))
    age = as_of_year - year - ((month or 7, day or 1) > (as_of_month, as_of_day))
    bands = spec.bands
    for low, high in zip(bands, (*bands[1:], None), strict=True):
        if age >= low and (high is None or age < high):
            return f"{low}+" if high is None else f"{low}-{high - 1}"
    return f"<{bands[0]}"


class Encoder:
    """A compiled schema plus secret that turns rows into CLKs.

    Args:
        schema: the linkage schema.
        secret: the shared secret, as bytes.
        columns: the input's header (column names in order).
    """

    def __init__(self, schema: LinkageSchema, secret: bytes, columns: Sequence[str]) -> None:
        self.schema = schema
        self.key_check = key_check_value(secret)
        keys = derive_feature_keys(secret, len(schema.features), schema.kdf)
        position = {name: i for i, name in enumerate(columns)}
        self._column_index: dict[str, int] = {}
        for name in schema.input_columns:
            self._column_index[name] = position.get(name, -1)
        fold_factor = 2 ** schema.xor_folds
        plans: list[_SegmentPlan] = []
        for segment in schema.segments:
            encoders = tuple(
                FeatureEncoder(f, keys[f.index], segment.bits * fold_factor,
                               schema.hardening.random_hashing,
                               derive_subkey(secret, f"sampling:{f.identifier}")
                               if f.sampling is not None else b"")
                for f in schema.features if not f.ignored and f.segment == segment.name)
            plans.append(_SegmentPlan(segment.name, segment.bits, encoders))
        self._plans = tuple(plans)
        self._feature_columns = {
            f.identifier: tuple(self._column_index[c] for c in f.columns)
            for f in schema.features if not f.ignored}
        self._salt_column = {
            f.identifier: self._column_index[f.salt.column]
            for f in schema.features if not f.ignored and f.salt is not None}
        self._salt_spec = {f.identifier: f.salt for f in schema.features if f.salt is not None}
        self._strata = tuple((s, self._column_index[s.column]) for s in schema.strata)
        self._noise = BlipNoise.for_schema(schema) if schema.hardening.blip_epsilon else None
        self._balance_perm = (balance_permutations(schema, derive_subkey(secret, "balance"))
                              if schema.hardening.balance else None)
        self.output_bits = schema.output_bits

    @property
    def segment_layout(self) -> list[tuple[str, int, int]]:
        """``(name, start, bits)`` of each segment in the output encoding."""
        factor = 2 if self.schema.hardening.balance else 1
        layout, start = [], 0
        for plan in self._plans:
            layout.append((plan.name, start, plan.bits * factor))
            start += plan.bits * factor
        return layout

    def _values(self, row: Sequence[str], indexes: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(row[i] if i >= 0 else "" for i in indexes)

    def _salt(self, identifier: str, row: Sequence[str]) -> str:
        index = self._salt_column.get(identifier)
        if index is None:
            return ""
        spec = self._salt_spec[identifier]
        try:
            # A missing salt attribute still gets a salt (MISSING_SALT), so such
            # records can only match others that lack it too (docs/privacy.md).
            return salt_value(row[index] if index >= 0 else "", spec.derive)
        except ValueError as exc:
            raise FieldValueError(spec.column, f"salt attribute: {exc}") from None

    def encode_row_int(self, row: Sequence[str]) -> int:
        """The record's encoding as an int of ``output_bits`` bits.

        Raises:
            FieldValueError: a value breaks its feature's format.
        """
        folds = self.schema.xor_folds
        record = 0
        for plan in self._plans:
            hash_length = plan.bits << folds
            segment = 0
            for feature in plan.features:
                identifier = feature.feature.identifier
                values = self._values(row, self._feature_columns[identifier])
                segment |= feature.mask(values, self._salt(identifier, row))
            if folds:
                segment = bloomfilter.fold_xor(segment, hash_length, folds)
            bits = plan.bits
            if self._noise is not None:
                segment = self._noise.flip(segment, bits, plan.name)
            if self._balance_perm is not None:
                segment = balance(segment, bits, self._balance_perm[plan.name])
                bits *= 2
            record = (record << bits) | segment
        return record

    def token_groups(self, row: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        """The (salted) tokens each segment hashes for a row, grouped.

        Groups are what an attacker who knows the schema can tell apart: one
        per name part for ``nameParts`` features, one per value for other
        n-gram features, one per token otherwise. Labels are
        ``feature:group``. Tokens are listed before keyed sampling, which
        needs the secret. For analysis only (the privacy benchmark's attacker
        computes these for its own list); encodings never carry them.

        Raises:
            FieldValueError: a value breaks its feature's format.
        """
        result: dict[str, dict[str, list[str]]] = {}
        for plan in self._plans:
            groups: dict[str, list[str]] = {}
            for feature in plan.features:
                spec = feature.feature
                values = self._values(row, self._feature_columns[spec.identifier])
                salt = self._salt(spec.identifier, row)
                tag = f"{spec.identifier}:{salt}|" if salt else f"{spec.identifier}:"
                tokens = feature.tokens(values, salt, sample=False)
                if spec.tokens is not None and spec.tokens.type == "nameParts":
                    text = spec.separator.join(v for v in values if v)
                    if spec.normalise is not None:
                        text = normalise_text(text, spec.normalise)
                    for word in dict.fromkeys(text.split()):
                        groups[tag + word] = feature.tokens((word,), salt, sample=False)
                elif tokens and spec.comparison is not None and spec.comparison.type == "ngram" \
                        and spec.tokens is None:
                    groups[tag + "=" + "\x1e".join(values)] = tokens
                else:
                    for token in tokens:
                        groups[tag + token] = [token]
            result[plan.name] = groups
        return result

    def encode_rows(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
        """Encode rows into a ``uint8`` array of shape ``(len(rows), output_bits // 8)``.

        Raises:
            FieldValueError: with ``row_index`` set to the failing row's index.
        """
        nbytes = self.output_bits // 8
        out = bytearray(nbytes * len(rows))
        for i, row in enumerate(rows):
            try:
                value = self.encode_row_int(row)
            except FieldValueError as exc:
                exc.row_index = i
                raise
            out[i * nbytes:(i + 1) * nbytes] = value.to_bytes(nbytes, "big")
        return np.frombuffer(bytes(out), dtype=np.uint8).reshape(len(rows), nbytes)

    def strata_of(self, rows: Sequence[Sequence[str]]) -> dict[str, list[str]]:
        """Clear strata values of each row, per stratum name."""
        result: dict[str, list[str]] = {}
        for spec, index in self._strata:
            values = []
            for i, row in enumerate(rows):
                try:
                    values.append(stratum_value((row[index],) if index >= 0 else (), spec))
                except FieldValueError as exc:
                    exc.row_index = i
                    raise
            result[spec.name] = values
        return result


__all__ = ["Encoder", "FeatureEncoder", "key_check_value", "stratum_value"]
