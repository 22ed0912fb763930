#!/usr/bin/env bash
# What the server test suite (test/server/) needs beyond the toolchain: `ip` (iproute2) and `unshare`
# (util-linux) to run the server on its default port 8080 inside a private network namespace, and
# `readelf` (binutils) for the ELF checks.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages iproute2 util-linux binutils
