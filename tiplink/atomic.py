"""Atomic file output: a file appears complete or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _temporary_beside(target: Path) -> tuple[int, str]:
    directory = target.parent if str(target.parent) else Path(".")
    return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Give a temporary path beside ``path``; rename it over ``path`` on success.

    The caller writes the temporary path (for example with pyarrow, or
    through :func:`atomic_output`); on any exception it is removed and
    ``path`` is untouched, so a failed command never leaves partial output.
    """
    target = Path(path)
    fd, tmp_name = _temporary_beside(target)
    os.close(fd)
    try:
        yield Path(tmp_name)
        with open(tmp_name, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "wb", file_mode: int = 0o644) -> Iterator[IO]:
    """Open a temporary file beside ``path``; it replaces ``path`` on success.

    Args:
        path: the final file name.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8).
        file_mode: permission bits of the final file (0o600 for secrets).
    """
    with atomic_path(path) as tmp:
        os.chmod(tmp, file_mode)
        if "b" in mode:
            handle: IO = open(tmp, mode)  # noqa: SIM115 - closed below
        else:
            handle = open(tmp, mode, encoding="utf-8", newline="")  # noqa: SIM115
        with handle:
            yield handle
