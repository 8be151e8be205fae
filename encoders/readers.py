"""Input readers: CSV, Parquet and Excel, streamed in batches of columns.

Each reader yields :class:`ColumnBatch` objects holding at most
``batch_size`` records as Arrow string arrays (one per header column, ``''``
for empty cells), so 10 million rows never sit in memory at once and the
encoder can work on distinct values rather than on rows.

CSV is parsed by Arrow's C++ reader. If Arrow refuses the file (bad UTF-8, a
row with the wrong number of fields, broken quoting), a strict Python reader
takes over from the same record: it either reads what Arrow could not, or
names the exact row. Problems raise :class:`~tiplink.errors.InputError`
naming the file, the row (1-based count of data records; the header is row
0) and the column, and never the offending value.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from tiplink.encoders.arrow_util import string_array
from tiplink.errors import InputError

DEFAULT_BATCH_SIZE = 100_000
SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")


@dataclass
class ColumnBatch:
    """A batch of input records, column by column.

    Attributes:
        first_row: row number of the batch's first record (the header is row 0).
        columns: one string array per header column, aligned, no nulls.
    """

    first_row: int
    columns: list[pa.Array]

    @property
    def length(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def rows(self) -> list[list[str]]:
        """The records as lists of strings (for small batches and tests)."""
        return [list(r) for r in zip(*(c.to_pylist() for c in self.columns), strict=True)]


def columns_from_rows(rows: list[list[str]], width: int) -> list[pa.Array]:
    """Transpose rows of strings into string arrays."""
    if not rows:
        return [string_array([]) for _ in range(width)]
    return [string_array(column) for column in zip(*rows, strict=True)]


class TableReader:
    """A streamed table: its header, a size hint, and batches of columns."""

    path: Path
    header: list[str]

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ColumnBatch]:
        raise NotImplementedError

    def progress_total(self) -> tuple[int, str]:
        """A total for the progress bar and its unit (rows or bytes)."""
        raise NotImplementedError

    def progress_position(self) -> int:
        raise NotImplementedError


def _check_header(header: list[str], path: Path) -> list[str]:
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    if not any(cleaned):
        raise InputError("the header row is empty", path, 0)
    seen: set[str] = set()
    for name in cleaned:
        if not name:
            raise InputError("the header row has an empty column name", path, 0)
        if name in seen:
            raise InputError(f"column {name!r} appears twice in the header", path, 0)
        seen.add(name)
    return cleaned


class _StrictCsvRows:
    """The strict Python CSV reader: exact row numbers for every problem."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = path.open("rb")
        self.line = 0
        self.bytes_read = 0
        self.record = 0  # data records read so far (blank lines not counted)
        self._reader = csv.reader(self._decoded_lines(), strict=True)

    def _decoded_lines(self) -> Iterator[str]:
        for raw in self._handle:
            self.line += 1
            self.bytes_read += len(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"line {self.line} is not valid UTF-8 (byte {exc.start + 1} of the line); "
                    "save the file as UTF-8", self.path, self.record + 1) from None

    def header(self) -> list[str]:
        try:
            return next(self._reader)
        except StopIteration:
            raise InputError("the file is empty (no header row)", self.path) from None
        except csv.Error as exc:
            raise InputError(f"malformed CSV header ({exc})", self.path, 0) from None

    def records(self, width: int) -> Iterator[list[str]]:
        try:
            for row in self._reader:
                if not row or row == [""]:
                    continue  # blank line
                self.record += 1
                if len(row) != width:
                    raise InputError(
                        f"has {len(row)} fields but the header has {width} "
                        "(truncated or malformed file?)", self.path, self.record)
                yield row
        except csv.Error as exc:
            raise InputError(f"malformed CSV ({exc}; truncated file?)", self.path,
                             self.record + 1) from None
        finally:
            self._handle.close()


