#!/usr/bin/env bash
# The whole test run: set-up, build, every test. `npm test` runs this; extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sh asm/build.sh
exec vitest run "$@"
