"""Turning engine output into what each role may read.

* Entity ids: the engine's entity numbers never leave the server. Each
  party's records get opaque ids from a keyed hash (HMAC-SHA256 under a key
  derived from the server key) of (project, run, party, entity) under the
  default ``per-party`` policy, so two parties' result files share no id and
  cannot be joined; records of one entity within a party share an id. Under
  the ``shared`` policy the party is left out of the hash, so ids agree
  across parties (for projects whose agreement allows joining).
* Counts: the analyst's COUNTS.json has capture-history cells with a count
  in [1, k) suppressed (``count: null, suppressed: true``); if that leaves
  exactly one suppressed cell, the smallest other cell is suppressed too, so
  the hidden cell cannot be recovered as the total minus the rest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from tiplink.service.crypto import ServerKeys

POLICY_PER_PARTY = "per-party"
POLICY_SHARED = "shared"
POLICIES = (POLICY_PER_PARTY, POLICY_SHARED)


def opaque_entity_ids(clusters: pd.DataFrame, keys: ServerKeys, project_id: str, run_id: int,
                      policy: str) -> pd.Series:
    """Opaque entity ids for each row of ``clusters`` (party, record_id, entity_id)."""
    cache: dict[tuple[str, str], str] = {}
    out = []
    for party, entity in zip(clusters["party"], clusters["entity_id"], strict=True):
        scope = "*" if policy == POLICY_SHARED else str(party)
        key = (scope, str(entity))
        if key not in cache:
            cache[key] = "e" + keys.entity_id(project_id, str(run_id), scope, str(entity))
        out.append(cache[key])
    return pd.Series(out, index=clusters.index, dtype=object)


def party_cluster_blobs(clusters: pd.DataFrame, opaque: pd.Series) -> dict[str, bytes]:
    """One blob per party: lines ``record_id<TAB>entity_id`` (ids hold no
    control characters; the upload check guarantees it)."""
    blobs: dict[str, bytes] = {}
    frame = pd.DataFrame({"party": clusters["party"], "record_id": clusters["record_id"],
                          "entity": opaque})
    for party, group in frame.groupby("party", sort=True):
        text = "".join(f"{r}\t{e}\n" for r, e in zip(group["record_id"], group["entity"],
                                                        strict=True))
        blobs[str(party)] = text.encode("utf-8")
    return blobs


def parse_cluster_blob(blob: bytes) -> Iterator[tuple[str, str]]:
    """The (record_id, entity_id) pairs of a party's cluster blob, in order."""
    for line in blob.decode("utf-8").splitlines():
        record_id, _, entity = line.partition("\t")
        yield record_id, entity
