#!/usr/bin/env bash
# The GPU check of issue 7, for a session lent the GPU machine (PyTorch + CuPy preinstalled):
#   bash scripts/gpu_check.sh            # on the GPU: stage limits add to 510 s (one 600 s call)
#   bash scripts/gpu_check.sh --tiny     # here, on the CPU: checks the script itself
# Writes its report under $OUT (default /tmp/gpu_check): env.txt, one log per stage,
# bench_gpu.json and summary.txt. Stages run in order of value, each under its own time limit,
# and a failing stage does not stop the next.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=${PYTHON:-python3}  # the GPU image's python3 is the one with PyTorch and CuPy
TINY=""
[ "${1:-}" = "--tiny" ] && TINY="--tiny"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"

stage() {  # stage NAME SECONDS COMMAND...: run, log, and note its exit status in the summary
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name: exit $rc in $((SECONDS - t0)) s (limit $limit s)" | tee -a "$SUMMARY"
    tail -n 3 "$OUT/$name.log" | sed 's/^/    /' | tee -a "$SUMMARY"
}

{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
    $PY - <<'PY'
import importlib
for name in ("numpy", "ml_dtypes", "threadpoolctl", "cupy", "torch", "pytest"):
    try:
        mod = importlib.import_module(name)
        print(name, getattr(mod, "__version__", "?"))
    except Exception as e:
        print(name, "MISSING", e)
import torchlite
print("torchlite cuda available:", torchlite.cuda.is_available(),
      "bf16:", torchlite.cuda.is_bf16_supported())
PY
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# -v: one line per test as it ends, so a stage cut off by its time limit still shows how far it
# got and what failed (the log is in $OUT); -rfEs: failures, errors and skip reasons at the end.
PYTEST="$PY -m pytest -v -p no:cacheprovider -o addopts= -rfEs"
# Compiling CuPy's and torchlite's kernels on first use is CPU-bound: spread the tests over the
# GPU machine's cores (one CUDA context per worker) when pytest-xdist is there; a test that
# hangs is stopped after 60 s where pytest-timeout is there (the GPU image has both).
PARALLEL=""
if [ -z "$TINY" ]; then
    $PY -c "import xdist" 2>/dev/null && PARALLEL="-n 8"
    $PY -c "import pytest_timeout" 2>/dev/null && PARALLEL="$PARALLEL --timeout 60"
fi
if [ -z "$TINY" ]; then
    # runtime, amp, memory stats, the fused kernels (each vs its composed path and the CPU),
    # no host sync in a training step, DLPack, value statistics
    stage gpu_tests 150 $PYTEST $PARALLEL tests/gpu --ignore=tests/gpu/test_op_table_cuda.py --maxfail=30
    stage bench 240 $PY benchmarks/bench_gpu.py --out "$OUT"
    stage op_table 120 $PYTEST $PARALLEL tests/gpu/test_op_table_cuda.py --maxfail=20
else
    stage cpu_tests 300 $PYTEST tests/amp tests/test_cuda_api.py tests/gpu
    stage bench 300 $PY benchmarks/bench_gpu.py --tiny --curve-steps 5 --out "$OUT"
fi
echo "report: $OUT (summary.txt, *.log, bench_gpu.json)"
