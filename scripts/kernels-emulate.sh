#!/usr/bin/env bash
# Builds the fast CUDA kernels' real sources for the CPU against the emulated
# mma.cuh in kernels/emulator/, and runs their checks with cp.async landing
# early and late (see kernels/emulator/README.md). Needs g++ with C++20.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The kernel sources include "mma.cuh": put the emulated one beside them.
cp kernels/cuda/{gemm.cu,conv.cu,attention.cu,gemm_tile.cuh} "$work/"
cp kernels/emulator/{mma.cuh,runtime.h,runtime.cpp,emulate.cpp} "$work/"
flags=(-std=c++20 -O2 -pthread -Wno-unknown-pragmas -I"$work")
pids=()
for f in gemm conv attention; do
  g++ "${flags[@]}" -x c++ -c "$work/$f.cu" -o "$work/$f.o" &
  pids+=($!)
done
g++ "${flags[@]}" -c "$work/runtime.cpp" -o "$work/runtime.o" &
pids+=($!)
g++ "${flags[@]}" -c "$work/emulate.cpp" -o "$work/emulate.o"
for p in "${pids[@]}"; do wait "$p"; done
g++ -pthread -o "$work/emulate" "$work"/{gemm,conv,attention,runtime,emulate}.o
for mode in early late; do
  "$work/emulate" "$mode" | tail -1 | tee "$work/result"
  grep -q '^0 failures$' "$work/result"
done
