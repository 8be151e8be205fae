"""Input readers: CSV, Parquet and Excel, streamed in batches of rows.

Each reader yields :class:`RowBatch` objects holding at most ``batch_size``
rows of strings, so 10 million rows never sit in memory at once. Problems
raise :class:`~tiplink.errors.InputError` naming the file, the row (1-based,
the header is row 0) and the column, and never the offending value.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tiplink.errors import InputError

DEFAULT_BATCH_SIZE = 20_000
SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")


@dataclass
class RowBatch:
    """A batch of input rows.

    Attributes:
        first_row: 1-based row number of ``rows[0]`` (the header is row 0).
        rows: the rows' values as strings, in header order ('' for empty).
    """

    first_row: int
    rows: list[list[str]]


class TableReader:
    """A streamed table: its header, a size hint, and batches of rows."""

    path: Path
    header: list[str]

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
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


class CsvReader(TableReader):
    """UTF-8 CSV with a header row; strict about encoding and row shape."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._size = path.stat().st_size
        if self._size == 0:
            raise InputError("the file is empty (no header row)", path)
        self._handle = path.open("rb")
        self._line = 0
        self._bytes_read = 0
        self._reader = csv.reader(self._decoded_lines(), strict=True)
        try:
            header = next(self._reader)
        except StopIteration:
            raise InputError("the file is empty (no header row)", path) from None
        except csv.Error as exc:
            raise InputError(f"malformed CSV header ({exc})", path, 0) from None
        self.header = _check_header(header, path)

    def _decoded_lines(self) -> Iterator[str]:
        for raw in self._handle:
            self._line += 1
            self._bytes_read += len(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"line {self._line} is not valid UTF-8 (byte {exc.start + 1} of the line); "
                    "save the file as UTF-8", self.path, self._data_row + 1) from None

    _data_row = 0

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        width = len(self.header)
        rows: list[list[str]] = []
        first = 1
        try:
            for row in self._reader:
                self._data_row += 1
                if len(row) != width:
                    if not row or row == [""]:
                        continue  # blank line
                    raise InputError(
                        f"has {len(row)} fields but the header has {width} "
                        "(truncated or malformed file?)", self.path, self._data_row)
                rows.append(row)
                if len(rows) >= batch_size:
                    yield RowBatch(first, rows)
                    first = self._data_row + 1
                    rows = []
        except csv.Error as exc:
            raise InputError(f"malformed CSV ({exc}; truncated file?)", self.path,
                             self._data_row + 1) from None
        finally:
            pass
        if rows:
            yield RowBatch(first, rows)
        self._handle.close()

    def progress_total(self) -> tuple[int, str]:
        return self._size, "B"

    def progress_position(self) -> int:
        return self._bytes_read


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


class ParquetReader(TableReader):
    """Parquet, read batch by batch with pyarrow."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa
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

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        import pyarrow as pa

        first = 1
        try:
            for batch in self._file.iter_batches(batch_size=batch_size):
                columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                rows = [[_cell_text(v) for v in values] for values in zip(*columns, strict=True)]
                self._rows_read += len(rows)
                yield RowBatch(first, rows)
                first += len(rows)
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

    def batches(self, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[RowBatch]:
        width = len(self.header)
        rows: list[list[str]] = []
        first = 1
        row_number = 0
        for values in self._rows:
            row_number += 1
            cells = [_cell_text(v) for v in values]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            elif len(cells) > width:
                if any(cells[width:]):
                    raise InputError(f"has values beyond the {width} header columns", self.path,
                                     row_number)
                cells = cells[:width]
            if not any(cells):
                continue
            rows.append(cells)
            self._read += 1
            if len(rows) >= batch_size:
                yield RowBatch(first, rows)
                first = row_number + 1
                rows = []
        if rows:
            yield RowBatch(first, rows)
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
