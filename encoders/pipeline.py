"""Encode a whole input file: read → encode → write, streamed in batches.

This is what ``tiplink encode`` runs. Rows flow in batches (memory stays
flat for any input size), optionally across worker processes, into either
the extract file or clkhash's JSON format. Any bad value stops the run with
one message naming file, row and column, and no output file is left behind.
"""

from __future__ import annotations

import binascii
import collections
import ctypes
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplink.atomic import atomic_output
from tiplink.encoders.arrow_util import int_array_to_numpy
from tiplink.encoders.clk import Encoder
from tiplink.encoders.extract import ExtractHeader, ExtractWriter, Segment, now_utc
from tiplink.encoders.fields import FieldValueError
from tiplink.encoders.readers import DEFAULT_BATCH_SIZE, ColumnBatch, TableReader, open_table
from tiplink.encoders.schema import LinkageSchema, parse_schema
from tiplink.errors import InputError

OutputFormat = Literal["extract", "clkhash-json"]
DEFAULT_ID_COLUMN = "record_id"
# Below this many rows, starting worker processes costs more than it saves.
PARALLEL_MIN_ROWS = 60_000


@dataclass(frozen=True)
class EncodeSummary:
    """What an encode run produced."""

    records: int
    output: Path
    format: OutputFormat
    key_check: str
    schema_fingerprint: str


def resolve_columns(schema: LinkageSchema, header: list[str], path: Path) -> list[str]:
    """Map the schema's input columns onto the header.

    Columns are matched by name. A plain clkhash schema whose identifiers are
    not all in the header, but whose feature count equals the column count,
    is matched by position, as clkhash does.

    Returns:
        The header to give the encoder (renamed when matched by position).

    Raises:
        InputError: a required column is missing.
    """
    present = set(header)
    missing = [c for c in schema.input_columns
               if c not in present and c not in schema.optional_columns]
    if not missing:
        return header
    plain = all(f.ignored or (f.normalise is None and f.tokens is None) for f in schema.features)
    if plain and len(header) == len(schema.features) and not schema.strata:
        return [f.identifier for f in schema.features]
    name = missing[0]
    users = [f.identifier for f in schema.features if not f.ignored and name in f.columns]
    needed_by = f" (needed by feature {users[0]!r})" if users else ""
    raise InputError(f"required column {name!r} is missing{needed_by}", path, 0, name)


class _IdTracker:
    """Collects record ids (compact Arrow strings) to find repeats exactly."""

    def __init__(self) -> None:
        self._chunks: list[pa.Array] = []

    def add(self, ids: pa.Array) -> None:
        self._chunks.append(ids)

    def first_duplicate(self) -> int | None:
        """0-based position of the first id that repeats an earlier one, or ``None``."""
        if not self._chunks:
            return None
        ids = pa.chunked_array(self._chunks, type=pa.string())
        if pc.count_distinct(ids).as_py() == len(ids):
            return None
        counts = pc.value_counts(ids)
        repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        positions = np.nonzero(pc.is_in(ids, value_set=repeated).to_numpy(
            zero_copy_only=False))[0]
        seen: set[str] = set()
        for position in positions:
            value = ids[int(position)].as_py()
            if value in seen:
                return int(position)
            seen.add(value)
        return None


def _record_ids(batch: ColumnBatch, id_index: int | None, path: Path, id_column: str | None
                ) -> pa.Array:
    if id_index is None:
        start = batch.first_row - 1
        numbers = np.arange(start, start + batch.length, dtype=np.int64)
        as_int = pa.Array.from_buffers(pa.int64(), batch.length,
                                       [None, pa.py_buffer(numbers.tobytes())])
        return as_int.cast(pa.string())
    ids = pc.utf8_trim_whitespace(batch.columns[id_index])
    empty = int_array_to_numpy(pc.binary_length(ids)) == 0
    if empty.any():
        first = int(np.argmax(empty))
        raise InputError("record id is empty", path, batch.first_row + first, id_column)
    return ids


# --- worker processes ---------------------------------------------------------

