#!/usr/bin/env bash
# Builds gpu-bundle/: everything a GPU host without Go needs to check and time
# gosdxl's CUDA backend. Copy the folder over and run gpu-bundle/run.sh.
#
#   gpu-bundle/run.sh                  the steps (from scripts/gpu-run.sh)
#   gpu-bundle/<pkg>/<name>.test       -tags cuda test binaries, one per package
#                                      with cuda tests, in a folder mirroring the
#                                      package so ../testdata/... resolves
#   gpu-bundle/kernels/{cuda,ptx}/     kernel sources and PTX (the hash test reads them)
#   gpu-bundle/testdata/reference/     the tiny-model goldens
#   gpu-bundle/bin/gen                 the CLI built with -tags cuda
#   gpu-bundle/torch_bench.py          PyTorch timings at the same shapes
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out/bin"

# The kernels package is the point of the bundle: failing to build it fails.
mkdir -p "$out/kernels"
$GO test -tags cuda -c -o "$out/kernels/kernels.test" ./kernels/
cp -r kernels/cuda kernels/ptx "$out/kernels/"

# Other packages with cuda-tagged tests (e.g. sdxl's end-to-end check on the
# GPU). They belong to other parts of the tree: a build failure is reported
# and skipped so the kernel checks still ship.
for dir in $(grep -l --include='*_test.go' -r '^//go:build.*\bcuda\b' . 2>/dev/null |
  grep -v '^./gpu-bundle/' | xargs -r -n1 dirname | sort -u); do
  pkg=${dir#./}
  [ "$pkg" = kernels ] && continue
  mkdir -p "$out/$pkg"
  if ! $GO test -tags cuda -c -o "$out/$pkg/$(basename "$pkg").test" "./$pkg/"; then
    echo "gpu-bundle: WARNING: ./$pkg cuda tests do not build; left out" >&2
    rm -rf "${out:?}/$pkg"
  fi
done

if ! $GO build -tags cuda -o "$out/bin/gen" ./cmd/gen; then
  echo "gpu-bundle: WARNING: cmd/gen does not build with -tags cuda; left out" >&2
fi

mkdir -p "$out/testdata"
cp -r testdata/reference "$out/testdata/"
cp scripts/torch_bench.py "$out/"
cp scripts/gpu-run.sh "$out/run.sh"
chmod +x "$out/run.sh"
git rev-parse HEAD >"$out/COMMIT" 2>/dev/null || true
echo "gpu-bundle: $(du -sh "$out" | cut -f1) in $out/; tests:" $(cd "$out" && find . -name '*.test' | sort)
