#!/usr/bin/env bash
# Installs what `npm run bench` needs when it is missing: the peer servers, the load generator and the
# instruction counters. Idempotent and quick when all is there. Not part of `npm test`: the benchmark runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# nginx-light is the smallest nginx build; h2o and lighttpd are the other peers; wrk drives the load;
# valgrind (callgrind) counts instructions where perf has no hardware counters (VMs); util-linux has taskset;
# strace counts system calls; iproute2 has ss; nasm/binutils build our server.
ensure_packages nginx-light h2o lighttpd wrk valgrind strace linux-perf util-linux iproute2 nasm binutils

# The floor server (bench/floor.c), rebuilt when its source is newer.
mkdir -p build/bench
if [ ! -x build/bench/floor ] || [ bench/floor.c -nt build/bench/floor ]; then
  gcc -O2 -Wall -Wextra -o build/bench/floor bench/floor.c
fi
