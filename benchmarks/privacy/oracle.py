"""The evaluator's bound for token attacks: perfect alignment of frequent tokens.

Attacks (a) and (b) first align tokens with bit positions, then decode and
match. Their success is bounded by what perfect alignment would give: this
module computes every frequent token group's true positions (with the
secret, which only the evaluator has) and scores with the same decoding, so
the bound reflects what the encodings leak to this class of attack, not how
well a given implementation aligns.
"""

from __future__ import annotations

import numpy as np

from privacy.encoded import TokenTable
from privacy.token_attacks import Unit
from tiplink.encoders.clk import FeatureEncoder
from tiplink.encoders.hardening import balance_permutations, token_keep_scores
from tiplink.encoders.key_derivation import derive_feature_keys, derive_subkey
from tiplink.encoders.schema import LinkageSchema


def true_units(schema: LinkageSchema, secret: bytes, segment: str, table: TokenTable,
               group_tokens: dict[str, list[str]], view_columns: np.ndarray | None,
               min_count: int) -> list[Unit]:
    """Units for every group seen ``min_count`` times, at their true positions.

    Args:
        schema: the encoding's schema.
        secret: the secret the encodings were made with.
        segment: the segment.
        table: the attacker's token table for it.
        group_tokens: each group label's tokens.
        view_columns: for balanced encodings, the encoded columns the
            attacker's de-balanced view kept (in order); ``None`` otherwise.
        min_count: fewest list entries a group must be on.
    """
    spec = {s.name: s for s in schema.segments}[segment]
    folded = spec.bits
    hashed = folded * 2 ** schema.xor_folds
    keys = derive_feature_keys(secret, len(schema.features), schema.kdf)
    features = {f.identifier: f for f in schema.features}
    encoders = {f.identifier: FeatureEncoder(f, keys[f.index], hashed,
                                             schema.hardening.random_hashing)
                for f in schema.features if not f.ignored and f.segment == segment}
    where = None
    if view_columns is not None:
        permutation = balance_permutations(schema, derive_subkey(secret, "balance"))[segment]
        # Output bit i carries doubled bit permutation[i]; the view keeps some outputs.
        output_of = {int(permutation[i]): i for i in range(permutation.size)}
        column_of = {int(c): j for j, c in enumerate(view_columns)}
        where = (output_of, column_of)
    counts = table.present.sum(axis=0)
    units = []
    for label, count in zip(table.vocab, counts, strict=True):
        if count < min_count:
            continue
        identifier = label.split(":", 1)[0]
        positions = set()
        tokens = group_tokens[label]
        sampling = features[identifier].sampling
        if sampling is not None:
            # Only the tokens the secret keeps were ever hashed.
            key = derive_subkey(secret, f"sampling:{identifier}")
            tokens = [t for t, score in zip(tokens, token_keep_scores(tokens, key), strict=True)
                      if score < sampling.rate]
        for token in tokens:
            positions.update(p % folded for p in encoders[identifier].token_positions(token))
        if where is not None:
            output_of, column_of = where
            positions = {column_of[output_of[p]] for p in positions
                         if output_of[p] in column_of}
        if positions:
            units.append(Unit((label,), np.array(sorted(positions))))
    return units
