#!/usr/bin/env bash
# System services the test suite needs, from Debian packages. The walking skeleton needs none beyond
# SQLite (built into Python); later tiers add redis-server, postgresql and chromium here.
set -euo pipefail
case "${1:-install}" in
  install)
    packages=()
    # ffmpeg/redis/postgresql/chromium will be listed here as the suites that need them land.
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