class CsvReader(TableReader):
    """UTF-8 CSV with a header row; strict about encoding and row shape."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._size = path.stat().st_size
        if self._size == 0:
            raise InputError("the file is empty (no header row)", path)
        probe = _StrictCsvRows(path)
        self.header = _check_header(probe.header(), path)
        probe._handle.close()
        self._position = 0

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ColumnBatch]:
        import pyarrow.csv as pacsv

        width = len(self.header)
        done = 0
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(block_size=1 << 22, skip_rows=1,
                                               column_names=[f"c{i}" for i in range(width)],
                                               use_threads=False),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"c{i}": pa.string() for i in range(width)},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                    check_utf8=True))
            pending: list[pa.RecordBatch] = []
            pending_rows = 0
            for record_batch in reader:
                pending.append(record_batch)
                pending_rows += record_batch.num_rows
                self._position = min(self._size, self._position + (1 << 22))
                while pending_rows >= batch_size:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, batch_size), table.slice(batch_size)
                    yield ColumnBatch(done + 1, [c.combine_chunks() for c in head.columns])
                    done += batch_size
                    pending = rest.to_batches()
                    pending_rows = rest.num_rows
            if pending_rows:
                table = pa.Table.from_batches(pending)
                yield ColumnBatch(done + 1, [c.combine_chunks() for c in table.columns])
                done += pending_rows
            self._position = self._size
            return
        except (pa.ArrowInvalid, pa.ArrowException):
            pass  # the strict reader takes over from record `done + 1`
        yield from self._strict_batches(batch_size, skip=done)

    def _strict_batches(self, batch_size: int, skip: int) -> Iterator[ColumnBatch]:
        width = len(self.header)
        strict = _StrictCsvRows(self.path)
        strict.header()
        rows: list[list[str]] = []
        first = skip + 1
        for row in strict.records(width):
            if strict.record <= skip:
                continue
            rows.append(row)
            if len(rows) >= batch_size:
                self._position = strict.bytes_read
                yield ColumnBatch(first, columns_from_rows(rows, width))
                first += len(rows)
                rows = []
        if rows:
            yield ColumnBatch(first, columns_from_rows(rows, width))
        self._position = self._size

    def progress_total(self) -> tuple[int, str]:
        return self._size, "B"

    def progress_position(self) -> int:
        return self._position


def _cell_text(value: object) -> str:
    """Render a typed cell (Parquet/Excel) as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _as_strings(array: pa.Array) -> pa.Array:
    """A column as strings, empty for nulls, rendered as in a CSV file."""
    import pyarrow.compute as pc

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        strings = array.cast(pa.string())
        return strings if strings.null_count == 0 else pc.coalesce(strings, "")
    return string_array([_cell_text(v) for v in array.to_pylist()])


class ParquetReader(TableReader):
    """Parquet, read batch by batch with pyarrow."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        if path.stat().st_size == 0:
            raise InputError("the file is empty", path)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError, ValueError):
            raise InputError("not a readable Parquet file (truncated or corrupt)", path) from None
        self.header = _check_header(list(self._file.schema_arrow.names), path)
        self._rows_read = 0

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ColumnBatch]:
        first = 1
        try:
            for batch in self._file.iter_batches(batch_size=batch_size):
                columns = [_as_strings(batch.column(i)) for i in range(batch.num_columns)]
                self._rows_read += batch.num_rows
                yield ColumnBatch(first, columns)
                first += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"Parquet data is corrupt ({type(exc).__name__})", self.path,
                             first) from None

    def progress_total(self) -> tuple[int, str]:
        return self._file.metadata.num_rows, "rows"

    def progress_position(self) -> int:
        return self._rows_read


class ExcelReader(TableReader):
    """The first worksheet of an ``.xlsx`` workbook (openpyxl, read-only)."""

    def __init__(self, path: Path) -> None:
        import zipfile

        import openpyxl

        self.path = path
        if path.stat().st_size == 0:
            raise InputError("the file is empty", path)
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            raise InputError("not a readable .xlsx workbook (truncated or corrupt)",
                             path) from None
        sheet = self._book.worksheets[0]
        self._rows = sheet.iter_rows(values_only=True)
        try:
            header = next(self._rows)
        except StopIteration:
            raise InputError("the worksheet is empty (no header row)", path) from None
        self.header = _check_header([_cell_text(v) for v in header], path)
        self._total = max((sheet.max_row or 1) - 1, 0)
        self._read = 0

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[ColumnBatch]:
        width = len(self.header)
        rows: list[list[str]] = []
        first = 1
        record = 0
        for values in self._rows:
            cells = [_cell_text(v) for v in values]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            elif len(cells) > width:
                if any(cells[width:]):
                    raise InputError(f"has values beyond the {width} header columns", self.path,
                                     record + 1)
                cells = cells[:width]
            if not any(cells):
                continue
            record += 1
            rows.append(cells)
            self._read += 1
            if len(rows) >= batch_size:
                yield ColumnBatch(first, columns_from_rows(rows, width))
                first = record + 1
                rows = []
        if rows:
            yield ColumnBatch(first, columns_from_rows(rows, width))
        self._book.close()

    def progress_total(self) -> tuple[int, str]:
        return self._total, "rows"

    def progress_position(self) -> int:
        return self._read


def open_table(path: str | Path) -> TableReader:
    """Open an input table, choosing the reader by file extension.

    Raises:
        InputError: missing file, unsupported extension, empty or corrupt file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CsvReader(path)
    if suffix in (".parquet", ".pq"):
        return ParquetReader(path)
    if suffix == ".xlsx":
        return ExcelReader(path)
    raise InputError(f"unsupported input type {suffix or '(none)'!r}; use "
                     f"{', '.join(SUPPORTED_SUFFIXES)}", path)
