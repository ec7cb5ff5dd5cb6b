#!/usr/bin/env bash
# gosdxl GPU check (run.sh of gpu-bundle/, built by scripts/gpu-bundle.sh).
# Needs only the NVIDIA driver; PyTorch is optional (for the comparison).
#
# Steps, in order of importance: kernel conformance, the tiny model end to
# end against the diffusers goldens, the full-size random-weight UNet,
# kernel benchmarks, model benchmarks, PyTorch at the same shapes. Each step
# has its own time limit and all of them share TOTAL_TIMEOUT (default 480 s):
# a step that would start with under 15 s left is skipped. BENCH_TIME and
# MODEL_BENCH_TIME set -test.benchtime (defaults 20x and 3x). Logs go to
# logs/, everything to results.txt, and the tables are printed last. Exit
# status: 0 when every step passed, 1 when one failed, 2 without a GPU.
set -uo pipefail
cd "$(dirname "$0")"
# The bundle sits inside a checkout of the repository (gpu-bundle/ at its
# root): the test binaries run in their package folders there, so the test
# data and kernel sources they read are the checkout's own.
bundle=$(pwd)
root=$(cd .. && pwd)
if [ ! -d "$root/testdata/reference" ]; then
  echo "run.sh: $root is not a gosdxl checkout (no testdata/reference): put gpu-bundle/ in the repository root" >&2
  exit 2
fi
TOTAL_TIMEOUT=${TOTAL_TIMEOUT:-480}
BENCH_TIME=${BENCH_TIME:-20x}
MODEL_BENCH_TIME=${MODEL_BENCH_TIME:-3x}
deadline=$(($(date +%s) + TOTAL_TIMEOUT))
mkdir -p logs
: >results.txt
summary=()

note() { echo "$*" | tee -a results.txt; }
record() { summary+=("$(printf '%-16s %-36s %5s' "$1" "$2" "$3")"); }

# The builder packs the test binaries into tests.tar.xz to keep what travels
# small; the first run unpacks them. xz where the host has it, else Python's
# tarfile (PyTorch hosts have one).
if [ -f tests.tar.xz ]; then
  if command -v xz >/dev/null; then xz -dc tests.tar.xz | tar xf -; else python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall()' tests.tar.xz; fi &&
    rm -f tests.tar.xz || echo "$(basename "$0"): cannot unpack tests.tar.xz" >&2
fi
find . -name '*.test' -exec chmod +x {} +

# step NAME LIMIT DIR CMD...: run CMD in DIR under min(LIMIT, time left),
# log it, record PASS/FAIL/TIMEOUT and how many tests skipped.
step() {
  local name=$1 limit=$2 dir=$3 rc start left
  shift 3
  left=$((deadline - $(date +%s)))
  if [ "$left" -lt 15 ]; then
    echo "== $name: SKIPPED (out of time)"
    record "$name" "SKIPPED (TOTAL_TIMEOUT reached)" "0s"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s)"
  start=$(date +%s)
  (cd "$dir" && timeout -k 10 "$limit" "$@") >"logs/$name.log" 2>&1
  rc=$?
  local secs=$(($(date +%s) - start)) verdict=PASS skipped
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && verdict="TIMEOUT after ${limit}s"
  [ "$verdict" = PASS ] && [ $rc -ne 0 ] && verdict="FAIL (exit $rc)"
  # A skipped GPU test is not a pass: say how many were skipped.
  skipped=$(grep -c -- '--- SKIP' "logs/$name.log")
  [ "$skipped" -gt 0 ] && verdict="$verdict ($skipped skipped)"
  grep -q '^{"error"' "logs/$name.log" && verdict="NOT RUN ($(grep -o '"error": *"[^"]*"' "logs/$name.log" | head -1 | cut -c1-60))"
  record "$name" "$verdict" "${secs}s"
  grep -E '^(--- FAIL|FAIL|panic:|ok |PASS)' "logs/$name.log" | head -20
}

