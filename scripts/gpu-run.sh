#!/usr/bin/env bash
# gosdxl GPU check (run.sh of gpu-bundle/, built by scripts/gpu-bundle.sh).
# Needs only the NVIDIA driver; PyTorch is optional (for the comparison).
# Every step has a time limit (STEP_TIMEOUT seconds, default 420; BENCH_TIME
# sets -test.benchtime, default 20x). Logs go to logs/, a summary to
# results.txt, and a short table is printed last.
set -uo pipefail
cd "$(dirname "$0")"
STEP_TIMEOUT=${STEP_TIMEOUT:-420}
BENCH_TIME=${BENCH_TIME:-20x}
mkdir -p logs
: >results.txt
summary=()

note() { echo "$*" | tee -a results.txt; }

# step NAME DIR CMD...: run CMD in DIR with the time limit, log it, record PASS/FAIL.
step() {
  local name=$1 dir=$2 rc start
  shift 2
  echo "== $name"
  start=$(date +%s)
  (cd "$dir" && timeout "$STEP_TIMEOUT" "$@") >"logs/$name.log" 2>&1
  rc=$?
  local secs=$(($(date +%s) - start)) verdict=PASS
  [ $rc -eq 124 ] && verdict="TIMEOUT after ${STEP_TIMEOUT}s"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && verdict="FAIL (exit $rc)"
  # A skipped GPU test is not a pass: say how many were skipped.
  local skipped
  skipped=$(grep -c -- '--- SKIP' "logs/$name.log")
  [ "$skipped" -gt 0 ] && verdict="$verdict ($skipped skipped)"
  grep -q '"error"' "logs/$name.log" && verdict="NOT RUN ($(grep -o '"error": *"[^"]*"' "logs/$name.log" | head -1))"
  summary+=("$(printf '%-28s %-22s %4ss' "$name" "$verdict" "$secs")")
  grep -E '^(--- FAIL|FAIL|panic:|ok |PASS)' "logs/$name.log" | head -20
}

note "gosdxl GPU run, commit $(cat COMMIT 2>/dev/null || echo unknown), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | tee -a results.txt
nvidia-smi 2>&1 | head -15 >logs/nvidia-smi.log

# 1. Kernel correctness: conformance (simple and fast), fast-vs-simple, runtime.
step kernels-tests kernels ./kernels.test -test.v -test.count=1

# 2. Other packages' GPU tests (tiny model end to end, when present).
for t in $(find . -path ./kernels -prune -o -name '*.test' -print | sort); do
  step "$(basename "$t" .test)-tests" "$(dirname "$t")" "./$(basename "$t")" -test.v -test.count=1
done

# 3. Kernel benchmarks.
step kernels-bench kernels ./kernels.test -test.v -test.run '^$' -test.bench . -test.benchtime "$BENCH_TIME"

# 4. PyTorch at the same shapes.
if command -v python3 >/dev/null; then
  step torch-bench . python3 torch_bench.py
else
  summary+=("torch-bench                  SKIPPED (no python3)")
fi

{
  echo
  echo "step                         result                 time"
  printf '%s\n' "${summary[@]}"
} | tee -a results.txt

# The table: ours (simple, fast) next to torch, per op and shape.
python3 - <<'PY' 2>/dev/null | tee -a results.txt || grep -h '^Benchmark' logs/kernels-bench.log | tee -a results.txt
import json, re
ours = {}
for line in open("logs/kernels-bench.log"):
    m = re.match(r"Benchmark(\w+)/(?:(simple|fast)/)?(\S+?)(?:-\d+)?\s", line)
    if not m:
        continue
    op, kind, shape = m.group(1), m.group(2) or "simple", m.group(3)
    vals = dict((u, float(v)) for v, u in re.findall(r"([\d.]+) (TFLOP/s|GB/s|gpu-µs/op)", line))
    ours[(op, shape, kind)] = vals
torch = {}
try:
    raw = open("logs/torch-bench.log").read()
    for r in json.loads(raw[raw.index("{"):]).get("results", []):
        torch[(r["op"], r["shape"])] = r
except Exception:
    pass
print()
print(f"{'op':<14} {'shape':<20} {'simple':>14} {'fast':>14} {'torch':>14}")
for op, shape in sorted({(o, s) for o, s, _ in ours}):
    def fmt(v):
        if not v:
            return "-"
        for unit in ("TFLOP/s", "GB/s"):
            if unit in v:
                return f"{v[unit]:.1f} {unit}"
        return f"{v.get('gpu-µs/op', 0):.0f} µs"
    t = torch.get((op, shape), {})
    tv = {"TFLOP/s": t["tflops"]} if "tflops" in t else ({"GB/s": t["gbs"]} if "gbs" in t else None)
    print(f"{op:<14} {shape:<20} {fmt(ours.get((op, shape, 'simple'))):>14} {fmt(ours.get((op, shape, 'fast'))):>14} {fmt(tv):>14}")
PY
