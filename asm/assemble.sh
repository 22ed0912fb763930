#!/bin/sh
# Assembles one entry file for an architecture and links it into a static ELF, with the project's tools and
# flags: the server (asm/build.sh) and the test drivers that include its modules (test/server/date/) are built
# by this one definition.
#
#   sh asm/assemble.sh ARCH SOURCE OUT [INCLUDE_DIR...]      ARCH: amd64 or arm64
#
# asm/x86_64/ or asm/arm64/ is on the include path after the INCLUDE_DIRs given. The object goes next to OUT.
set -eu

fail() { echo "asm/assemble.sh: $*" >&2; exit 1; }

# tool NAME FALLBACK_ARCH: the cross tool if installed, else the native one when the host is that arch.
tool() {
  if command -v "$1" >/dev/null 2>&1; then echo "$1"
  elif [ "$(uname -m)" = "$2" ]; then echo "${1#*-linux-gnu-}"
  else fail "$1 not found (install binutils for $2, e.g. Debian's binutils-${2%%_64}-linux-gnu)"; fi
}

[ $# -ge 3 ] || fail "usage: sh asm/assemble.sh amd64|arm64 SOURCE OUT [INCLUDE_DIR...]"
arch=$1 source=$2 out=$3
shift 3
object="$out.o"
includes=""
for dir in "$@"; do includes="$includes -I $dir/"; done
case $arch in
  amd64)
    # shellcheck disable=SC2086 # $includes is a list of options
    nasm -f elf64 $includes -I asm/x86_64/ -o "$object" "$source"
    ld=$(tool x86_64-linux-gnu-ld x86_64) ;;
  arm64)
    # shellcheck disable=SC2086
    "$(tool aarch64-linux-gnu-as aarch64)" $includes -I asm/arm64/ -o "$object" "$source"
    ld=$(tool aarch64-linux-gnu-ld aarch64) ;;
  *) fail "unknown architecture '$arch' (amd64 or arm64)" ;;
esac
# -n: no page alignment between sections; -s: stripped; no build id, no separate code segment padding.
"$ld" -static -n -s --build-id=none -z noseparate-code -z norelro -o "$out" "$object"
