#!/usr/bin/env bash
# Builds gpu-bundle/: the -tags cuda test binaries a GPU host without Go needs
# to check and time gosdxl's CUDA backend, plus the script that runs them.
# The bundle stays inside the repository checkout: send the checkout (its
# testdata/ and kernels/ are what the tests read) with gpu-bundle/ in it, and
# run gpu-bundle/run.sh there.
#
#   gpu-bundle/run.sh                  the steps (from scripts/gpu-run.sh)
#   gpu-bundle/tests.tar.xz            -tags cuda test binaries, one per package
#                                      with cuda tests (<pkg>/<name>.test),
#                                      stripped; run.sh unpacks them
#   gpu-bundle/torch_bench.py          PyTorch timings at the same shapes
#
# The checkout plus the bundle must stay small enough to travel (64 MiB in
# all): the build fails when the two pass TRAVEL_LIMIT_MIB together. The CLI
# is not included; build it on the GPU host if Go is there
# (go build -tags cuda ./cmd/gen).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# 4 MiB under the hard limit by default: room for the archive framing of the
# checkout's files and for what is committed between two bundle builds.
TRAVEL_LIMIT_MIB=${TRAVEL_LIMIT_MIB:-60}
out=gpu-bundle
rm -rf "$out"
mkdir -p "$out"
build_test() { # build_test PKG: -tags cuda test binary, stripped
  local pkg=$1
  mkdir -p "$out/$pkg"
  $GO test -tags cuda -c -ldflags='-s -w' -o "$out/$pkg/$(basename "$pkg").test" "./$pkg/"
}

# pack replaces the test binaries by one tests.tar.xz (xz, or Python's lzma
# without it). One stream, not one file each: the binaries share most of
# their bytes (the Go runtime, this module's packages, and the PTX modules
# every one embeds, already gzipped, which xz cannot shrink further), and
# one stream stores them once: about half the size of separate files.
pack() {
  local tests
  tests=$(cd "$out" && find . -name '*.test' | sort)
  # shellcheck disable=SC2086 # plain relative paths, one per package
  if command -v xz >/dev/null; then
    (cd "$out" && tar cf - $tests | xz -9 -T0 >tests.tar.xz)
  else
    (cd "$out" && python3 -c 'import sys,tarfile; t=tarfile.open("tests.tar.xz","w:xz",preset=9); [t.add(f) for f in sys.argv[1:]]; t.close()' $tests)
  fi
  (cd "$out" && rm -f $tests && find . -type d -empty -delete)
  echo "gpu-bundle: tests.tar.xz holds" $tests
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

pack

# What travels to a GPU host: the checkout's files (those git tracks, and
# untracked ones it does not ignore) plus this bundle.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
bundle=$(du -sb "$out" | cut -f1)
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "gpu-bundle: $(mib "$bundle") MiB in $out/ (not a git checkout: the travel size is not checked)"
  exit 0
fi
# A tracked file deleted here does not travel: stat's complaint is dropped.
checkout=$(git ls-files -z --cached --others --exclude-standard |
  { xargs -0 -r stat -c %s -- 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }')
total=$((checkout + bundle))
echo "gpu-bundle: $(mib "$bundle") MiB in $out/; with the checkout's $(mib "$checkout") MiB, $(mib "$total") MiB travel (limit ${TRAVEL_LIMIT_MIB} MiB)"
if [ "$total" -ge $((TRAVEL_LIMIT_MIB << 20)) ]; then
  echo "gpu-bundle: ERROR: the checkout's files ($(mib "$checkout") MiB) and $out/ ($(mib "$bundle") MiB) come to $(mib "$total") MiB, over the ${TRAVEL_LIMIT_MIB} MiB they may take together (64 MiB travel to a GPU host at most)" >&2
  exit 1
fi
