#!/usr/bin/env bash
# Regenerate the Python gRPC code under tiplink/v1/ from proto/tiplink/v1/*.proto.
# Usage: scripts/gen_proto.sh [OUTPUT_ROOT]   (default: the repository root)
# Needs grpcio-tools (pip install -e '.[dev]'). tests/service/test_proto.py
# regenerates into a temporary directory and fails when the committed code
# differs, so run this after editing a .proto file and commit the result.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root}"
python="${PYTHON:-python}"
cd "$root"
mkdir -p "$out/tiplink/v1"
"$python" -m grpc_tools.protoc -Iproto --python_out="$out" --pyi_out="$out" \
    --grpc_python_out="$out" proto/tiplink/v1/*.proto