note "gosdxl GPU run, commit $(cat COMMIT 2>/dev/null || echo unknown), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | tee -a results.txt
nvidia-smi >logs/nvidia-smi.log 2>&1
# A VM's memory can start far below what it grows to: record what gen's
# memory bound (MemTotal/MemAvailable) would see.
grep -E '^(MemTotal|MemAvailable)' /proc/meminfo | tr -s ' ' | tee -a results.txt

# Is there a GPU the CUDA driver can use? The test binaries answer best:
# without one they stop at start-up (cuInit fails) instead of testing.
probe=$(cd "$root/kernels" && timeout 60 "$bundle/kernels/kernels.test" -test.run '^$' 2>&1)
if [ $? -ne 0 ]; then
  note "NO GPU FOUND: the CUDA driver did not start ($(echo "$probe" | tail -1 | cut -c1-160))."
  note "Every GPU step below is skipped; nothing was checked or timed."
  gpu=false
else
  gpu=true
fi

gpu_step() { # like step, but only with a GPU
  if $gpu; then
    step "$@"
  else
    record "$1" "SKIPPED (no GPU found)" "0s"
  fi
}

# 1. Kernel correctness: conformance (simple and fast), fast-vs-simple, runtime.
# (TestEveryLaunchMatchesItsPTXSignature type-checks the package's source
# with the Go toolchain, which a GPU host need not have: CI runs it.)
gpu_step kernels-tests 150 "$root/kernels" "$bundle/kernels/kernels.test" -test.v -test.count=1 \
  -test.skip 'TestEveryLaunchMatchesItsPTXSignature

# 2-3. The model: the tiny checkpoint against the goldens (text encoders,
# UNet, VAE, a whole txt2img), then the full-size random-weight UNet.
if [ -x sdxl/sdxl.test ]; then
  gpu_step sdxl-tiny 90 "$root/sdxl" "$bundle/sdxl/sdxl.test" -test.v -test.count=1 -test.run 'GPUTiny|HalfSimSpread$|GPUStepLaunchesAt1024'
  gpu_step sdxl-fullsize 150 "$root/sdxl" "$bundle/sdxl/sdxl.test" -test.v -test.count=1 -test.run 'GPUFullSize'
else
  record sdxl-tests "MISSING (sdxl.test not in bundle)" "0s"
fi

