"""Hardening of encodings: each protection does what docs/privacy.md says."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tiplink.encoders import bloomfilter
from tiplink.encoders.clk import Encoder
from tiplink.encoders.hardening import (
    MISSING_SALT,
    BlipNoise,
    balance,
    balance_permutations,
    blip_flip_probability,
    random_positions,
    salt_value,
    sample_tokens,
    segment_bits_per_token,
)
from tiplink.encoders.schema import load_schema, parse_schema
from tiplink.errors import SchemaError

COLUMNS = ["record_id", "given_name", "family_name", "sex", "date_of_birth", "nationality",
           "place_of_origin"]
SECRET = b"test secret for hardening"


def victim_with(hardening: dict | None = None, salt: dict | None = None, folds: int = 0,
                sampling: dict[str, float] | None = None):
    """The bundled victim schema with exactly the given hardening settings."""
    document = copy.deepcopy(load_schema("victim").document)
    document["x-tiplink"].pop("hardening", None)
    for feature in document["features"]:
        feature.get("x-tiplink", {}).pop("salt", None)
        feature.get("x-tiplink", {}).pop("sampling", None)
        rate = (sampling or {}).get(feature["identifier"])
        if rate is not None:
            feature.setdefault("x-tiplink", {})["sampling"] = {"rate": rate}
    if hardening is not None:
        document["x-tiplink"]["hardening"] = hardening
    if salt is not None:
        for feature in document["features"]:
            if feature["identifier"] in ("name", "place_of_origin"):
                feature.setdefault("x-tiplink", {})["salt"] = salt
    if folds:
        document["clkConfig"]["xor_folds"] = folds
    return parse_schema(document)


def segments_of(encoder: Encoder, clks: np.ndarray) -> dict[str, np.ndarray]:
    bits = np.unpackbits(clks, axis=1)
    return {name: bits[:, start:start + size] for name, start, size in encoder.segment_layout}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum() + b.sum())
    return 2 * int((a & b).sum()) / total if total else 0.0


ROW = ["1", "Somchai", "Jaidee", "M", "1990-05-12", "THA", "Chiang Mai"]


# --- random hashing -----------------------------------------------------------------


def test_random_positions_are_deterministic_keyed_and_in_range() -> None:
    positions = random_positions(b"k" * 32, 1000)
    first = positions(b"ab", 30)
    assert first == positions(b"ab", 30)
    assert len(first) == 30 and all(0 <= p < 1000 for p in first)
    assert first != random_positions(b"j" * 32, 1000)(b"ab", 30)
    assert first != positions(b"ac", 30)
    # The first k of a longer draw are the k positions (no dependence on k).
    assert positions(b"ab", 7) == first[:7]


def test_random_positions_are_uniform_for_a_non_power_of_two_length() -> None:
    length = 24  # 2**32 % 24 != 0: a plain modulo would be biased
    positions = random_positions(b"uniform", length)
    counts = Counter()
    for i in range(4000):
        counts.update(positions(str(i).encode(), 6))
    observed = np.array([counts[p] for p in range(length)], dtype=float)
    expected = observed.sum() / length
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 60, chi2  # 23 degrees of freedom: p < 1e-5 beyond this


def test_random_positions_do_not_form_an_arithmetic_progression() -> None:
    """Double hashing's positions are h1 + i*h2 (mod L); random ones are not."""
    progressions = 0
    for i in range(200):
        ps = random_positions(b"key", 1024)(f"t{i}".encode(), 8)
        steps = {(ps[j + 1] - ps[j]) % 1024 for j in range(7)}
        progressions += len(steps) == 1
    assert progressions == 0
    double = bloomfilter.double_hash_positions(b"a", b"b", 1024, False)
    for i in range(20):
        ps = double(f"t{i}".encode(), 8)
        assert len({(ps[j + 1] - ps[j]) % 1024 for j in range(7)}) == 1


def test_random_hashing_changes_double_hash_features_only() -> None:
    folder = Path(__file__).resolve().parents[1] / "tests" / "data" / "plain-doublehash.json"
    plain = load_schema(folder)
    hardened_doc = copy.deepcopy(plain.document)
    hardened_doc.setdefault("x-tiplink", {})["hardening"] = {"randomHashing": True}
    hardened = parse_schema(hardened_doc)
    columns = ["given_name", "family_name"]
    rows = [["Somchai", "Jaidee"], ["Somchai", "Jaidee"], ["Lan", "Nguyen"]]
    a = Encoder(plain, SECRET, columns).encode_rows(rows)
    b = Encoder(hardened, SECRET, columns).encode_rows(rows)
    assert not np.array_equal(a, b)
    assert np.array_equal(b[0], b[1])  # still deterministic
    # Same number of tokens and bits per token: similar density.
    assert abs(int(np.unpackbits(a).sum()) - int(np.unpackbits(b).sum())) < 40
    # The bundled schemas hash with BLAKE2b: the switch leaves them unchanged.
    victim = Encoder(victim_with(), SECRET, COLUMNS).encode_rows([ROW])
    random = Encoder(victim_with({"randomHashing": True}), SECRET, COLUMNS).encode_rows([ROW])
    assert np.array_equal(victim, random)


