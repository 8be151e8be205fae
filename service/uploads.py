"""Checking an upload as it streams: the header first, then every batch.

Pure functions and a small stateful validator; no storage and no gRPC
server here, so each rule is easy to test. Every refusal names the problem
and never echoes a record id, an encoding or a strata value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import grpc
import numpy as np

from tiplink.encoders.extract import ContentDigest, ExtractHeader, Segment
from tiplink.service.refusal import Refused
from tiplink.service.storage import Project, check_fixed_fields
from tiplink.v1 import matching_pb2 as pb

PARTY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
FINGERPRINT_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
PRINTABLE_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
# No control characters (tab and newline included): ids are stored one per line.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_RECORD_ID_CHARS = 256
MAX_STRATUM_CHARS = 64
MAX_BIT_LENGTH = 65536


@dataclass(frozen=True)
class UploadLimits:
    """Size limits of uploads (exceeding one gives RESOURCE_EXHAUSTED).

    Attributes:
        max_records: records in one upload.
        max_batch_records: records in one batch message.
    """

    max_records: int = 10_000_000
    max_batch_records: int = 100_000


def _invalid(message: str) -> Refused:
    return Refused(grpc.StatusCode.INVALID_ARGUMENT, message)


def layout_json(header: pb.UploadHeader) -> str:
    """Canonical JSON of what every upload of a project must share besides the
    key check: the segment layout and the strata names."""
    return json.dumps({
        "segments": [[s.name, s.start, s.bits] for s in header.segments],
        "strata": list(header.strata),
    }, sort_keys=True)


def check_header(header: pb.UploadHeader, party: str, project: Project,
                 limits: UploadLimits) -> None:
    """Check an upload header against the caller and the project.

    Args:
        header: the first message of the upload.
        party: the caller's party (from the token).
        project: the caller's project.
        limits: size limits.

    Raises:
        Refused: INVALID_ARGUMENT (malformed), PERMISSION_DENIED (another
            party), FAILED_PRECONDITION (schema, secret or layout differ from
            the project's), RESOURCE_EXHAUSTED (too many records).
    """
    if not UPLOAD_ID_RE.match(header.upload_id):
        raise _invalid("upload id must be 1-128 characters from [A-Za-z0-9_.:-]")
    if not PARTY_RE.match(header.party):
        raise _invalid("party name must be 1-64 characters from [A-Za-z0-9_.-]")
    if header.party != party:
        raise Refused(grpc.StatusCode.PERMISSION_DENIED,
                      f"this token uploads for party {party!r} only, "
                      "not for the party named in the extract")
    if not FINGERPRINT_RE.match(header.schema_fingerprint):
        raise _invalid("schema fingerprint must be 'sha256:' and 64 hex digits")
    if header.schema_fingerprint != project.schema_fingerprint:
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                      "schema fingerprint differs from the project's: the extract was "
                      "encoded with another linkage schema")
    if not PRINTABLE_RE.match(header.key_check):
        raise _invalid("key-check value must be 1-200 printable ASCII characters")
    if header.bit_length <= 0 or header.bit_length % 8 or header.bit_length > MAX_BIT_LENGTH:
        raise _invalid(f"bit length must be a positive multiple of 8, at most {MAX_BIT_LENGTH}")
    if header.record_count == 0:
        raise _invalid("an upload must hold at least one record")
    if header.record_count > limits.max_records:
        raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                      f"upload declares more than {limits.max_records} records "
                      "(the server's limit)")
    for segment in header.segments:
        if not segment.name or segment.bits == 0 or segment.start + segment.bits > header.bit_length:
            raise _invalid("a segment lies outside the encoding or is empty")
    if len(set(header.strata)) != len(header.strata) or not all(
            PARTY_RE.match(s) for s in header.strata):
        raise _invalid("strata names must be distinct, 1-64 characters from [A-Za-z0-9_.-]")
    check_fixed_fields(project, header.key_check, header.bit_length, layout_json(header))


def extract_header_json(header: pb.UploadHeader) -> str:
    """The ExtractHeader JSON that the run worker rebuilds the extract from."""
    return ExtractHeader(
        party=header.party,
        schema_fingerprint=header.schema_fingerprint,
        key_check=header.key_check,
        bit_length=header.bit_length,
        record_count=header.record_count,
        created_at=header.created_at,
        schema_name=header.schema_name,
        segments=tuple(Segment(s.name, s.start, s.bits) for s in header.segments),
        strata=tuple(header.strata),
        content_sha256=header.content_sha256,
    ).to_json()


@dataclass
class BatchValidator:
    """Checks batches against the header as they arrive.

    Attributes:
        header: the upload's header.
        limits: size limits.
        received: records accepted so far.
    """

    header: pb.UploadHeader
    limits: UploadLimits
    received: int = 0
    _seen: set[str] = field(default_factory=set)
    _digest: ContentDigest = field(default_factory=ContentDigest)

    def check(self, batch: pb.RecordBatch) -> int:
        """Check one batch; return its record count.

        Raises:
            Refused: INVALID_ARGUMENT or RESOURCE_EXHAUSTED.
        """
        n = len(batch.record_ids)
        where = f"batch at record {self.received}"
        if n == 0:
            raise _invalid(f"{where}: empty batch")
        if n > self.limits.max_batch_records:
            raise Refused(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"{where}: more than {self.limits.max_batch_records} records "
                          "in one batch")
        if self.received + n > self.header.record_count:
            raise _invalid(f"{where}: more records than the header's record count")
        if len(batch.clks) != n * (self.header.bit_length // 8):
            raise _invalid(f"{where}: encodings are not {self.header.bit_length} bits "
                           "per record")
        for offset, record_id in enumerate(batch.record_ids):
            if not record_id or len(record_id) > MAX_RECORD_ID_CHARS or CONTROL_RE.search(
                    record_id):
                raise _invalid(f"record {self.received + offset}: record id must be 1-"
                               f"{MAX_RECORD_ID_CHARS} characters without control characters")
        names = [column.name for column in batch.strata]
        if names != list(self.header.strata):
            raise _invalid(f"{where}: strata columns do not match the header")
        for column in batch.strata:
            if len(column.values) != n:
                raise _invalid(f"{where}: stratum {column.name!r} has the wrong length")
            if any(len(v) > MAX_STRATUM_CHARS or CONTROL_RE.search(v) for v in column.values):
                raise _invalid(f"{where}: stratum {column.name!r} holds an over-long value "
                               "or control characters")
        # Last, because it changes state: a refused batch adds nothing.
        fresh = set(batch.record_ids)
        if len(fresh) != n or not self._seen.isdisjoint(fresh):
            raise _invalid(f"{where}: duplicate record id in the upload")
        self._seen |= fresh
        self._digest.update(batch.record_ids, np.frombuffer(batch.clks, dtype=np.uint8),
                            {c.name: c.values for c in batch.strata})
        self.received += n
        return n

    def finish(self) -> None:
        """Check the upload is complete.

        Raises:
            Refused: INVALID_ARGUMENT when fewer records arrived than declared
                or the content does not match the header's digest.
        """
        if self.received != self.header.record_count:
            raise _invalid(f"upload ended after {self.received} of "
                           f"{self.header.record_count} records")
        if self.header.content_sha256 and (
                self._digest.hexdigest() != self.header.content_sha256):
            raise _invalid("upload content does not match the extract's content digest "
                           "(corrupt or altered)")
