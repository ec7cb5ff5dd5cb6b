# Shared by scripts/kernels-emulate.sh and scripts/fake-cuda.sh (sourced):
# host builds of the kernels/cuda sources against kernels/emulator's CUDA
# built-ins. Needs g++ with C++20.

# emu_stage DIR copies the kernel sources and the emulated headers into DIR:
# the sources include "mma.cuh", <cuda_fp16.h> and <cuda_bf16.h>, which must
# be the emulated ones (the real mma.cuh is not copied).
emu_stage() {
  cp kernels/cuda/*.cu kernels/cuda/{common.cuh,channels.cuh,gemm_tile.cuh,norm_loader.cuh,ln_loader.cuh,attention.cuh} "$1/"
  cp kernels/emulator/*.{h,cuh,cpp} "$1/"
}

# emu_shared_flag DIR K prints -DEMU_DYNAMIC_SHARED when kernel K declares
# `extern __shared__` (cuda_host.h explains why the two forms need
# different builds) and fails when it mixes both forms.
emu_shared_flag() {
  local src=("$1/$2.cu") dynamic=0 static=0
  grep -q 'gemm_tile.cuh\|norm_loader.cuh' "$1/$2.cu" && src+=("$1/gemm_tile.cuh" "$1/norm_loader.cuh")
  src+=("$1/common.cuh")
  grep -q 'extern[[:space:]]\+__shared__' "${src[@]}" && dynamic=1
  grep -v 'extern' "${src[@]}" | grep -q '__shared__' && static=1
  if [ $dynamic = 1 ] && [ $static = 1 ]; then
    echo "$2.cu mixes static and extern __shared__: the emulation cannot build it" >&2
    return 1
  fi
  [ $dynamic = 1 ] && echo -DEMU_DYNAMIC_SHARED || true
}

# emu_move_shared SRC OBJ: GCC ignores the section attribute on a template's
# static locals, so the static __shared__ arrays of SRC are moved into section
# emu_shared of OBJ here, found by the names the source declares
# (`__shared__ float xs[...]` -> xs), which the runtime then poisons before
# every block.
emu_move_shared() {
  local names renames=() sec
  names=$(sed -n 's/^[[:space:]]*__shared__[^;]*[[:space:]]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*\[.*/\1/p' \
    "$1" | sort -u | paste -sd'|')
  [ -n "$names" ] || return 0
  for sec in $(objdump -h "$2" | awk '{print $2}' | grep -E "^\.bss\._ZZ[0-9].*E[0-9]+($names)(_[0-9]+)?\$"); do
    renames+=(--rename-section "$sec=emu_shared")
  done
  if [ ${#renames[@]} -eq 0 ]; then echo "$1: no static __shared__ arrays found for $names" >&2; return 1; fi
  objcopy "${renames[@]}" "$2"
}
