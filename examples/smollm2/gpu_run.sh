#!/usr/bin/env bash
# The GPU profile of examples/smollm2 as one prepared script (issue 13): run it on a GPU
# machine from the repository root; it writes the log, run.json and report.html to $OUT
# (default ./gpu-out). Not yet run: no GPU was lent to the session that wrote it.
set -euo pipefail
OUT="${OUT:-gpu-out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" || true
start=$(date +%s)
.venv/bin/accord run examples/smollm2 --profile gpu 2>&1 | tee "$OUT/run.log"
echo "wall_s=$(( $(date +%s) - start ))" | tee -a "$OUT/run.log"
cp examples/smollm2/.accord/run/run.json examples/smollm2/.accord/run/report.html "$OUT/"
