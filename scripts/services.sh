#!/usr/bin/env bash
# System packages the test suite needs, from Debian. Tests start their own servers from these binaries
# (redis-server, postgres, chromium) on loopback ports in temporary directories and stop them afterwards.
set -euo pipefail
case "${1:-install}" in
  install)
    packages=(redis-server postgresql chromium ffmpeg espeak-ng)
    if [ ${#packages[@]} -gt 0 ]; then
      missing=()
      for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
      if [ ${#missing[@]} -gt 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
      fi
    fi
    ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
