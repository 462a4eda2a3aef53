#!/usr/bin/env bash
# The GPU check (docs/deployment.md): on a machine with an NVIDIA GPU and a CUDA build of torch, run
# `vfreport bench --json` and `vfreport run-all --preset full` in one go and write ONE JSON of the
# figures (nvidia-smi's view of the GPU, its utilisation sampled during run-all, the bench's
# figures, run-all's wall time and results). Exits 3 with one clear line on a machine without CUDA.
#
#   scripts/gpu-check.sh [OUT.json]        (default: gpu-check.json)
#   PYTHON=/path/to/python scripts/gpu-check.sh   (default: .venv/bin/python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-gpu-check.json}
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi

fail() { echo "gpu-check: error: $*" >&2; exit 3; }

command -v nvidia-smi >/dev/null 2>&1 || fail "nvidia-smi not found: this machine has no NVIDIA driver (no CUDA GPU); nothing was run"
nvidia-smi -L >/dev/null 2>&1 || fail "nvidia-smi cannot list a GPU (no CUDA device or driver not loaded); nothing was run"
"$PY" - <<'EOF' || fail "torch in $PY cannot use CUDA (a CPU-only build, or no device visible); install the CUDA build of torch==2.13.0 (README), nothing was run"
import sys
import torch
sys.exit(0 if torch.cuda.is_available() else 1)
EOF

work=$(mktemp -d "${TMPDIR:-/tmp}/vfreport-gpu-check.XXXXXX")
echo "gpu-check: working in $work" >&2
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit,clocks.max.sm --format=csv > "$work/gpu.csv"
nvidia-smi > "$work/nvidia-smi.txt" 2>&1 || true

# GPU utilisation and memory every 2 s while run-all trains (stopped by its PID below)
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -l 2 \
    > "$work/utilisation.csv" 2>/dev/null &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

set +e
start=$(date +%s.%N)
"$PY" -m vfreport.cli bench --json "$work/bench.json" > "$work/bench.log" 2>&1
bench_rc=$?
mid=$(date +%s.%N)
"$PY" -m vfreport.cli run-all --preset full --out "$work/full" > "$work/run-all.log" 2>&1
run_rc=$?
end=$(date +%s.%N)
set -e
kill "$sampler" 2>/dev/null || true

"$PY" - "$work" "$OUT" "$bench_rc" "$run_rc" "$start" "$mid" "$end" <<'EOF'
import csv, json, sys
from pathlib import Path

work, out = Path(sys.argv[1]), Path(sys.argv[2])
bench_rc, run_rc = int(sys.argv[3]), int(sys.argv[4])
start, mid, end = (float(v) for v in sys.argv[5:8])


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tail(path, n=20):
    try:
        return path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []


util = []
for row in csv.reader((work / "utilisation.csv").read_text().splitlines()):
    try:
        util.append({"time": row[0].strip(), "gpu_percent": float(row[1]), "memory_mib": float(row[2])})
    except (IndexError, ValueError):
        continue
during = [u["gpu_percent"] for u in util]
results = load(work / "full" / "results.json") or {}
import torch

report = {
    "gpu": list(csv.DictReader((work / "gpu.csv").read_text().splitlines(), skipinitialspace=True)),
    "torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0),
    "nvidia_smi": (work / "nvidia-smi.txt").read_text(errors="replace"),
    "bench": {"exit_code": bench_rc, "seconds": mid - start, "figures": load(work / "bench.json"),
              "log_tail": tail(work / "bench.log")},
    "run_all_full": {"exit_code": run_rc, "seconds": end - mid, "dir": str(work / "full"),
                     "arms": results.get("arms"), "evaluation_summary": (results.get("evaluation") or {}).get("summary"),
                     "scenario": (results.get("scenario") or {}).get("sentence"), "onnx": results.get("onnx"),
                     "log_tail": tail(work / "run-all.log")},
    "gpu_utilisation": {"samples": len(util), "mean_percent": sum(during) / len(during) if during else None,
                        "max_memory_mib": max((u["memory_mib"] for u in util), default=None), "every_s": 2},
}
out.write_text(json.dumps(report, indent=1, default=str))
print(f"gpu-check: wrote {out} (bench exit {bench_rc}, run-all exit {run_rc})")
EOF
[ "$bench_rc" -eq 0 ] && [ "$run_rc" -eq 0 ]
