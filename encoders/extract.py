"""The extract file: one agency's encoded register, self-describing.

An extract is a Parquet file, so standard tools (pyarrow, pandas, DuckDB) can
read it. It holds no plaintext identifier:

* column ``record_id`` (string): the agency's own reference for each record
  (the ``--id-column`` value, or the 0-based input row number). It must hold
  no personal data.
* column ``clk`` (fixed-size binary, ``bit_length / 8`` bytes): the encoding.
  Bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` (clkhash's order).
* optional columns ``stratum.<name>`` (string): clear, non-identifying strata
  the schema declares (for example sex or age band), used for per-stratum
  counts.

The file's key-value metadata entry ``tiplink.extract`` is a JSON header
(:class:`ExtractHeader`): format version, party, schema fingerprint, bit
length, record count, creation time, the key-check value, the segment layout
of the encoding and a SHA-256 digest of the content, which is checked on
every read so that a corrupt or altered file is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tiplink import __version__
from tiplink.atomic import atomic_path
from tiplink.encoders.arrow_util import int_array_to_numpy, string_array
from tiplink.errors import ExtractError

FORMAT_NAME = "tiplink-extract"
FORMAT_VERSION = 1
METADATA_KEY = b"tiplink.extract"
STRATUM_PREFIX = "stratum."


@dataclass(frozen=True)
class Segment:
    """A named range of bits in the encoding that holds one group of features.

    Attributes:
        name: the segment's name, e.g. ``"name"`` or ``"dob"``.
        start: index of its first bit.
        bits: its length in bits.
    """

    name: str
    start: int
    bits: int


@dataclass(frozen=True)
class ExtractHeader:
    """What an extract says about itself.

    Attributes:
        party: the agency that encoded it.
        schema_fingerprint: ``sha256:<hex>`` of the canonical linkage schema.
        key_check: a value derived from the secret that lets a server confirm
            that all parties used the same secret without learning it.
        bit_length: length of each encoding in bits.
        record_count: number of records.
        created_at: ISO 8601 UTC time of encoding.
        schema_name: the schema's name (``victim``, ``case`` or a file stem).
        id_column: the input column the record ids came from, or ``None`` when
            they are 0-based row numbers.
        segments: the bit ranges of the schema's segments; a plain clkhash
            schema has one segment, ``record``, covering every bit.
        strata: names of the clear strata columns.
        content_sha256: digest of record ids, encodings and strata.
        format_version: version of this file format.
        tiplink_version: version of the encoder that wrote it.
    """

    party: str
    schema_fingerprint: str
    key_check: str
    bit_length: int
    record_count: int
    created_at: str
    schema_name: str = ""
    id_column: str | None = None
    segments: tuple[Segment, ...] = ()
    strata: tuple[str, ...] = ()
    content_sha256: str = ""
    format_version: int = FORMAT_VERSION
    tiplink_version: str = __version__

    def to_json(self) -> str:
        """Serialise to the JSON stored in the file metadata."""
        data = dataclasses.asdict(self)
        data["format"] = FORMAT_NAME
        data["segments"] = [dataclasses.asdict(s) for s in self.segments]
        data["strata"] = list(self.strata)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, path: str | Path = "") -> ExtractHeader:
        """Parse and check the JSON header of an extract."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise ExtractError("extract header is not valid JSON (corrupt file?)", path) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ExtractError("not a tiplink extract (no tiplink header)", path)
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ExtractError(
                f"extract format version {version!r} is not supported "
                f"(this tiplink reads version {FORMAT_VERSION})",
                path,
            )
        try:
            segments = tuple(Segment(str(s["name"]), int(s["start"]), int(s["bits"]))
                             for s in data.get("segments") or ())
            header = cls(
                party=str(data["party"]),
                schema_fingerprint=str(data["schema_fingerprint"]),
                key_check=str(data["key_check"]),
                bit_length=int(data["bit_length"]),
                record_count=int(data["record_count"]),
                created_at=str(data["created_at"]),
                schema_name=str(data.get("schema_name", "")),
                id_column=data.get("id_column"),
                segments=segments,
                strata=tuple(str(s) for s in data.get("strata") or ()),
                content_sha256=str(data.get("content_sha256", "")),
                format_version=int(version),
                tiplink_version=str(data.get("tiplink_version", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ExtractError(f"extract header lacks or garbles a field ({exc})", path) from None
        if header.bit_length <= 0 or header.bit_length % 8:
            raise ExtractError("extract header has an invalid bit length", path)
        return header


@dataclass
class Extract:
    """A whole extract in memory.

    Attributes:
        header: the file's header.
        record_ids: one id per record, in file order.
        clks: ``uint8`` array of shape ``(record_count, bit_length // 8)``.
        strata: clear strata values per stratum name, aligned with records.
    """

    header: ExtractHeader
    record_ids: list[str]
    clks: np.ndarray
    strata: dict[str, list[str]] = field(default_factory=dict)


class ContentDigest:
    """Incremental SHA-256 over record ids, encodings and strata.

    Each column is hashed as two streams, the big-endian 32-bit byte length
    of each value and the values' UTF-8 bytes, so the digest does not depend
    on how the records were split into batches, and it is computed from
    Arrow buffers without a Python loop over records.
    """

    def __init__(self) -> None:
        self._clks = hashlib.sha256(b"tiplink-extract-clks-v1\0")
        self._strings: dict[str, tuple[Any, Any]] = {}

    def _add_strings(self, name: str, values: Sequence[str] | pa.Array) -> None:
        array = values if isinstance(values, pa.Array) else string_array(
            ["" if v is None else v for v in values])
        array = array.cast(pa.large_string())
        if array.null_count:
            array = pc.coalesce(array, "")
        lengths = int_array_to_numpy(pc.binary_length(array)).astype(">u4")
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64,
                                count=len(array) + 1, offset=array.offset * 8)
        data = array.buffers()[2]
        chunk = b"" if data is None else data.to_pybytes()[offsets[0]:offsets[-1]]
        streams = self._strings.setdefault(
            name, (hashlib.sha256(name.encode() + b"\0len"), hashlib.sha256(name.encode() + b"\0")))
        streams[0].update(lengths.tobytes())
        streams[1].update(chunk)

    def update(self, record_ids: Sequence[str] | pa.Array, clks: np.ndarray,
               strata: dict[str, Sequence[str]] | None = None) -> None:
        """Add one batch of records."""
        self._add_strings("record_id", record_ids)
        self._clks.update(np.ascontiguousarray(clks, dtype=np.uint8).tobytes())
        for name, values in (strata or {}).items():
            self._add_strings("stratum." + name, values)

    def hexdigest(self) -> str:
        combined = hashlib.sha256(self._clks.digest())
        for name in sorted(self._strings):
            lengths, data = self._strings[name]
            combined.update(lengths.digest() + data.digest())
        return combined.hexdigest()


def _arrow_schema(bit_length: int, strata: Iterable[str]) -> pa.Schema:
    fields = [
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("clk", pa.binary(bit_length // 8), nullable=False),
    ]
    fields += [pa.field(STRATUM_PREFIX + name, pa.string()) for name in strata]
    return pa.schema(fields)


class ExtractWriter:
    """Write an extract batch by batch, so memory stays flat for any size.

    The file appears at ``path`` only when :meth:`close` succeeds; on error
    (or if the writer is used as a context manager and the block raises)
    nothing is left behind.

    Args:
        path: the output file.
        header: the header; ``record_count`` and ``content_sha256`` are
            filled in from what is written.
    """

    def __init__(self, path: str | Path, header: ExtractHeader) -> None:
        self.path = Path(path)
        self.header = header
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._schema = _arrow_schema(header.bit_length, header.strata)
        # Encodings look random and do not compress; ids and strata do.
        compression = {name: "zstd" for name in self._schema.names}
        compression["clk"] = "none"
        self._writer = pq.ParquetWriter(
            self._tmp, self._schema, compression=compression, write_page_checksum=True
        )
        self._digest = ContentDigest()
        self._count = 0
        self._closed = False

    def write_batch(self, record_ids: Sequence[str], clks: np.ndarray,
                    strata: dict[str, Sequence[str]] | None = None) -> None:
        """Append records; ``clks`` is ``uint8`` of shape ``(n, bit_length // 8)``."""
        nbytes = self.header.bit_length // 8
        clks = np.ascontiguousarray(clks, dtype=np.uint8)
        if clks.ndim != 2 or clks.shape[1] != nbytes or clks.shape[0] != len(record_ids):
            raise ValueError("clks must have shape (len(record_ids), bit_length // 8)")
        strata = strata or {}
        ids = record_ids if isinstance(record_ids, pa.Array) else string_array(record_ids)
        columns = [
            ids,
            pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(nbytes), len(record_ids), [None, pa.py_buffer(clks.tobytes())]
            ),
        ]
        columns += [strata[name] if isinstance(strata[name], pa.Array)
                    else string_array(strata[name]) for name in self.header.strata]
        self._writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=self._schema))
        self._digest.update(ids, clks, {n: strata[n] for n in self.header.strata})
        self._count += len(record_ids)

    def close(self) -> ExtractHeader:
        """Finish the file and move it into place; return the final header."""
        final = dataclasses.replace(
            self.header, record_count=self._count, content_sha256=self._digest.hexdigest()
        )
        self._writer.add_key_value_metadata({METADATA_KEY: final.to_json().encode()})
        self._writer.close()
        self._closed = True
        self._atomic.__exit__(None, None, None)
        return final

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.close()
        finally:
            self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> ExtractWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            if not self._closed:
                self.close()
        else:
            self.abort()


def write_extract(path: str | Path, header: ExtractHeader, record_ids: Sequence[str],
                  clks: np.ndarray, strata: dict[str, Sequence[str]] | None = None
                  ) -> ExtractHeader:
    """Write a whole extract at once (atomically); return its final header."""
    with ExtractWriter(path, header) as writer:
        writer.write_batch(record_ids, clks, strata)
        return writer.close()


def _open_parquet(path: Path) -> pq.ParquetFile:
    if not path.exists():
        raise ExtractError("file not found", path)
    if path.stat().st_size == 0:
        raise ExtractError("extract is empty (0 bytes)", path)
    try:
        return pq.ParquetFile(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError, ValueError):
        raise ExtractError("not a readable extract (truncated or corrupt Parquet file)",
                           path) from None


def _header_of(parquet: pq.ParquetFile, path: Path) -> ExtractHeader:
    metadata = parquet.metadata.metadata or {}
    if METADATA_KEY not in metadata:
        raise ExtractError("not a tiplink extract (no tiplink header)", path)
    return ExtractHeader.from_json(metadata[METADATA_KEY], path)


def read_extract_header(path: str | Path) -> ExtractHeader:
    """Read only the header of an extract (cheap: the Parquet footer)."""
    path = Path(path)
    parquet = _open_parquet(path)
    return _header_of(parquet, path)


def read_extract(path: str | Path) -> Extract:
    """Read and verify a whole extract.

    Raises:
        ExtractError: the file is missing, empty, truncated, corrupt, lacks the
            tiplink header, or its content does not match its header.
    """
    path = Path(path)
    parquet = _open_parquet(path)
    header = _header_of(parquet, path)
    nbytes = header.bit_length // 8
    expected = _arrow_schema(header.bit_length, header.strata)
    if not parquet.schema_arrow.remove_metadata().equals(expected):
        raise ExtractError("extract columns do not match its header", path)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError, ValueError):
        raise ExtractError("extract content is corrupt (checksum or decode failure)",
                           path) from None
    if table.num_rows != header.record_count:
        raise ExtractError(
            f"extract holds {table.num_rows} records but its header says "
            f"{header.record_count} (truncated or altered)", path)
    id_column = table.column("record_id").combine_chunks()
    record_ids = id_column.to_pylist()
    clk_column = table.column("clk").combine_chunks()
    buffer = clk_column.buffers()[1]
    offset = clk_column.offset * nbytes
    clks = np.frombuffer(buffer, dtype=np.uint8, count=len(clk_column) * nbytes, offset=offset)
    clks = clks.reshape(len(clk_column), nbytes).copy()
    strata_arrays = {name: table.column(STRATUM_PREFIX + name).combine_chunks()
                     for name in header.strata}
    digest = ContentDigest()
    digest.update(id_column, clks, strata_arrays)
    strata = {name: array.to_pylist() for name, array in strata_arrays.items()}
    if header.content_sha256 and digest.hexdigest() != header.content_sha256:
        raise ExtractError("extract content does not match its digest (corrupt or altered)",
                           path)
    if pc.count_distinct(id_column).as_py() != len(record_ids):
        raise ExtractError("extract has duplicate record ids", path)
    return Extract(header=header, record_ids=record_ids, clks=clks, strata=strata)


def now_utc() -> str:
    """The current UTC time, as written in headers."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
