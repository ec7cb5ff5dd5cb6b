#!/usr/bin/env bash
# Installs Debian's CUDA 11.8 toolkit (nvcc, ptxas) so `make ptx`, `make kernels-check`
# and `-tags cuda` builds work on a machine without a GPU. The toolkit lives in bookworm's
# contrib/non-free components, which a stock Debian 12 image does not enable.
# Skips everything when nvcc is already on PATH.
set -euo pipefail

if command -v nvcc >/dev/null 2>&1; then
  exit 0
fi

sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ] && ! grep -q 'non-free' "$sources"; then
  sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$sources"
elif [ ! -f "$sources" ]; then
  echo "deb http://deb.debian.org/debian bookworm main contrib non-free non-free-firmware" \
    >/etc/apt/sources.list.d/gosdxl-cuda.list
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit >/dev/null
nvcc --version | tail -1
