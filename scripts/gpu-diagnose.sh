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
#   4. gen end to end at 1024², 28 steps.
# Run as `diagnose.sh [STEP...]` (the step names are in the case below);
# without arguments it runs unet-blocking, unet-memcheck and vae-bench.
# Logs go to logs/diagnose-*.log; a summary is printed last.
set -uo pipefail
cd "$(dirname "$0")"
bundle=$(pwd)
root=$(cd .. && pwd)
# The builder packs the test binaries into tests.tar.xz to keep what travels
# small; the first run unpacks them. xz where the host has it, else Python's
# tarfile (PyTorch hosts have one).
if [ -f tests.tar.xz ]; then
  if command -v xz >/dev/null; then xz -dc tests.tar.xz | tar xf -; else python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall()' tests.tar.xz; fi &&
    rm -f tests.tar.xz || echo "$(basename "$0"): cannot unpack tests.tar.xz" >&2
fi
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
    "logs/diagnose-$name.log" | grep -v 'choice.go' | head -40
}

sdxl=("$bundle/sdxl/sdxl.test" -test.v -test.count=1)
full=(-test.run 'GPUFullSizeUNet/1024px')
unetbench=(-test.run '^$' -test.bench 'GPUUNetStep(Graph)?1024' -test.benchtime 3x)
gen=("$bundle/cmd/gen/gen.test" -test.v -test.count=1 -test.run 'GPUGen1024EndToEnd')
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)

# Steps by name, in the order given (default: the first diagnosis).
[ $# -eq 0 ] && set -- unet-blocking unet-memcheck vae-bench
for s in "$@"; do
  case $s in
  kernels) step "$s" 120 "$root/kernels" "$bundle/kernels/kernels.test" -test.v -test.count=1 \
    -test.skip 'TestEveryLaunchMatchesItsPTXSignature' ;;
  kernels-wide) step "$s" 60 "$root/kernels" "$bundle/kernels/kernels.test" -test.v -test.count=1 \
    -test.run 'WideAttention|ConformanceFast|FastMatchesSimple' ;;
  tiny) step "$s" 60 "$root/sdxl" "${sdxl[@]}" -test.run 'GPUTiny|HalfSimSpread$' ;;
  gen-tests) step "$s" 60 "$root/cmd/gen" "$bundle/cmd/gen/gen.test" -test.v -test.count=1 -test.run 'CUDA' ;;
  unet-full) step "$s" 90 "$root/sdxl" "${sdxl[@]}" -test.run 'GPUFullSizeUNet' ;;
  unet-blocking) CUDA_LAUNCH_BLOCKING=1 step "$s" 90 "$root/sdxl" "${sdxl[@]}" "${full[@]}" ;;
  unet-memcheck) step "$s" 150 "$root/sdxl" "$sanitizer" --tool memcheck --print-limit 8 --error-exitcode 9 "${sdxl[@]}" "${full[@]}" ;;
  vae-bench) step "$s" 60 "$root/sdxl" "${sdxl[@]}" -test.run '^$' -test.bench 'GPUVAEDecode1024' -test.benchtime 3x ;;
  unet-bench) step "$s" 70 "$root/sdxl" "${sdxl[@]}" "${unetbench[@]}" ;;
  # GOSDXL_CUDA_SYNC=1: the backend waits after every launch and names the
  # kernel that faulted.
  unet-bench-sync) GOSDXL_CUDA_SYNC=1 step "$s" 70 "$root/sdxl" "${sdxl[@]}" "${unetbench[@]}" ;;
  gen-e2e) GOSDXL_GPU_E2E=1 step "$s" 120 "$root/cmd/gen" "${gen[@]}" ;;
  gen-e2e-sync) GOSDXL_CUDA_SYNC=1 GOSDXL_GPU_E2E=1 step "$s" 150 "$root/cmd/gen" "${gen[@]}" ;;
  *) summary+=("$s: unknown step") ;;
  esac
done

echo
printf '%s\n' "${summary[@]}"
