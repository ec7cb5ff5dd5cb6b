#!/usr/bin/env bash
# Builds gpu-bundle/: everything a GPU host without Go needs to check and time
# gosdxl's CUDA backend. Copy the folder over and run gpu-bundle/run.sh.
#
#   gpu-bundle/run.sh                  the steps (from scripts/gpu-run.sh)
#   gpu-bundle/<pkg>/<name>.test.gz    -tags cuda test binaries, one per package
#                                      with cuda tests, in a folder mirroring the
#                                      package so ../testdata/... resolves
#   gpu-bundle/kernels/{cuda,ptx}/     kernel sources and PTX (the hash test reads them)
#   gpu-bundle/testdata/reference/     what the tests read: the tiny model (.gz),
#                                      its goldens, cases and PNGs, and the
#                                      full-size SDXL manifest (random-weight UNet)
#   gpu-bundle/torch_bench.py          PyTorch timings at the same shapes
#
# The bundle must stay under 64 MiB: binaries are stripped and, like the
# tiny checkpoint, gzipped (run.sh unpacks them). The CLI is not included;
# build it on the GPU host if Go is there (go build -tags cuda ./cmd/gen).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
LIMIT_MIB=64
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out"
build_test() { # build_test PKG: -tags cuda test binary, stripped and gzipped
  local pkg=$1 bin
  bin="$out/$pkg/$(basename "$pkg").test"
  mkdir -p "$out/$pkg"
  $GO test -tags cuda -c -ldflags='-s -w' -o "$bin" "./$pkg/" && gzip -9 "$bin"
}

# The kernels package is the point of the bundle: failing to build it fails.
build_test kernels
cp -r kernels/cuda kernels/ptx "$out/kernels/"

# Other packages with cuda-tagged tests (//go:build cuda, not !cuda), e.g.
# sdxl's end-to-end checks. They belong to other parts of the tree: a build
# failure is reported and skipped so the kernel checks still ship.
for dir in $(grep -lE --include='*_test.go' -r '^//go:build (.*[^!])?\bcuda\b' . 2>/dev/null |
  grep -v "^./$out/" | xargs -r -n1 dirname | sort -u); do
  pkg=${dir#./}
  [ "$pkg" = kernels ] && continue
  if ! build_test "$pkg"; then
    echo "gpu-bundle: WARNING: ./$pkg cuda tests do not build; left out" >&2
    rm -rf "${out:?}/$pkg"
  fi
done

# Reference data the tests read, at the same relative paths.
ref=testdata/reference
mkdir -p "$out/$ref"
cp "$ref"/tiny-sdxl-a-goldens.safetensors "$ref"/tiny-sdxl-a-cases.json "$ref"/*.png \
  "$ref"/manifest-sdxl-sgm.json "$out/$ref/"
gzip -9 -c "$ref/tiny-sdxl-a.safetensors" >"$out/$ref/tiny-sdxl-a.safetensors.gz"

cp scripts/torch_bench.py "$out/"
cp scripts/gpu-run.sh "$out/run.sh"
chmod +x "$out/run.sh"
git rev-parse HEAD >"$out/COMMIT" 2>/dev/null || true

mib=$(du -sm "$out" | cut -f1)
echo "gpu-bundle: ${mib} MiB in $out/; tests:" $(cd "$out" && find . -name '*.test.gz' | sort)
if [ "$mib" -ge "$LIMIT_MIB" ]; then
  echo "gpu-bundle: ERROR: $out/ is ${mib} MiB, over the ${LIMIT_MIB} MiB limit" >&2
  exit 1
fi
