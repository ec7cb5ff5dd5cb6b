#!/usr/bin/env bash
# gosdxl GPU diagnosis (diagnose.sh of gpu-bundle/): the follow-up to run.sh
# when the full-size UNet faults (CUDA_ERROR_ILLEGAL_ADDRESS) after several
# calls. One call of the device tool, each step under its own time limit:
#   1. the full-size UNet, 4 calls in a row at 1024², with launches made
#      synchronous (CUDA_LAUNCH_BLOCKING=1): the launch that reports the
#      fault is then the faulting kernel itself;
#   2. the same under compute-sanitizer memcheck, which names the kernel,
#      the thread and the address of the first bad access;
#   3. the VAE decode benchmark at 1024² in a fresh process (a fault is
#      sticky for the whole process, so run.sh's VAE numbers were lost);
#   4. with E2E=1, gen end to end at 1024², 28 steps.
# Logs go to logs/diagnose-*.log; a summary is printed last.
set -uo pipefail
cd "$(dirname "$0")"
bundle=$(pwd)
root=$(cd .. && pwd)
find . -name '*.test.gz' -exec gunzip -f {} +
find . -name '*.test' -exec chmod +x {} +
mkdir -p logs
summary=()

step() { # step NAME LIMIT DIR CMD...
  local name=$1 limit=$2 dir=$3 rc start
  shift 3
  echo "== $name (limit ${limit}s)"
  start=$(date +%s)
  (cd "$dir" && timeout -k 10 "$limit" "$@") >"logs/diagnose-$name.log" 2>&1
  rc=$?
  summary+=("$(printf '%-22s exit %-4s %4ss' "$name" "$rc" "$(($(date +%s) - start))")")
  grep -E '^(--- FAIL|--- PASS|FAIL|ok |PASS)|IllegalAddress|Invalid|ERROR SUMMARY|fullsize_gpu_cuda_test|bench_gpu_cuda_test|gpu_e2e' \
    "logs/diagnose-$name.log" | grep -v 'dispatch.go' | head -40
}

sdxl=("$bundle/sdxl/sdxl.test" -test.v -test.count=1)
full=(-test.run 'GPUFullSizeUNet/1024px')

CUDA_LAUNCH_BLOCKING=1 step unet-blocking 90 "$root/sdxl" "${sdxl[@]}" "${full[@]}"

sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer /opt/nvidia/*/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$sanitizer" ]; then
  step unet-memcheck 150 "$root/sdxl" "$sanitizer" --tool memcheck --print-limit 8 --error-exitcode 9 \
    "${sdxl[@]}" "${full[@]}"
else
  summary+=("unet-memcheck          no compute-sanitizer")
fi

step vae-bench 60 "$root/sdxl" "${sdxl[@]}" -test.run '^$' -test.bench 'GPUVAEDecode1024' -test.benchtime 3x

[ "${E2E:-0}" = 1 ] && [ -x cmd/gen/gen.test ] &&
  GOSDXL_GPU_E2E=1 step gen-e2e 120 "$root/cmd/gen" "$bundle/cmd/gen/gen.test" -test.v -test.count=1 -test.run 'GPUGen1024EndToEnd'

echo
printf '%s\n' "${summary[@]}"
