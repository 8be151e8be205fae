"""Errors that end a command with a one-line message.

Every message is built so that it never carries a plaintext identifier: it
names the file, row and column and says what is wrong, not what the value was.
"""

from __future__ import annotations

from pathlib import Path


class TiplinkError(Exception):
    """A failure the user can act on; printed as one line, never a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(TiplinkError):
    """Bad input: names the file and, where they apply, the row and column.

    Args:
        message: what is wrong, without echoing the offending value.
        path: the file that holds the bad input.
        row: 1-based data row (the header is row 0), where it applies.
        column: the column name, where it applies.
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full)
        self.detail = message


class SchemaError(InputError):
    """The linkage schema is invalid; the message names the failing feature."""


class ExtractError(InputError):
    """An extract file is corrupt, truncated, or incompatible with others."""


class ServiceError(TiplinkError):
    """A call to the matching service failed; carries the gRPC status name."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
