#!/usr/bin/env bash
# Builds gpu-bundle/: the -tags cuda test binaries a GPU host without Go needs
# to check and time gosdxl's CUDA backend, plus the script that runs them.
# The bundle stays inside the repository checkout: send the checkout (its
# testdata/ and kernels/ are what the tests read) with gpu-bundle/ in it, and
# run gpu-bundle/run.sh there.
#
#   gpu-bundle/run.sh                  the steps (from scripts/gpu-run.sh)
#   gpu-bundle/<pkg>/<name>.test.xz    -tags cuda test binaries, one per package
#                                      with cuda tests, stripped and xz-compressed
#   gpu-bundle/torch_bench.py          PyTorch timings at the same shapes
#
# The checkout plus the bundle must stay small enough to travel (64 MiB in
# all), so the bundle itself is held under LIMIT_MIB. The CLI is not included;
# build it on the GPU host if Go is there (go build -tags cuda ./cmd/gen).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
LIMIT_MIB=24
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out"
build_test() { # build_test PKG: -tags cuda test binary, stripped and xz-compressed
  local pkg=$1 bin
  bin="$out/$pkg/$(basename "$pkg").test"
  mkdir -p "$out/$pkg"
  # xz, not gzip: each binary embeds every PTX module, which xz packs about
  # a third smaller, and the bundle must stay under LIMIT_MIB.
  $GO test -tags cuda -c -ldflags='-s -w' -o "$bin" "./$pkg/" && compress "$bin"
}

# compress FILE replaces FILE by FILE.xz (xz, or Python's lzma without it).
compress() {
  if command -v xz >/dev/null; then
    xz -9 -T0 "$1"
  else
    python3 -c 'import lzma,os,sys; open(sys.argv[1]+".xz","wb").write(lzma.compress(open(sys.argv[1],"rb").read(), preset=9)); os.remove(sys.argv[1])' "$1"
  fi
}

# The kernels package is the point of the bundle: failing to build it fails.
build_test kernels

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

cp scripts/torch_bench.py scripts/torch_unet_bench.py "$out/"
cp scripts/gpu-run.sh "$out/run.sh"
cp scripts/gpu-diagnose.sh "$out/diagnose.sh"
chmod +x "$out/run.sh" "$out/diagnose.sh"
git rev-parse HEAD >"$out/COMMIT" 2>/dev/null || true

mib=$(du -sm "$out" | cut -f1)
echo "gpu-bundle: ${mib} MiB in $out/; tests:" $(cd "$out" && find . -name '*.test.xz' | sort)
if [ "$mib" -ge "$LIMIT_MIB" ]; then
  echo "gpu-bundle: ERROR: $out/ is ${mib} MiB, over the ${LIMIT_MIB} MiB limit (the checkout travels with it)" >&2
  exit 1
fi
