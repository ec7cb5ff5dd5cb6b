#!/usr/bin/env bash
# Kernel toolchain.
#   ptx.sh build [name...]
#                  compile each kernels/cuda/<name>.cu to kernels/ptx/<name>.ptx.gz
#                  (nvcc -ptx -arch=compute_80 -O3, then gzip -9 -n). The PTX is
#                  stored compressed so the checkout stays small enough to travel
#                  to a GPU host; -n leaves out the file name and time, so the
#                  same PTX always gives the same bytes. The PTX's first line
#                  records the sha256 of the source followed by the local headers
#                  it includes (#include "x.cuh", transitively, in sorted order)
#                  and their names.
#   ptx.sh check   fail when a PTX is missing, orphaned, corrupt (not whole gzip
#                  data) or stale (hash), or when ptxas -v for sm_80 or sm_90
#                  reports register spills or a stack frame (local memory) in any
#                  kernel. scripts/ptx-check-test.sh checks the first four are
#                  reported.
# To read one: gzip -dc kernels/ptx/<name>.ptx.gz | less
set -euo pipefail
cd "$(dirname "$0")/../kernels"

# local_headers FILE: the cuda/*.cuh files FILE includes, transitively, sorted.
local_headers() {
  local todo=("$1") seen="" f inc
  while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]}
    todo=("${todo[@]:1}")
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
      case " $seen " in *" cuda/$inc "*) continue ;; esac
      seen="$seen cuda/$inc"
      todo+=("cuda/$inc")
    done
  done
  echo $seen | tr ' ' '\n' | sed '/^$/d' | sort
}

# hash_line CU: the first line of CU's PTX.
hash_line() {
  local headers hash
  headers=$(local_headers "$1")
  # shellcheck disable=SC2086 # headers is a list of plain file names
  hash=$(cat "$1" $headers | sha256sum | cut -d' ' -f1)
  echo "// gosdxl-source-sha256: $hash ($(echo "$1" $headers | sed 's/ / + /g'))"
}

build_one() {
  local cu=$1 name gz tmp
  name=$(basename "$cu" .cu)
  gz=ptx/$name.ptx.gz
  tmp=$(mktemp)
  nvcc -ptx -arch=compute_80 -O3 -o "$tmp" "$cu"
  # Written beside and renamed, so a failed build leaves no truncated module.
  { hash_line "$cu"; cat "$tmp"; } | gzip -9 -n >"$gz.tmp"
  mv "$gz.tmp" "$gz"
  # The uncompressed form this module was once committed in.
  rm -f "$tmp" "ptx/$name.ptx"
  echo "built kernels/$gz"
}

# ptxas_check GZ ARCH: assemble the PTX in GZ and reject spills and stack
# frames. ptxas reads it from a pipe: no uncompressed copy is written.
ptxas_check() {
  local ptx=$1 arch=$2 log bad
  if ! log=$(gzip -dc "$ptx" | ptxas -arch="$arch" -v -o /dev/null /dev/stdin 2>&1); then
    echo "$ptx: ptxas -arch=$arch failed (its /dev/stdin is gzip -dc kernels/$ptx):" >&2
    echo "$log" >&2
    return 1
  fi
  # Lines look like: "N bytes stack frame, N bytes spill stores, N bytes spill loads".
  bad=$(echo "$log" | grep -E 'bytes stack frame|bytes spill' |
    grep -Ev '^\s*(ptxas info\s*:\s*)?0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\s*$' || true)
  if [ -n "$bad" ]; then
    echo "$ptx: local memory or register spills for $arch:" >&2
    echo "$log" | grep -E -B2 'bytes stack frame' | grep -Ev '0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads' >&2 || true
    return 1
  fi
}

# first_line GZ: the first line of the PTX in GZ.
first_line() {
  # head stops reading early: gzip's broken pipe is not a failure here.
  gzip -dc "$1" 2>/dev/null | head -n1 || true
}

check() {
  local status=0 cu name ptx want got
  for cu in cuda/*.cu; do
    name=$(basename "$cu" .cu)
    ptx=ptx/$name.ptx.gz
    if [ ! -f "$ptx" ]; then
      echo "kernels/$cu has no kernels/$ptx: run make ptx" >&2
      status=1
      continue
    fi
    if ! got=$(gzip -t "$ptx" 2>&1); then
      echo "kernels/$ptx is corrupt (${got//$'\n'/; }): run make ptx" >&2
      status=1
      continue
    fi
    want=$(hash_line "$cu")
    got=$(first_line "$ptx")
    if [ "$want" != "$got" ]; then
      echo "kernels/$ptx is stale (kernels/$cu or a header it includes changed): run make ptx" >&2
      status=1
    fi
  done
  for ptx in ptx/*; do
    [ -e "$ptx" ] || continue
    case $ptx in
    *.ptx.gz) name=$(basename "$ptx" .ptx.gz) ;;
    *)
      # e.g. an uncompressed .ptx left from before modules were gzipped.
      echo "kernels/$ptx is not a module (kernels/ptx holds <name>.ptx.gz files only): delete it" >&2
      status=1
      continue
      ;;
    esac
    if [ ! -f "cuda/$name.cu" ]; then
      echo "kernels/$ptx has no source kernels/cuda/$name.cu: delete it" >&2
      status=1
    fi
  done
  [ $status -eq 0 ] || return 1

  # Assemble one module and architecture at a time: ptxas on the large
  # modules takes a lot of memory, and running several at once (even one
  # per core) has exhausted machines where make then failed with "wait: No
  # child processes". Sequential is about a minute and has no jobs to lose.
  for ptx in ptx/*.ptx.gz; do
    for arch in sm_80 sm_90; do
      ptxas_check "$ptx" "$arch" || status=1
    done
  done
  [ $status -eq 0 ] && echo "kernels: $(ls ptx/*.ptx.gz | wc -l) PTX modules up to date, no spills or stack frames on sm_80/sm_90"
  return $status
}

case "${1:-}" in
build)
  # Optional names build only those modules: ptx.sh build norm elementwise
  mkdir -p ptx
  shift
  if [ $# -gt 0 ]; then
    for name in "$@"; do build_one "cuda/$name.cu"; done
  else
    for cu in cuda/*.cu; do build_one "$cu"; done
  fi
  ;;
check) check ;;
*)
  echo "usage: $0 build|check" >&2
  exit 2
  ;;
esac
