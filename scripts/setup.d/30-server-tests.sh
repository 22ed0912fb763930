#!/usr/bin/env bash
# What the server test suite (test/server/) needs beyond the toolchain: `ip` (iproute2) and `unshare`
# (util-linux) to run the server on its default port 8080 inside a private network namespace, `readelf`
# (binutils) for the ELF checks, a C compiler for test/support/*.c (the IPv4 fallback's test, the shared-file
# check), and strace, which delays or fails chosen system calls (workers, accept and fairness tests).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages iproute2 util-linux binutils gcc libc6-dev strace
