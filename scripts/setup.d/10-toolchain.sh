#!/usr/bin/env bash
# The assemblers, linkers and the arm64 emulator for the server, Chromium for the page's browser test, and strace
# for the server tests that delay or fail a system call.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ensure_packages nasm binutils binutils-aarch64-linux-gnu qemu-user-static chromium fonts-dejavu-core strace
