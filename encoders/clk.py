"""CLK encoding: from a record's values to its keyed Bloom-filter encoding.

:class:`Encoder` compiles a schema and the secret once, then encodes rows.
For a plain clkhash v3 schema the result equals clkhash 0.18.3's CLK bit for
bit. Values repeat a great deal in registers (names, dates, places), so each
feature remembers the filter of values it has already seen; the cache is
bounded, so memory stays flat on any input size.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplink.encoders import bloomfilter
from tiplink.encoders.arrow_util import int_array_to_numpy, string_array
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
        self._bytes_cache: dict[str, bytes] = {}
        self._column_cache: dict[tuple[str, str], tuple[int, bool, bool]] = {}
        self._plain = not self._extended
        self._token_caches: dict[int, dict[str, int]] = {}
        self._fixed_k_cache = (_TokenMaskCache(self, feature.bits_per_token)
                               if feature.bits_per_token is not None else None)
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
        if self._fixed_k_cache is not None:
            # One k for every token: look tokens up (and OR them) at C speed.
            cache = self._fixed_k_cache
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            return functools.reduce(operator.or_, map(cache.__getitem__, tokens), 0)
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
        """Normalised words of one column value.

        Normalisation works within whitespace-separated words, so each raw
        word is normalised once and cached: raw words repeat far more than
        whole values (tested against normalising the whole value).
        """
        words: list[str] = []
        cache = self._word_cache
        for raw_word in raw.split():
            normalised = cache.get(raw_word)
            if normalised is None:
                assert self._normalise_keep_words is not None
                normalised = tuple(normalise_text(raw_word, self._normalise_keep_words).split())
                if len(cache) >= CACHE_LIMIT:
                    cache.clear()
                cache[raw_word] = normalised
            words.extend(normalised)
        return tuple(words)

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
        return self.words_mask(words, salt)

    def words_mask(self, words: Sequence[str], salt: str) -> int:
        """The union of the filters of each (normalised) name word."""
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

    @property
    def by_word(self) -> bool:
        """Whether the filter is the union of per-word filters (see ``_by_word``)."""
        return self._by_word

    def column_mask(self, raw: str, salt: str) -> tuple[int, bool, bool]:
        """One column's share of a by-word filter.

        Returns:
            The union of its kept words' filters, whether it kept any word,
            and whether it had any word at all (dropped honorifics included).
        """
        key = (raw, salt)
        cached = self._column_cache.get(key)
        if cached is None:
            words = self._words(raw) if raw else ()
            kept = [w for w in words if w.casefold() not in self._drop_words] \
                if self._drop_words else list(words)
            cached = (self.words_mask(kept, salt), bool(kept), bool(words))
            if len(self._column_cache) >= CACHE_LIMIT:
                self._column_cache.clear()
            self._column_cache[key] = cached
        return cached

    def mask_bytes(self, value: str) -> bytes:
        """The filter of a one-column, unsalted value, as big-endian bytes (cached)."""
        cached = self._bytes_cache.get(value)
        if cached is None:
            if self._plain:
                # A clkhash feature: validate, format, tokenise, hash; no detour
                # through the per-record cache.
                text, _ = prepare_value(value, self.feature)
                tokens = comparison_tokens(text, self.feature.comparison)  # type: ignore[arg-type]
                if self.feature.sampling is not None:
                    tokens = self._sampled(tokens)
                bits = self._token_mask(tokens, tokens_per_feature_k(self.feature, len(tokens)))
            else:
                bits = self.mask((value,))
            cached = bits.to_bytes(self.hash_length // 8, "big")
            if len(self._bytes_cache) >= CACHE_LIMIT:
                self._bytes_cache.clear()
            self._bytes_cache[value] = cached
        return cached

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


class _TokenMaskCache(dict):
    """Token -> its filter under a fixed k, computed on first use."""

    def __init__(self, encoder: FeatureEncoder, k: int) -> None:
        super().__init__()
        self._encoder = encoder
        self._k = k

    def __missing__(self, token: str) -> int:
        encoder = self._encoder
        bits = bloomfilter.mask_of(encoder._positions(token.encode(encoder.encoding), self._k),
                                   encoder.hash_length)
        self[token] = bits
        return bits


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
        """Encode rows of strings (in header order); see :meth:`encode_columns`."""
        if not rows:
            return np.zeros((0, self.output_bits // 8), dtype=np.uint8)
        columns = [string_array(c) for c in zip(*rows, strict=True)]
        return self.encode_columns(columns)

    def encode_columns(self, columns: Sequence[pa.Array]) -> np.ndarray:
        """Encode a batch given column by column (string arrays in header order).

        Each feature's filter is computed once per distinct value in the
        batch (values repeat a great deal in registers) and the records'
        filters are assembled with numpy. The result equals
        :meth:`encode_row_int` row by row.

        Returns:
            ``uint8`` array of shape ``(records, output_bits // 8)``.

        Raises:
            FieldValueError: with ``row_index`` set to the failing row's index.
        """
        count = len(columns[0]) if columns else 0
        if count == 0:
            return np.zeros((0, self.output_bits // 8), dtype=np.uint8)
        try:
            return self._encode_columns(columns, count)
        except FieldValueError:
            # Row by row, to name the first failing row exactly.
            rows = [list(r) for r in zip(*(c.to_pylist() for c in columns), strict=True)]
            return self._encode_row_by_row(rows)

    def _encode_row_by_row(self, rows: Sequence[Sequence[str]]) -> np.ndarray:
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

    def _encode_columns(self, arrays: Sequence[pa.Array], count: int) -> np.ndarray:
        columns = [_DistinctColumn(a) for a in arrays]
        empty = _DistinctColumn.from_codes(np.zeros(count, dtype=np.int64), [""])

        def column(index: int) -> _DistinctColumn:
            return columns[index] if index >= 0 else empty

        folds = self.schema.xor_folds
        out = np.empty((count, self.output_bits // 8), dtype=np.uint8)
        offset = 0
        for plan in self._plans:
            hash_bytes = (plan.bits << folds) // 8
            # OR whole 64-bit words where the segment allows (8x fewer operations).
            word = np.uint64 if hash_bytes % 8 == 0 else np.uint8
            segment = np.zeros((count, hash_bytes // np.dtype(word).itemsize), dtype=word)
            for feature in plan.features:
                segment |= self._feature_block(feature, column, count, hash_bytes).view(word)
            segment = segment.view(np.uint8)
            for _ in range(folds):
                half = segment.shape[1] // 2
                segment = segment[:, :half] ^ segment[:, half:]
            segment = self._harden_block(segment, plan)
            width = segment.shape[1]
            out[:, offset:offset + width] = segment
            offset += width
        return out

    def _harden_block(self, segment: np.ndarray, plan: _SegmentPlan) -> np.ndarray:
        if self._noise is None and self._balance_perm is None:
            return segment
        bits = plan.bits
        width = bits // 8 * (2 if self._balance_perm is not None else 1)
        hardened = np.empty((segment.shape[0], width), dtype=np.uint8)
        for i, row in enumerate(segment):
            value = int.from_bytes(row.tobytes(), "big")
            if self._noise is not None:
                value = self._noise.flip(value, bits, plan.name)
            if self._balance_perm is not None:
                value = balance(value, bits, self._balance_perm[plan.name])
            hardened[i] = np.frombuffer(value.to_bytes(width, "big"), dtype=np.uint8)
        return hardened

    def _salts(self, feature: FeatureEncoder, column: Any) -> _DistinctColumn | None:
        """Each row's salt for a salted feature, as a distinct-valued column."""
        identifier = feature.feature.identifier
        index = self._salt_column.get(identifier)
        if index is None:
            return None
        raw = column(index)
        salts = [self._salt(identifier, _OneColumnRow(index, v)) for v in raw.values]
        return _DistinctColumn.from_codes(raw.codes, salts)

    def _feature_block(self, feature: FeatureEncoder, column: Any, count: int,
                       hash_bytes: int) -> np.ndarray:
        """Every row's filter for one feature, as ``(count, hash_bytes)`` bytes."""
        indexes = self._feature_columns[feature.feature.identifier]
        salts = self._salts(feature, column)
        if feature.by_word:
            block = np.zeros((count, hash_bytes), dtype=np.uint8)
            any_kept = np.zeros(count, dtype=bool)
            any_word = np.zeros(count, dtype=bool)
            for index in indexes:
                codes, keys = _combine([column(index)], salts)
                table = bytearray(len(keys) * hash_bytes)
                kept = np.zeros(len(keys), dtype=bool)
                worded = np.zeros(len(keys), dtype=bool)
                for j, (raw, salt) in enumerate(keys):
                    value, kept[j], worded[j] = feature.column_mask(raw, salt)
                    table[j * hash_bytes:(j + 1) * hash_bytes] = value.to_bytes(hash_bytes, "big")
                masks = np.frombuffer(bytes(table), dtype=np.uint8).reshape(len(keys), hash_bytes)
                block |= masks[codes]
                any_kept |= kept[codes]
                any_word |= worded[codes]
            # Names made only of honorifics keep them: the whole-name rule.
            for i in np.nonzero(any_word & ~any_kept)[0]:
                values = tuple(column(c).value_at(i) for c in indexes)
                value = feature.mask(values, salts.value_at(i) if salts is not None else "")
                block[i] = np.frombuffer(value.to_bytes(hash_bytes, "big"), dtype=np.uint8)
            return block
        if len(indexes) == 1 and salts is None:
            # The common case: one column, no salt. Filters cached as bytes.
            distinct = column(indexes[0])
            table_bytes = b"".join(map(feature.mask_bytes, distinct.values))
            masks = np.frombuffer(table_bytes, dtype=np.uint8).reshape(-1, hash_bytes)
            return masks[distinct.codes]
        codes, keys = _combine([column(c) for c in indexes], salts)
        table = bytearray(len(keys) * hash_bytes)
        for j, key in enumerate(keys):
            table[j * hash_bytes:(j + 1) * hash_bytes] = \
                feature.mask(key[:-1], key[-1]).to_bytes(hash_bytes, "big")
        masks = np.frombuffer(bytes(table), dtype=np.uint8).reshape(len(keys), hash_bytes)
        return masks[codes]

    def strata_columns(self, arrays: Sequence[pa.Array]) -> dict[str, pa.Array]:
        """Clear strata values of each record, per stratum name (column input)."""
        result: dict[str, pa.Array] = {}
        count = len(arrays[0]) if arrays else 0
        for spec, index in self._strata:
            source = (_DistinctColumn(arrays[index]) if index >= 0 else
                      _DistinctColumn.from_codes(np.zeros(count, dtype=np.int64), [""]))
            values = []
            for j, raw in enumerate(source.values):
                try:
                    values.append(stratum_value((raw,), spec))
                except FieldValueError as exc:
                    exc.row_index = int(np.argmax(source.codes == j))
                    raise
            result[spec.name] = string_array(values).take(
                pa.Array.from_buffers(pa.int64(), count,
                                      [None, pa.py_buffer(source.codes.tobytes())]))
        return result

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


class _OneColumnRow:
    """A stand-in row that holds one column's value (for per-value lookups)."""

    def __init__(self, index: int, value: str) -> None:
        self._index = index
        self._value = value

    def __getitem__(self, index: int) -> str:
        return self._value if index == self._index else ""


class _DistinctColumn:
    """A column as codes into its distinct values (Arrow dictionary encoding)."""

    def __init__(self, array: pa.Array) -> None:
        encoded = pc.dictionary_encode(array if array.null_count == 0 else pc.coalesce(array, ""))
        self.codes = int_array_to_numpy(encoded.indices).astype(np.int64)
        self.values: list[str] = encoded.dictionary.to_pylist()

    @classmethod
    def from_codes(cls, codes: np.ndarray, values: list[str]) -> _DistinctColumn:
        column = cls.__new__(cls)
        column.codes = codes
        column.values = values
        return column

    def value_at(self, row: int) -> str:
        return self.values[self.codes[row]]


def _combine(columns: Sequence[_DistinctColumn], salts: _DistinctColumn | None
             ) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Codes of each row's combination of values (and salt), and the combinations.

    Each key is ``(*values, salt)``, salt ``''`` when the feature is not salted.
    """
    parts = list(columns) + ([salts] if salts is not None else [])
    combined = parts[0].codes
    for part in parts[1:]:
        combined = combined * (len(part.values) + 1) + part.codes
    if len(parts) == 1:
        return combined, [(v, "") for v in parts[0].values]
    # Codes of the distinct combinations, and the first row of each, to read
    # its values back.
    _, first_row, codes = np.unique(combined, return_index=True, return_inverse=True)
    keys = []
    for row in first_row:
        key = tuple(c.value_at(row) for c in columns)
        keys.append((*key, salts.value_at(row) if salts is not None else ""))
    return codes, keys


__all__ = ["Encoder", "FeatureEncoder", "key_check_value", "stratum_value"]
