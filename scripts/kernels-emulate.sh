#!/usr/bin/env bash
# Builds the CUDA kernels' real sources for the CPU against the emulated CUDA
# built-ins and mma.cuh in kernels/emulator/, and runs their checks: all of
# them with cp.async landing early, the fast kernels again with it landing
# late (see kernels/emulator/README.md). Needs g++ with C++20.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernels=(gemm conv attention elementwise norm simple_linear simple_conv simple_attention)
checks=(emulate simple_elementwise simple_cast simple_norm simple_linear_conv simple_attention_check)
# The kernel sources include "mma.cuh", <cuda_fp16.h> and <cuda_bf16.h>: put
# the emulated ones beside them (the real mma.cuh is not copied).
for k in "${kernels[@]}"; do cp "kernels/cuda/$k.cu" "$work/"; done
cp kernels/cuda/{common.cuh,gemm_tile.cuh} "$work/"
cp kernels/emulator/*.{h,cuh,cpp} "$work/"
# The check of simple_attention.cu must not overwrite the kernel source.
mv "$work/simple_attention.cpp" "$work/simple_attention_check.cpp"
flags=(-std=c++20 -O2 -pthread -Wno-unknown-pragmas -I"$work")

# shared_flag K: EMU_DYNAMIC_SHARED when kernel K declares `extern
# __shared__` (cuda_host.h explains why the two forms need different builds).
shared_flag() {
  local src=("$work/$1.cu") dynamic=0 static=0
  [ "$1" = gemm ] || [ "$1" = conv ] && src+=("$work/gemm_tile.cuh")
  src+=("$work/common.cuh")
  grep -q 'extern[[:space:]]\+__shared__' "${src[@]}" && dynamic=1
  grep -v 'extern' "${src[@]}" | grep -q '__shared__' && static=1
  if [ $dynamic = 1 ] && [ $static = 1 ]; then
    echo "$1.cu mixes static and extern __shared__: the emulation cannot build it" >&2
    exit 1
  fi
  [ $dynamic = 1 ] && echo -DEMU_DYNAMIC_SHARED || true
}

pids=()
for k in "${kernels[@]}"; do
  g++ "${flags[@]}" $(shared_flag "$k") -x c++ -c "$work/$k.cu" -o "$work/$k.o" &
  pids+=($!)
done
for c in runtime "${checks[@]}"; do
  g++ "${flags[@]}" -c "$work/$c.cpp" -o "$work/$c.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

# GCC ignores the section attribute on a template's static locals, so the
# static __shared__ arrays are moved into section emu_shared here, found by
# the names the source declares (`__shared__ float xs[...]` -> xs), which the
# runtime then poisons before every block.
for k in "${kernels[@]}"; do
  names=$(sed -n 's/^[[:space:]]*__shared__[^;]*[[:space:]]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*\[.*/\1/p' \
    "$work/$k.cu" | sort -u | paste -sd'|')
  [ -n "$names" ] || continue
  renames=()
  for sec in $(objdump -h "$work/$k.o" | awk '{print $2}' | grep -E "^\.bss\._ZZ[0-9].*E[0-9]+($names)(_[0-9]+)?\$"); do
    renames+=(--rename-section "$sec=emu_shared")
  done
  if [ ${#renames[@]} -eq 0 ]; then echo "$k.cu: no static __shared__ arrays found for $names" >&2; exit 1; fi
  objcopy "${renames[@]}" "$work/$k.o"
done
objs=()
for f in "${kernels[@]}" runtime "${checks[@]}"; do objs+=("$work/$f.o"); done
g++ -pthread -o "$work/emulate" "${objs[@]}"
for run in "early" "late fast"; do
  # shellcheck disable=SC2086 # run holds two words on purpose
  "$work/emulate" $run | tee "$work/result"
  tail -1 "$work/result" | grep -q '^0 failures$'
done
