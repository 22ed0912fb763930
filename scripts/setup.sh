#!/usr/bin/env bash
# Idempotent set-up of everything the build and the tests need: safe to run again, quick when all is there.
# The README's test command runs it. Each part lives in scripts/setup.d/ and runs in name order.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

for part in scripts/setup.d/*.sh; do
  bash "$part"
done
say "set-up complete"