# --- BLIP ---------------------------------------------------------------------------


def test_blip_probability_gives_epsilon_per_token() -> None:
    p = blip_flip_probability(24.0, 8)
    assert p == pytest.approx(1 / (1 + math.exp(3)))
    # Likelihood ratio of any output when one token (8 bits) changes.
    assert 8 * math.log((1 - p) / p) == pytest.approx(24.0)
    with pytest.raises(ValueError):
        blip_flip_probability(0, 8)


def test_blip_segment_bounds_follow_bits_per_token() -> None:
    bounds = segment_bits_per_token(load_schema("victim"))
    assert bounds == {"name": 8, "dob": 12, "sex": 10, "nationality": 12, "place": 6}


def test_blip_flips_at_the_stated_rate_on_odd_widths() -> None:
    noise = BlipNoise({"s": 0.2}, seed=7)
    bits = 37  # not a whole number of bytes
    flipped = 0
    trials = 3000
    for _ in range(trials):
        out = noise.flip(0, bits, "s")
        assert out < 1 << bits
        flipped += out.bit_count()
    rate = flipped / (trials * bits)
    assert rate == pytest.approx(0.2, abs=0.01)


def test_blip_noise_is_fresh_per_record_and_per_encoder() -> None:
    schema = victim_with({"blip": {"epsilon": 16}})
    rows = [ROW] * 50
    encoder = Encoder(schema, SECRET, COLUMNS)
    clks = encoder.encode_rows(rows)
    assert len({row.tobytes() for row in clks}) == 50
    other = Encoder(schema, SECRET, COLUMNS).encode_rows([ROW])
    assert not any(np.array_equal(other[0], row) for row in clks)
    plain = Encoder(victim_with(), SECRET, COLUMNS)
    base = segments_of(plain, plain.encode_rows([ROW]))
    noisy = segments_of(encoder, clks)
    for name, p in encoder._noise.probabilities.items():
        rate = float((noisy[name] != base[name]).mean())
        bits = base[name].shape[1]
        tolerance = 4 * math.sqrt(p * (1 - p) / (50 * bits))
        assert abs(rate - p) < tolerance, (name, rate, p)


def test_blip_keeps_identical_records_more_similar_than_different_ones() -> None:
    schema = victim_with({"blip": {"epsilon": 20}})
    encoder = Encoder(schema, SECRET, COLUMNS)
    other = ["2", "Kyaw", "Zin", "M", "1983-11-02", "MMR", "Yangon"]
    clks = encoder.encode_rows([ROW, ROW, other])
    name = segments_of(encoder, clks)["name"]
    assert dice(name[0], name[1]) > dice(name[0], name[2]) + 0.2


# --- balancing ----------------------------------------------------------------------


def test_balance_has_half_the_bits_and_inverts_with_the_key() -> None:
    rng = np.random.default_rng(3)
    bits = 40
    permutation = rng.permutation(2 * bits)
    for _ in range(100):
        segment = int(rng.integers(0, 1 << bits))
        out = balance(segment, bits, permutation)
        assert out.bit_count() == bits
        as_bits = np.array([(out >> (2 * bits - 1 - i)) & 1 for i in range(2 * bits)])
        original = np.empty(2 * bits, dtype=int)
        original[permutation] = as_bits
        value = int("".join(map(str, original[:bits])), 2)
        assert value == segment
        assert all(original[:bits] + original[bits:] == 1)


