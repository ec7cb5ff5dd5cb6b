#!/usr/bin/env bash
# Builds the CUDA kernels' real sources for the CPU against the emulated CUDA
# built-ins and mma.cuh in kernels/emulator/, and runs their checks: all of
# them with cp.async landing early, the fast kernels again with it landing
# late (see kernels/emulator/README.md). Needs g++ with C++20.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernels=(gemm gemm_norm ln_gemm ln_attention streamk conv attention elementwise norm linear_chain simple_linear simple_conv simple_attention)
checks=(emulate norm_fused chain_check simple_elementwise simple_cast simple_norm simple_linear_conv simple_attention_check)
# shellcheck source=scripts/emulator-lib.sh
source scripts/emulator-lib.sh
emu_stage "$work"
# The check of simple_attention.cu must not overwrite the kernel source.
mv "$work/simple_attention.cpp" "$work/simple_attention_check.cpp"
flags=(-std=c++20 -O2 -pthread -Wno-unknown-pragmas -I"$work")

pids=()
for k in "${kernels[@]}"; do
  g++ "${flags[@]}" $(emu_shared_flag "$work" "$k") -x c++ -c "$work/$k.cu" -o "$work/$k.o" &
  pids+=($!)
done
for c in runtime "${checks[@]}"; do
  g++ "${flags[@]}" -c "$work/$c.cpp" -o "$work/$c.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

for k in "${kernels[@]}"; do emu_move_shared "$work/$k.cu" "$work/$k.o"; done
objs=()
for f in "${kernels[@]}" runtime "${checks[@]}"; do objs+=("$work/$f.o"); done
g++ -pthread -o "$work/emulate" "${objs[@]}"
for run in "early" "late fast"; do
  # shellcheck disable=SC2086 # run holds two words on purpose
  "$work/emulate" $run | tee "$work/result"
  tail -1 "$work/result" | grep -q '^0 failures$'
done
