"""Shared test fixtures: the real console command, data paths, a secret."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REPO = TESTS.parent


def tiplink_command() -> list[str]:
    """The installed ``tiplink`` console script (next to this Python)."""
    candidate = Path(sys.executable).parent / "tiplink"
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which("tiplink")
    return [found] if found else [sys.executable, "-m", "tiplink"]


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_tiplink(
    args: Sequence[str],
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> Completed:
    """Run ``tiplink`` as users do, in a subprocess."""
    full_env = dict(os.environ)
    full_env.pop("TIPLINK_DEBUG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [*tiplink_command(), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def run_encode(input_path: Path, secret: Path, out: Path, party: str = "police",
               schema: str | Path = "victim", *extra: str) -> Completed:
    """``tiplink encode INPUT --schema S --secret-file F --party P --output OUT [extra]``."""
    return run_tiplink(["encode", input_path, "--schema", schema, "--secret-file", secret,
                        "--party", party, "--output", out, *extra])


def encode_registers(directory: Path, parties: Sequence[str], secret: Path) -> list[Path]:
    """Encode ``DIR/<party>.csv`` for each party with the victim schema; fail loudly."""
    out = []
    for party in parties:
        path = directory / f"{party}.tle"
        result = run_encode(directory / f"{party}.csv", secret, path, party)
        assert result.returncode == 0, result.stderr
        out.append(path)
    return out


def assert_one_line_error(result: Completed, *fragments: str) -> str:
    """A failure must be one line on stderr, no traceback, non-zero exit."""
    assert result.returncode != 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = lines[0]
    assert message.startswith("tiplink: error:"), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("correct horse battery staple for tests\n", encoding="utf-8")
    return path
