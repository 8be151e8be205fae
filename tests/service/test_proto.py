"""The committed generated code must match the .proto files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_current(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "gen_proto.sh"), str(tmp_path)], check=True,
                   env=env, capture_output=True)
    generated = sorted(p.name for p in (tmp_path / "tiplink" / "v1").iterdir())
    assert generated, "protoc generated nothing"
    committed = sorted(p.name for p in (ROOT / "tiplink" / "v1").iterdir()
                       if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")))
    assert generated == committed
    stale = [name for name in generated
             if (tmp_path / "tiplink" / "v1" / name).read_bytes()
             != (ROOT / "tiplink" / "v1" / name).read_bytes()]
    assert not stale, f"stale generated code, run scripts/gen_proto.sh: {stale}"


def test_every_proto_message_and_field_is_documented() -> None:
    # A comment line must precede every message, enum, field, rpc and value.
    for proto in (ROOT / "proto" / "tiplink" / "v1").glob("*.proto"):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            text = line.strip()
            if not text or text.startswith(("//", "}", "syntax", "package", "option")):
                continue
            previous = lines[number - 1].strip()
            assert previous.startswith("//"), f"{proto.name}:{number + 1} undocumented: {text}"
