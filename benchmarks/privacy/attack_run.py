"""Run the three attacks on one encoding variant at one overlap."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from privacy.data import AttackData
from privacy.encoded import attacker_view, dice_matrix, encode, token_tables
from privacy.graph_attack import graph_match, simulated_similarities
from privacy.oracle import true_units
from privacy.pattern_mining import pattern_mining_units
from privacy.reidentify import assign, chance_share, correct_share
from privacy.token_attacks import (
    AttackParams,
    frequency_finder,
    identify_units,
    pattern_alignment_scores,
    unit_scores,
)
from tiplink.encoders.hardening import BlipNoise, segment_bits_per_token
from tiplink.encoders.schema import LinkageSchema, parse_schema

# What a public list of names and birth dates lets the attacker compare.
KNOWN_FEATURES = ("name", "given_name", "family_name", "date_of_birth",
                  "victim_names", "suspect_names", "incident_date", "incident_location")
# Own-key encodings the attacker averages over when similarities depend on the key.
SIMULATIONS = 4
ATTACKS = ("frequency", "pattern_mining", "token_bound", "graph", "graph_refined")


@dataclass(frozen=True)
class AttackOutcome:
    """Correct re-identifications (share of encoded records) per attack."""

    variant: str
    overlap: float
    records: int
    shares: dict[str, float]
    units: dict[str, int]
    chance: float
    seconds: float


def covered_segments(schema: LinkageSchema) -> list[str]:
    """Segments holding a feature the attacker's list has."""
    return [s.name for s in schema.segments
            if any(f.segment == s.name and not f.ignored and f.identifier in KNOWN_FEATURES
                   for f in schema.features)]


def attack_params(schema: LinkageSchema, segment: str) -> AttackParams:
    """What the schema tells the attacker about one segment."""
    bits = {s.name: s.bits for s in schema.segments}[segment]
    flip = 0.0
    if schema.hardening.blip_epsilon:
        flip = BlipNoise.for_schema(schema, seed=0).probabilities[segment]
    return AttackParams(bits_per_token=segment_bits_per_token(schema)[segment],
                        segment_bits=bits * 2 ** schema.xor_folds, folded_bits=bits,
                        flip_probability=flip)


def keyed_randomness(schema: LinkageSchema) -> bool:
    """Whether similarities depend on the key (so one own-key simulation is noisy)."""
    return schema.xor_folds > 0 or any(
        f.sampling is not None for f in schema.features if not f.ignored)


def without_blip(schema: LinkageSchema) -> LinkageSchema:
    """The same schema with BLIP off (for the attacker's noise-free simulation)."""
    if not schema.hardening.blip_epsilon:
        return schema
    document = copy.deepcopy(schema.document)
    document["x-tiplink"]["hardening"].pop("blip")
    return parse_schema(document, name=schema.name)


def run_attacks(schema: LinkageSchema, data: AttackData, overlap: float,
                rng: np.random.Generator, variant: str = "") -> AttackOutcome:
    """Encode the population, then attack it with a public list.

    Args:
        schema: the encoding under attack.
        data: the encoded population and the people a list is drawn from.
        overlap: share of the encoded people on the attacker's list.
        rng: randomness of the list and of tie-breaking.
        variant: name for the results.
    """
    start = time.perf_counter()
    rows = data.rows
    # Keys from ``rng``: a run is reproducible from its seed (with fresh
    # random keys the graph attack's share on the test data ranged from 0.25
    # to 0.83 between runs, which made its test flaky).
    secret = rng.bytes(32)
    encoded = encode(schema, secret, data.columns, rows)
    public_rows, list_people = data.attacker_list(overlap, rng)
    encoded_ids = data.people.tolist()
    list_ids = list_people.tolist()
    segments = covered_segments(schema)
    view, kept_columns = attacker_view(encoded)
    tables = token_tables(schema, data.columns, public_rows, segments)
    shares: dict[str, float] = {}
    units: dict[str, int] = {}
    for attack in ("frequency", "pattern_mining", "token_bound"):
        total = np.zeros((len(rows), len(public_rows)), dtype=np.float32)
        found = 0
        for segment in segments:
            params = attack_params(schema, segment)
            if attack == "frequency":
                identified = identify_units(view[segment], tables[segment], frequency_finder,
                                            params)
            elif attack == "pattern_mining":
                identified = pattern_mining_units(view[segment], tables[segment], params)
            else:
                identified = true_units(schema, secret, segment, tables[segment],
                                        tables[segment].tokens, kept_columns[segment],
                                        params.min_count)
            found += len(identified)
            total += unit_scores(view[segment], tables[segment], identified, params)
            if attack == "frequency":
                total += pattern_alignment_scores(view[segment], tables[segment])
        assignment = assign(total, rng)
        units[attack] = found
        shares[attack] = correct_share(assignment, encoded_ids, list_ids)
    # The attacker encodes its own list under keys of its own (Kerckhoffs),
    # without BLIP noise, whose expected effect it applies instead.
    flips = None
    if schema.hardening.blip_epsilon:
        flips = [attack_params(schema, s).flip_probability for s in segments]
    own = without_blip(schema)
    draws = SIMULATIONS if keyed_randomness(schema) else 1
    simulations = []
    for _ in range(draws):
        simulated = encode(own, rng.bytes(32), data.columns, public_rows)
        simulations.append([simulated.segments[s] for s in segments])
    result = graph_match([dice_matrix(encoded.segments[s]) for s in segments],
                         simulated_similarities(simulations, flips), rng)
    shares["graph"] = correct_share(result.paper, encoded_ids, list_ids)
    shares["graph_refined"] = correct_share(result.refined, encoded_ids, list_ids)
    return AttackOutcome(variant or schema.name, overlap, len(rows), shares, units,
                         chance_share(encoded_ids, list_ids), time.perf_counter() - start)