# Any other package's GPU tests.
for t in $(find . -path ./kernels -prune -o -path ./sdxl -prune -o -name '*.test' -print | sort); do
  # Only their GPU tests (named GPU or CUDA): the rest are CPU tests CI runs.
  gpu_step "$(basename "$t" .test)-tests" 90 "$root/$(dirname "${t#./}")" "$bundle/${t#./}" -test.v -test.count=1 \
    -test.run 'GPU|CUDA' -test.skip 'GPUGen1024EndToEnd'
done

# 4-5. Benchmarks: kernels per op, then the model at 1024².
gpu_step kernels-bench 90 "$root/kernels" "$bundle/kernels/kernels.test" -test.v -test.run '^$' -test.bench . -test.benchtime "$BENCH_TIME"
[ -x sdxl/sdxl.test ] &&
  gpu_step sdxl-bench 150 "$root/sdxl" "$bundle/sdxl/sdxl.test" -test.v -test.run '^$' -test.bench GPU -test.benchtime "$MODEL_BENCH_TIME"

# 6. PyTorch at the same shapes.
if ! $gpu; then
  record torch-bench "SKIPPED (no GPU found)" "0s"
elif command -v python3 >/dev/null; then
  step torch-bench 60 . python3 torch_bench.py
  # The whole UNet step and VAE decode as torch modules of SDXL's shapes
  # (diffusers' architecture, fp16, SDPA, channels-last; eager and graph).
  step torch-unet 90 . python3 torch_unet_bench.py
else
  record torch-bench "SKIPPED (no python3)" "0s"
fi

# 7. gen itself, end to end: a random full-size checkpoint, 1024², 28 steps.
[ -x cmd/gen/gen.test ] &&
  GOSDXL_GPU_E2E=1 gpu_step gen-e2e-1024 150 "$root/cmd/gen" "$bundle/cmd/gen/gen.test" -test.v -test.count=1 -test.run 'GPUGen1024EndToEnd'


# Tables, last: measured accuracy, kernels (ours next to torch), the model
# at 1024², then the steps.
python3 - <<'PY' 2>/dev/null | tee -a results.txt
import json, os, re

def lines(name):
    try:
        return open(f"logs/{name}.log").read().splitlines()
    except OSError:
        return []

acc = [l.strip() for n in ("sdxl-tiny", "sdxl-fullsize") for l in lines(n)
       if re.search(r"relative L2 .*bound|PSNR .*bound|GPU time|^--- FAIL", l.strip())]
if acc:
    print("\naccuracy (GPU vs goldens / CPU)")
    for l in acc:
        print("  " + re.sub(r"^\S+_test\.go:\d+: ", "", l))

ours = {}
for line in lines("kernels-bench"):
    m = re.match(r"Benchmark(\w+)/(?:(simple|fast)/)?(\S+?)(?:-\d+)?\s", line)
    if not m:
        continue
    op, kind, shape = m.group(1), m.group(2) or "simple", m.group(3)
    ours[(op, shape, kind)] = dict((u, float(v)) for v, u in re.findall(r"([\d.]+) (TFLOP/s|GB/s|gpu-µs/op)", line))
torch = {}
try:
    raw = "\n".join(lines("torch-bench"))
    for r in json.loads(raw[raw.index("{"):]).get("results", []):
        torch[(r["op"], r["shape"])] = r
except Exception:
    pass
if ours:
    def fmt(v):
        if not v:
            return "-"
        for unit in ("TFLOP/s", "GB/s"):
            if unit in v:
                return f"{v[unit]:.1f} {unit}"
        return f"{v.get('gpu-µs/op', 0):.0f} µs"
    print(f"\n{'op':<14} {'shape':<20} {'simple':>14} {'fast':>14} {'torch':>14}")
    for op, shape in sorted({(o, s) for o, s, _ in ours}):
        t = torch.get((op, shape), {})
        tv = {"TFLOP/s": t["tflops"]} if "tflops" in t else ({"GB/s": t["gbs"]} if "gbs" in t else None)
        print(f"{op:<14} {shape:<20} {fmt(ours.get((op, shape, 'simple'))):>14} {fmt(ours.get((op, shape, 'fast'))):>14} {fmt(tv):>14}")

model = []
for line in lines("sdxl-bench"):
    m = re.match(r"Benchmark(\S+?)(?:-\d+)?\s+\d+\s", line)
    if m:
        v = dict((u, float(x)) for x, u in re.findall(r"([\d.]+) (gpu-ms/op|peak-GiB|weights-GiB)", line))
        model.append((m.group(1), v))
if model:
    print(f"\n{'model at 1024² (goal: < 9 GiB)':<34} {'GPU ms':>10} {'peak GiB':>10}")
    for name, v in model:
        print(f"{name:<34} {v.get('gpu-ms/op', float('nan')):>10.1f} {v.get('peak-GiB', float('nan')):>10.2f}")
try:
    raw = "\n".join(lines("torch-unet"))
    tu = json.loads(raw[raw.index("{"):])
    print(f"\nPyTorch {tu.get('torch')} modules of SDXL's shapes on {tu.get('device')}:")
    for name, r in tu.get("results", {}).items():
        print(f"  {name}: " + json.dumps(r)[:300])
except Exception as e:
    print(f"\n(torch-unet results not readable: {e})")
PY

{
  echo
  echo "step             result                               time"
  printf '%s\n' "${summary[@]}"
  $gpu || echo "NO GPU FOUND: nothing above was checked on a GPU."
} | tee -a results.txt

# Exit status: 0 all passed, 1 a step failed or ran out of time, 2 no GPU.
$gpu || exit 2
printf '%s\n' "${summary[@]}" | grep -qE 'FAIL|TIMEOUT|MISSING' && exit 1
exit 0