def keep_freed_memory() -> None:
    """Ask glibc's allocator to keep freed memory instead of returning it.

    Each batch allocates and frees the same large numpy buffers; by default
    glibc maps buffers over 128 KiB afresh and unmaps them when freed, so
    every batch pays its page faults again (a quarter of the single-core
    time on a 1M-row encode went to the kernel). Peak memory is unchanged:
    the same buffers are reused. No-op where glibc is absent.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 256 << 20)
    mallopt(m_trim_threshold, 1 << 30)
    mallopt(m_top_pad, 64 << 20)


_worker_encoder: Encoder | None = None


def _worker_init(document: dict[str, Any], name: str, secret: bytes, header: list[str]) -> None:
    global _worker_encoder
    keep_freed_memory()
    _worker_encoder = Encoder(parse_schema(document, name=name), secret, header)


def _worker_encode(columns: list[pa.Array]) -> tuple[np.ndarray | None,
                                                     tuple[int, str, str] | None,
                                                     dict[str, list[str]] | None]:
    assert _worker_encoder is not None
    try:
        return (_worker_encoder.encode_columns(columns), None,
                _worker_encoder.strata_columns(columns))
    except FieldValueError as exc:
        return None, (exc.row_index or 0, exc.column, exc.reason), None


def _encoded_batches(reader: TableReader, encoder: Encoder, schema: LinkageSchema,
                     secret: bytes, header: list[str], workers: int
                     ) -> Iterator[tuple[ColumnBatch, np.ndarray, dict[str, list[str]]]]:
    """Encode batches in order, in this process or in a bounded worker pool."""

    def fail(batch: ColumnBatch, index: int, column: str, reason: str) -> None:
        raise InputError(reason, reader.path, batch.first_row + index, column)

    batches = reader.batches(DEFAULT_BATCH_SIZE)
    if workers <= 1:
        for batch in batches:
            try:
                clks = encoder.encode_columns(batch.columns)
                strata = encoder.strata_columns(batch.columns)
            except FieldValueError as exc:
                fail(batch, exc.row_index or 0, exc.column, exc.reason)
            yield batch, clks, strata
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_worker_init,
                      initargs=(schema.document, schema.name, secret, header)) as pool:
        pending: collections.deque = collections.deque()
        for batch in batches:
            pending.append((batch, pool.apply_async(_worker_encode, (batch.columns,))))
            # Bounded in flight: memory stays flat whatever the input size.
            while len(pending) > 2 * workers:
                yield _collect(pending.popleft(), fail)
        while pending:
            yield _collect(pending.popleft(), fail)


def _collect(item: tuple[ColumnBatch, Any], fail: Any) -> tuple[ColumnBatch, np.ndarray, dict]:
    batch, result = item
    clks, failure, strata = result.get()
    if failure is not None:
        fail(batch, *failure)
    return batch, clks, strata


_B64_ALPHABET = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8)


def base64_rows(rows: np.ndarray) -> np.ndarray:
    """Standard base64 (with padding) of every row of a ``uint8`` array.

    The whole 3-byte groups of all rows are encoded in one ``binascii`` call
    (their encodings concatenate); only the last 1 or 2 bytes of each row
    are encoded with numpy.

    Returns:
        ``uint8`` array of shape ``(n, 4 * ceil(width / 3))`` holding ASCII.
    """
    count, width = rows.shape
    whole = width // 3 * 3
    parts = []
    if whole:
        head = binascii.b2a_base64(np.ascontiguousarray(rows[:, :whole]).tobytes(), newline=False)
        parts.append(np.frombuffer(head, dtype=np.uint8).reshape(count, whole // 3 * 4))
    rest = width - whole
    if rest:
        tail = np.zeros((count, 3), dtype=np.uint32)
        tail[:, :rest] = rows[:, whole:]
        joined = (tail[:, 0] << 16) | (tail[:, 1] << 8) | tail[:, 2]
        text = _B64_ALPHABET[np.stack([(joined >> s) & 63 for s in (18, 12, 6, 0)], axis=1)]
        text[:, rest + 1:] = ord("=")
        parts.append(text)
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


class _ClkhashJsonWriter:
    """Streams ``{"clks": [base64, ...]}`` exactly as clkhash writes it."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._first = True
        handle.write('{"clks": [')

    def write(self, clks: np.ndarray) -> None:
        if len(clks) == 0:
            return
        text = base64_rows(clks)
        # Each entry is '"<base64>"' followed by ', ' (the last one's is dropped).
        entries = np.empty((len(clks), text.shape[1] + 4), dtype=np.uint8)
        entries[:, 0] = ord('"')
        entries[:, 1:-3] = text
        entries[:, -3:] = np.frombuffer(b'", ', dtype=np.uint8)
        body = entries.tobytes()[:-2].decode("ascii")
        self._handle.write(body if self._first else ", " + body)
        self._first = False

    def close(self) -> None:
        self._handle.write("]}")

