#!/usr/bin/env bash
# The assemblers, linkers and the arm64 emulator for the server, and Chromium for the page's browser test.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages nasm binutils binutils-aarch64-linux-gnu qemu-user-static chromium fonts-dejavu-core
