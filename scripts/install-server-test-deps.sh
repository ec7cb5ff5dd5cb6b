#!/usr/bin/env bash
# Installs what the server tests run besides Go: Debian's headless-capable
# Chromium (the web page test drives it) and the nats-server binary (the
# multi-process NATS fault test). Skips what is already on PATH.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
