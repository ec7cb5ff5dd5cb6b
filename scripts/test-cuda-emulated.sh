#!/usr/bin/env bash
# Runs the -tags cuda tests on the emulated CUDA driver (make fake-cuda
# builds it into kernels/emulator/build/libcuda.so.1; nothing in the Go code
# knows): the kernels package (conformance of the simple and fast kernels,
# fast vs simple, the self-check and its fallback, the runtime, pool, graphs,
# counters, planted bugs), the tiny model against the diffusers goldens (text
# encoders, UNet, VAE, a whole txt2img) with a warm UNet call's costs pinned,
# LoRA merge and unmerge on the device (bit for bit the CPU's), steps
# replayed from a CUDA graph (bit for bit the op-by-op step), memory given
# back on request,
# and gen --device cuda against --device cpu (txt2img and img2img, PSNR);
# and, counting without running kernels, the launches of a full-size 1024²
# UNet step.
# Sizes the CPU cannot emulate in reasonable time are reduced by the tests,
# which log it ("emulated driver: ..."). The two lanes run side by side,
# one per core; each CUDA test process is single-threaded in the driver.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=kernels/emulator/build/libcuda.so.1
[ -f "$lib" ] || { echo "$lib missing: run make fake-cuda" >&2; exit 1; }
export LD_LIBRARY_PATH="$PWD/kernels/emulator/build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_BIND_NOW=1     # a driver entry point the library lacks fails at start, by name
export FAKE_CUDA_STATS=1 # each test binary prints the driver's totals at exit
GO=${GO:-go}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

lane1() {
  $GO test -tags cuda -count=1 -timeout 40m ./kernels &&
    $GO test -tags cuda -count=1 -timeout 40m -v -run 'TestCUDAImageMatchesCPU' ./cmd/gen &&
    $GO test -tags cuda -count=1 -timeout 40m -v -run 'TestGPUGraph|TestGPUOdd|TestGPURelease' ./sdxl
}
lane2() {
  $GO test -tags cuda -count=1 -timeout 40m -v -run 'TestGPUTiny|TestGPULoRA' ./sdxl &&
    # Count-only: the full-size UNet at 1024², every launch checked and
    # counted, no kernel run (kernels/emulator/driver/README.md).
    FAKE_CUDA_EXEC=count $GO test -tags cuda -count=1 -timeout 10m -v -run 'TestGPUStepLaunchesAt1024' ./sdxl
}
start=$(date +%s)
lane1 >"$logs/1" 2>&1 &
p1=$!
lane2 >"$logs/2" 2>&1 &
p2=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
# The whole of each lane's log, then a summary that closes it.
cat "$logs/1" "$logs/2"
echo "== emulated CUDA run: $(($(date +%s) - start)) s"
grep -h -E '^(ok|FAIL|--- (PASS|FAIL|SKIP)|.*PSNR of|.*emulated driver:)' "$logs/1" "$logs/2" | sort | uniq -c | sed 's/^ *1 //' || true
if [ $rc != 0 ]; then echo "test-cuda-emulated: FAILED" >&2; exit 1; fi
echo "test-cuda-emulated: passed"
