#!/usr/bin/env bash
# Set up .venv and run the main job on the bundled four-agency example:
# every agency encodes its register locally with a shared secret, the
# statistician links the extracts, counts unique victims and overlaps,
# estimates the hidden total and writes a report.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
tiplink=.venv/bin/tiplink
out=out/example
mkdir -p "$out"
[ -f "$out/secret.key" ] || "$tiplink" keygen --output "$out/secret.key"
for agency in police welfare ngo embassy; do
  "$tiplink" encode "examples/$agency.csv" --schema victim --secret-file "$out/secret.key" \
    --party "$agency" --output "$out/$agency.tle"
done
"$tiplink" link "$out"/police.tle "$out"/welfare.tle "$out"/ngo.tle "$out"/embassy.tle \
  --clusters "$out/clusters.csv" --counts "$out/counts.json"
"$tiplink" report "$out/counts.json" --output "$out/report.html"
cat "$out/counts.json"
.venv/bin/python benchmarks/evaluate.py --clusters "$out/clusters.csv" --truth examples/truth.csv
echo "Clusters: $out/clusters.csv  Counts: $out/counts.json  Report: $out/report.html"
