#!/usr/bin/env bash
# Checks that `scripts/ptx.sh check` reports each problem it is there to
# catch: a stale, missing, corrupt or orphaned kernels/ptx/<name>.ptx.gz, a
# leftover uncompressed .ptx, a ptxas failure and a stack frame or spill; and
# that `ptx.sh build` writes the same bytes twice. It runs ptx.sh on a small
# made-up kernels tree with stand-in nvcc and ptxas (which do read the PTX
# ptx.sh hands them), so it needs no CUDA toolkit and takes a second.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/ptx.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/bin"
# nvcc -ptx ... -o OUT SRC: one .entry per `__global__ void NAME(` in SRC.
cat >"$work/bin/nvcc" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
while [ $# -gt 1 ]; do
  if [ "$1" = -o ]; then out=$2; shift; fi
  shift
done
{
  echo '.version 7.8'
  echo '.target sm_80'
  sed -n 's/.*__global__ void \([A-Za-z_0-9]*\)(.*/\1/p' "$1" |
    while read -r name; do printf '.visible .entry %s(\n\t.param .u64 p0\n)\n{\n\tret;\n}\n' "$name"; done
} >"$out"
EOF
# ptxas -arch=A -v -o /dev/null FILE: refuses anything but a hashed PTX, then
# reports FAKE_STACK bytes of stack frame (default 0) for each entry.
cat >"$work/bin/ptxas" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
for f; do :; done
text=$(cat "$f")
if ! grep -q '^// gosdxl-source-sha256: ' <<<"$text" || ! grep -q '\.entry ' <<<"$text"; then
  echo "ptxas fatal   : $f is not the module's PTX" >&2
  exit 1
fi
[ -z "${FAKE_FAIL:-}" ] || { echo "ptxas $f, line 3; error   : made-up failure" >&2; exit 255; }
sed -n 's/.*\.entry \([A-Za-z_0-9]*\)(.*/\1/p' <<<"$text" | while read -r name; do
  echo "ptxas info    : Function properties for $name" >&2
  echo "    ${FAKE_STACK:-0} bytes stack frame, 0 bytes spill stores, 0 bytes spill loads" >&2
done
EOF
chmod +x "$work/bin/nvcc" "$work/bin/ptxas"
export PATH="$work/bin:$PATH"

good=$work/good
mkdir -p "$good/scripts" "$good/kernels/cuda"
cp "$script" "$good/scripts/ptx.sh"
printf '#pragma once\n__device__ float twice(float x) { return 2 * x; }\n' >"$good/kernels/cuda/common.cuh"
printf '#include "common.cuh"\nextern "C" __global__ void scale_f32(float *x) { *x = twice(*x); }\n' >"$good/kernels/cuda/scale.cu"
printf 'extern "C" __global__ void fill_f32(float *x) { *x = 1; }\n' >"$good/kernels/cuda/fill.cu"
bash "$good/scripts/ptx.sh" build >/dev/null

failures=0
fail() {
  echo "ptx-check-test: $*" >&2
  failures=$((failures + 1))
}

# Building again gives the same bytes (gzip -n: no name or time stored).
mkdir "$work/first"
cp "$good"/kernels/ptx/* "$work/first/"
bash "$good/scripts/ptx.sh" build >/dev/null
cmp -s "$work/first/scale.ptx.gz" "$good/kernels/ptx/scale.ptx.gz" || fail "two builds of scale.ptx.gz differ"
gzip -dc "$good/kernels/ptx/scale.ptx.gz" | head -n1 | grep -q '^// gosdxl-source-sha256: [0-9a-f]\{64\} (cuda/scale.cu + cuda/common.cuh)$' ||
  fail "scale.ptx.gz does not start with the source hash"

# expect CASE WANT PATTERN [VAR=VALUE...]: in a copy of the good tree that
# $edit has changed, ptx.sh check must exit 0 (WANT=pass) or not (WANT=fail)
# and print a line matching PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3 tree=$work/$1 out rc=0
  shift 3
  cp -r "$good" "$tree"
  (cd "$tree/kernels" && eval "$edit")
  out=$(env "$@" bash "$tree/scripts/ptx.sh" check 2>&1) || rc=$?
  if { [ "$want" = pass ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 0 ]; }; then
    fail "$name: check exited $rc, want $want; it said:"$'\n'"$out"
  elif ! grep -qE "$pattern" <<<"$out"; then
    fail "$name: check did not say /$pattern/; it said:"$'\n'"$out"
  fi
}

edit=:
expect clean pass '2 PTX modules up to date'
edit='echo "// changed" >>cuda/common.cuh'
expect stale-header fail '^kernels/ptx/scale.ptx.gz is stale'
edit='echo "// changed" >>cuda/fill.cu'
expect stale-source fail '^kernels/ptx/fill.ptx.gz is stale'
edit='head -c 40 ptx/scale.ptx.gz >x && mv x ptx/scale.ptx.gz'
expect truncated fail '^kernels/ptx/scale.ptx.gz is corrupt'
edit='gzip -dc ptx/fill.ptx.gz >ptx/fill.ptx.gz.txt && mv ptx/fill.ptx.gz.txt ptx/fill.ptx.gz'
expect not-gzip fail '^kernels/ptx/fill.ptx.gz is corrupt'
edit='rm ptx/fill.ptx.gz'
expect missing fail '^kernels/cuda/fill.cu has no kernels/ptx/fill.ptx.gz'
edit='cp ptx/fill.ptx.gz ptx/gone.ptx.gz'
expect orphaned fail '^kernels/ptx/gone.ptx.gz has no source kernels/cuda/gone.cu'
edit='gzip -dc ptx/fill.ptx.gz >ptx/fill.ptx'
expect uncompressed fail '^kernels/ptx/fill.ptx is not a module'
edit=:
expect ptxas-fails fail 'ptxas -arch=sm_80 failed' FAKE_FAIL=1
expect stack-frame fail 'local memory or register spills for sm_90' FAKE_STACK=16

if [ $failures -gt 0 ]; then
  echo "ptx-check-test: $failures failures" >&2
  exit 1
fi
echo "ptx-check-test: ptx.sh check reports stale, missing, corrupt, orphaned and spilling modules"