def _progress_bar(reader: TableReader, enabled: bool | None) -> Any:
    from tqdm import tqdm

    total, unit = reader.progress_total()
    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, unit=unit, unit_scale=True, disable=not show, file=sys.stderr,
                desc="encoding", leave=False)


def encode_file(input_path: str | Path, schema: LinkageSchema, secret: bytes, party: str,
                output: str | Path, id_column: str | None = None,
                output_format: OutputFormat = "extract", workers: int | None = None,
                progress: bool | None = None) -> EncodeSummary:
    """Encode an input table into an extract or clkhash JSON.

    Args:
        input_path: CSV, Parquet or XLSX with a header row.
        schema: the linkage schema.
        secret: the shared secret.
        party: the agency's name, written into the extract.
        output: the output file (written atomically).
        id_column: the column holding record ids; by default ``record_id``
            where present, else the 0-based row number.
        output_format: ``extract`` or ``clkhash-json``.
        workers: processes to encode with (default: every core for large
            inputs).
        progress: show a progress bar (default: when stderr is a terminal).

    Raises:
        InputError: bad input, naming file, row and column.
    """
    input_path = Path(input_path)
    output = Path(output)
    keep_freed_memory()
    reader = open_table(input_path)
    header = resolve_columns(schema, reader.header, input_path)
    if id_column is not None and id_column not in reader.header:
        raise InputError(f"id column {id_column!r} is missing", input_path, 0, id_column)
    if id_column is None and DEFAULT_ID_COLUMN in reader.header:
        id_column = DEFAULT_ID_COLUMN
    id_index = reader.header.index(id_column) if id_column is not None else None
    encoder = Encoder(schema, secret, header)
    if workers is None:
        size_hint, unit = reader.progress_total()
        rows_hint = size_hint if unit == "rows" else size_hint // 60
        workers = min(os.cpu_count() or 1, 4) if rows_hint >= PARALLEL_MIN_ROWS else 1
    ids = _IdTracker()
    count = 0
    bar = _progress_bar(reader, progress)
    try:
        if output_format == "clkhash-json":
            with atomic_output(output, "w") as handle:
                writer = _ClkhashJsonWriter(handle)
                # clkhash's format carries no record ids (rows stay in input
                # order), so they are not collected or checked for repeats.
                for batch, clks, _ in _encoded_batches(reader, encoder, schema, secret, header,
                                                       workers):
                    writer.write(clks)
                    count += batch.length
                    bar.update(reader.progress_position() - bar.n)
                _check_ids(ids, count, input_path, id_column)
                writer.close()
        else:
            layout = tuple(Segment(n, s, b) for n, s, b in encoder.segment_layout)
            header_template = ExtractHeader(
                party=party, schema_fingerprint=schema.fingerprint, key_check=encoder.key_check,
                bit_length=schema.output_bits, record_count=0, created_at=now_utc(),
                schema_name=schema.name, id_column=id_column, segments=layout,
                strata=tuple(s.name for s in schema.strata))
            extract = ExtractWriter(output, header_template)
            try:
                for batch, clks, strata in _encoded_batches(reader, encoder, schema, secret,
                                                            header, workers):
                    record_ids = _record_ids(batch, id_index, input_path, id_column)
                    ids.add(record_ids)
                    extract.write_batch(record_ids, clks, strata)
                    count += batch.length
                    bar.update(reader.progress_position() - bar.n)
                _check_ids(ids, count, input_path, id_column)
                extract.close()
            except BaseException:
                extract.abort()
                raise
    finally:
        bar.close()
    return EncodeSummary(records=count, output=output, format=output_format,
                         key_check=encoder.key_check, schema_fingerprint=schema.fingerprint)


def _check_ids(ids: _IdTracker, count: int, path: Path, id_column: str | None) -> None:
    if count == 0:
        raise InputError("the file has a header but no records", path)
    duplicate = ids.first_duplicate()
    if duplicate is not None:
        raise InputError("record id repeats an earlier row's id (ids must be unique)", path,
                         duplicate + 1, id_column)


def read_secret_file(path: str | Path) -> bytes:
    """Read the shared secret: the file's text less one trailing newline.

    Raises:
        InputError: the file is missing, unreadable, not UTF-8 or empty.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("secret file not found", path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("secret file is not UTF-8 text", path) from None
    except OSError as exc:
        raise InputError(f"cannot read secret file ({exc.strerror})", path) from None
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise InputError("secret file is empty", path)
    return text.encode("utf-8")


def write_json(data: Any, path: str | Path) -> None:
    """Write JSON atomically."""
    with atomic_output(path, "w") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