def test_balanced_encodings_have_constant_weight_and_keyed_layout() -> None:
    schema = victim_with({"balance": True})
    encoder = Encoder(schema, SECRET, COLUMNS)
    rows = [ROW, ["2", "", "", "", "", "", ""], ["3", "Lan", "Nguyen", "F", "1995", "VNM", ""]]
    clks = encoder.encode_rows(rows)
    assert clks.shape == (3, 2 * 1024 // 8)
    for name, seg in segments_of(encoder, clks).items():
        assert (seg.sum(axis=1) == seg.shape[1] // 2).all(), name
    again = Encoder(schema, SECRET, COLUMNS).encode_rows(rows)
    assert np.array_equal(clks, again)
    other = Encoder(schema, b"another secret", COLUMNS).encode_rows(rows)
    # An empty record differs only by the permutation: it must depend on the key.
    assert not np.array_equal(clks[1], other[1])
    perms = balance_permutations(schema, b"k" * 32)
    assert not np.array_equal(perms["sex"], perms["nationality"])


def test_balancing_preserves_hamming_distance_ratios() -> None:
    plain = Encoder(victim_with(), SECRET, COLUMNS)
    balanced = Encoder(victim_with({"balance": True}), SECRET, COLUMNS)
    rows = [ROW, ["2", "Somchay", "Jaidee", "M", "1990-05-21", "THA", "Chiang Mai"]]
    a = segments_of(plain, plain.encode_rows(rows))
    b = segments_of(balanced, balanced.encode_rows(rows))
    for name in a:
        assert int((b[name][0] != b[name][1]).sum()) == 2 * int((a[name][0] != a[name][1]).sum())


# --- XOR folding --------------------------------------------------------------------


def test_fold_xor_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, 64)
    value = int("".join(map(str, bits)), 2)
    folded = bloomfilter.fold_xor(value, 64, 2)
    half = bits[:32] ^ bits[32:]
    quarter = half[:16] ^ half[16:]
    assert folded == int("".join(map(str, quarter)), 2)


def test_folded_schema_hashes_into_twice_the_bits_then_folds() -> None:
    folded = victim_with(folds=1)
    encoder = Encoder(folded, SECRET, COLUMNS)
    clks = encoder.encode_rows([ROW])
    assert clks.shape == (1, 128)
    # The same tokens hashed into a 2048-bit layout and folded by hand.
    wide_doc = copy.deepcopy(victim_with().document)
    wide_doc["clkConfig"]["l"] = 2048
    for segment in wide_doc["x-tiplink"]["segments"]:
        segment["bits"] *= 2
    wide = Encoder(parse_schema(wide_doc), SECRET, COLUMNS)
    wide_bits = segments_of(wide, wide.encode_rows([ROW]))
    folded_bits = segments_of(encoder, clks)
    for name, seg in wide_bits.items():
        half = seg.shape[1] // 2
        assert np.array_equal(folded_bits[name][0], seg[0, :half] ^ seg[0, half:]), name


# --- salting ------------------------------------------------------------------------


def test_salt_values() -> None:
    assert salt_value("1990-05-12", "year") == salt_value("1990", "year") == "1990"
    assert salt_value(" 1990-05 ", "year") == "1990"
    assert salt_value("", "year") == MISSING_SALT
    assert salt_value("  ", "value") == MISSING_SALT
    assert salt_value("THA", "value") == "THA"
    with pytest.raises(ValueError):
        salt_value("12/05/1990", "year")


def test_salting_by_birth_year_separates_years_and_keeps_matches() -> None:
    schema = victim_with(salt={"column": "date_of_birth", "derive": "year"})
    encoder = Encoder(schema, SECRET, COLUMNS)
    same_year = ["2", "Somchai", "Jaidee", "M", "1990", "THA", "Chiang Mai"]
    next_year = ["3", "Somchai", "Jaidee", "M", "1991-05-12", "THA", "Chiang Mai"]
    missing = ["4", "Somchai", "Jaidee", "M", "", "THA", "Chiang Mai"]
    missing_too = ["5", "Somchai", "Jaidee", "M", "", "THA", "Chiang Mai"]
    name = segments_of(encoder, encoder.encode_rows([ROW, same_year, next_year, missing,
                                                     missing_too]))["name"]
    assert dice(name[0], name[1]) == 1.0          # same year, any precision
    assert dice(name[0], name[2]) < 0.5            # a wrong year breaks the name match
    assert dice(name[0], name[3]) < 0.5            # so does a missing one
    assert dice(name[3], name[4]) == 1.0           # two missing years still match
    unsalted = Encoder(victim_with(), SECRET, COLUMNS)
    plain = segments_of(unsalted, unsalted.encode_rows([ROW]))["name"]
    assert dice(plain[0], name[0]) < 0.5           # salted tokens are new tokens


def test_bad_salt_value_names_the_column_and_not_the_value(tmp_path: Path) -> None:
    schema_doc = copy.deepcopy(load_schema("victim").document)
    schema_doc["features"][0]["x-tiplink"]["salt"] = {"column": "note", "derive": "year"}
    schema_path = tmp_path / "salted.json"
    import json

    schema_path.write_text(json.dumps(schema_doc))
    data = tmp_path / "in.csv"
    data.write_text(",".join([*COLUMNS, "note"]) + "\n" +
                    "1,Somchai,Jaidee,M,1990-05-12,THA,Chiang Mai,Zzyzx-secret\n")
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    out = tmp_path / "out.parquet"
    result = subprocess.run(
        [sys.executable, "-m", "tiplink", "encode", str(data), "--schema", str(schema_path),
         "--secret-file", str(secret), "--party", "police", "--output", str(out)],
        capture_output=True, text=True)
    assert result.returncode != 0
    assert "row 1" in result.stderr and "'note'" in result.stderr
    assert "Zzyzx" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


# --- keyed token sampling -----------------------------------------------------------


def test_sample_tokens_is_keyed_deterministic_and_keeps_the_rate() -> None:
    tokens = [f"t{i}" for i in range(4000)]
    kept = sample_tokens(tokens, b"key one", 0.3)
    assert kept == sample_tokens(tokens, b"key one", 0.3)
    assert len(kept) / len(tokens) == pytest.approx(0.3, abs=0.03)
    other = sample_tokens(tokens, b"key two", 0.3)
    assert len(set(kept) & set(other)) / len(kept) == pytest.approx(0.3, abs=0.05)
    assert sample_tokens(tokens, b"key one", 1.0) == tokens
    # Membership depends on the token only, not on its company.
    assert [t for t in tokens[:50] if t in kept] == sample_tokens(tokens[:50], b"key one", 0.3)
    # A value whose tokens would all be dropped keeps one.
    assert len(sample_tokens(["only"], b"key one", 1e-9)) == 1


def test_sampled_encodings_keep_equal_values_equal_and_sharing_keyed() -> None:
    rates = {"name": 0.4, "date_of_birth": 0.6, "place_of_origin": 0.4}
    schema = victim_with(sampling=rates)
    other = ["2", "Somsak", "Jaidee", "M", "1990-05-21", "THA", "Chiang Rai"]
    plain = Encoder(victim_with(), SECRET, COLUMNS)
    base = segments_of(plain, plain.encode_rows([ROW, other]))
    shared = []
    for secret in (b"first secret", b"second secret", b"third secret"):
        encoder = Encoder(schema, secret, COLUMNS)
        seg = segments_of(encoder, encoder.encode_rows([ROW, ROW, other]))
        assert np.array_equal(seg["name"][0], seg["name"][1])
        assert seg["name"][0].sum() < 0.7 * base["name"][0].sum()
        assert seg["dob"][0].sum() < base["dob"][0].sum()
        shared.append(round(dice(seg["name"][0], seg["name"][2]), 3))
    # How similar two different names look depends on the secret.
    assert len(set(shared)) > 1


def test_sampling_fast_path_equals_token_path() -> None:
    """The per-name-part cache samples exactly the tokens ``tokens()`` keeps."""
    from tiplink.encoders import bloomfilter
    from tiplink.encoders.clk import FeatureEncoder
    from tiplink.encoders.key_derivation import derive_feature_keys, derive_subkey

    schema = victim_with(sampling={"name": 0.35})
    feature = schema.features[0]
    keys = derive_feature_keys(SECRET, len(schema.features), schema.kdf)
    encoder = FeatureEncoder(feature, keys[0], 512, False,
                             derive_subkey(SECRET, "sampling:name"))
    for values in (("Nguyen Thi", "Lan", ""), ("Somchai", "Jaidee", "Noi"), ("Ma Khin", "", "")):
        tokens = encoder.tokens(values)
        expected = bloomfilter.mask_of(
            [p for t in tokens for p in encoder.token_positions(t)], 512)
        assert encoder.mask(values) == expected
        assert len(tokens) < len(encoder.tokens(values, sample=False))


def test_sampling_changes_nothing_without_the_key() -> None:
    schema = victim_with(sampling={"name": 0.4})
    a = Encoder(schema, SECRET, COLUMNS).encode_rows([ROW])
    b = Encoder(schema, b"another", COLUMNS).encode_rows([ROW])
    assert not np.array_equal(a, b)


def test_invalid_sampling_rate_is_rejected() -> None:
    for rate in (0, 1.5, "half"):
        document = copy.deepcopy(load_schema("victim").document)
        document["features"][0]["x-tiplink"]["sampling"] = {"rate": rate}
        with pytest.raises(SchemaError, match="sampling"):
            parse_schema(document)


# --- schema keys --------------------------------------------------------------------


@pytest.mark.parametrize("hardening", [
    {"blip": {"epsilon": 0}}, {"blip": {}}, {"balance": "yes"}, {"bloom": True},
])
def test_invalid_hardening_settings_are_rejected(hardening: dict) -> None:
    document = copy.deepcopy(load_schema("victim").document)
    document["x-tiplink"]["hardening"] = hardening
    with pytest.raises(SchemaError, match="hardening"):
        parse_schema(document)


def test_invalid_salt_derivation_is_rejected() -> None:
    document = copy.deepcopy(load_schema("victim").document)
    document["features"][0]["x-tiplink"]["salt"] = {"column": "date_of_birth", "derive": "day"}
    with pytest.raises(SchemaError, match="salt"):
        parse_schema(document)
