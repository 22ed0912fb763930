#!/bin/sh
# The one build definition of the server, used by `npm run build:asm`, the Dockerfile and the image script.
#
#   sh asm/build.sh [amd64] [arm64]      (default: both)
#
# For each platform it fills the page's fixed-width fields, assembles and links a static, stripped ELF into
# build/linux-<arch>/asm-web-service, then rebuilds with the binary's measured size in the page. The fields are
# fixed-width, so the second binary has the same size as the first; if not, the build fails.
#
# Environment:
#   REPO_URL    link on the page (default: package.json "repository.url")
#   IMAGE_SIZE  the Docker image's size in bytes, when known (default: the page says N/A)
#   BUILD_DIR   output folder (default: build)
set -eu

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}

fail() { echo "asm/build.sh: $*" >&2; exit 1; }

# Field widths. The page's length, and so the binary's size, depends on these, never on the values.
repo_width=80
size_width=28
platform_width=11
build_info_width=120

version=$(sed -n 's/^ *"version": *"\(.*\)",*$/\1/p' package.json | head -n 1)
# A label value of the metrics' build_info: nothing that needs escaping there, and no space (the field's padding).
if [ -z "$version" ] || printf '%s' "$version" | LC_ALL=C grep -q '[^A-Za-z0-9.+-]'; then
  fail "package.json's version may hold only A-Z a-z 0-9 . + -, got '$version'"
fi

repo_url=${REPO_URL:-$(sed -n 's/^ *"url": *"\(.*\)",*$/\1/p' package.json | head -n 1)}
repo_url=${repo_url#git+}
repo_url=${repo_url%.git}
case $repo_url in
  http://*|https://*) ;;
  *) fail "REPO_URL must start with http:// or https://, got '$repo_url'" ;;
esac
# Only characters that need no escaping in HTML text or a quoted attribute.
if printf '%s' "$repo_url" | LC_ALL=C grep -q '[^A-Za-z0-9._~:/%+@=-]'; then
  fail "REPO_URL may hold only A-Z a-z 0-9 . _ ~ : / % + @ = -, got '$repo_url'"
fi
[ ${#repo_url} -le $repo_width ] || fail "REPO_URL is longer than $repo_width characters: '$repo_url'"

image_size=${IMAGE_SIZE:-}
if [ -n "$image_size" ]; then
  case $image_size in *[!0-9]*) fail "IMAGE_SIZE must be a number of bytes, got '$image_size'" ;; esac
  image_field=$(awk -v n="$image_size" 'BEGIN { printf "%d bytes (%.3f MiB)", n, n / 1048576 }')
else
  image_field="N/A"
fi

# fill_page TEMPLATE OUT BINARY_FIELD PLATFORM: writes the page with every {{field}} padded to its width.
fill_page() {
  awk -v repo="$repo_url" -v rw=$repo_width -v bin="$3" -v img="$image_field" -v sw=$size_width \
      -v plat="$4" -v pw=$platform_width '
    function pad(s, w) { if (length(s) > w) { print "field too long: " s > "/dev/stderr"; exit 1 }
                         return sprintf("%-" w "s", s) }
    function put(line, key, value,   i) {
      while ((i = index(line, "{{" key "}}")) > 0)
        line = substr(line, 1, i - 1) value substr(line, i + length(key) + 4)
      return line }
    { line = put($0, "repo_url", pad(repo, rw)); line = put(line, "binary_size", pad(bin, sw))
      line = put(line, "image_size", pad(img, sw)); line = put(line, "platform", pad(plat, pw))
      print line }' "$1" > "$2"
  if grep -q '{{' "$2"; then fail "unfilled field in $2"; fi
  wc -c < "$2" | tr -d ' \n' > "$(dirname "$2")/page-length.txt"
}

# fill_build_info OUT ARCH BINARY_BYTES: writes the labels of /metrics' build_info, padded with spaces to
# build_info_width (the server copies them up to the first space).
fill_build_info() {
  labels="version=\"$version\",arch=\"$2\",binary_bytes=\"$3\",image_bytes=\"${image_size}\""
  [ ${#labels} -le $build_info_width ] || fail "build_info labels longer than $build_info_width: $labels"
  printf "%-${build_info_width}s" "$labels" > "$1"
}

# link ARCH GEN_DIR OUT: assembles the entry file of ARCH with GEN_DIR on the include path and links OUT
# (asm/assemble.sh), then drops the section headers.
link() {
  case $1 in
    amd64) entry=asm/x86_64/main.asm ;;
    arm64) entry=asm/arm64/main.s ;;
  esac
  sh asm/assemble.sh "$1" "$entry" "$3" "$2"
  drop_section_headers "$3"
}

# le_number FILE OFFSET BYTES: an unsigned little-endian number from a file.
le_number() {
  od -An -t u"$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# drop_section_headers FILE: removes the section header table and the section names, which the kernel never
# reads, and cuts the file at the end of the last loaded byte (the output of `sstrip`).
drop_section_headers() {
  phoff=$(le_number "$1" 32 8)
  phnum=$(le_number "$1" 56 2)
  end=0
  i=0
  while [ "$i" -lt "$phnum" ]; do
    ph=$((phoff + i * 56))
    if [ "$(le_number "$1" "$ph" 4)" = 1 ]; then                # PT_LOAD
      seg_end=$(( $(le_number "$1" $((ph + 8)) 8) + $(le_number "$1" $((ph + 32)) 8) ))
      [ "$seg_end" -gt "$end" ] && end=$seg_end
    fi
    i=$((i + 1))
  done
  # e_shoff = 0 (8 bytes at 40), e_shnum = e_shstrndx = 0 (4 bytes at 60)
  printf '\000\000\000\000\000\000\000\000' | dd of="$1" bs=1 seek=40 conv=notrunc status=none
  printf '\000\000\000\000' | dd of="$1" bs=1 seek=60 conv=notrunc status=none
  head -c "$end" "$1" > "$1.tmp" && mv "$1.tmp" "$1" && chmod +x "$1"
}

build_one() {
  arch=$1
  out_dir=$build_dir/linux-$arch
  gen=$out_dir/gen
  mkdir -p "$gen"
  out=$out_dir/asm-web-service
  fill_page asm/page.html "$gen/page.html" "" "linux/$arch"
  fill_build_info "$gen/build-info.txt" "$arch" ""
  link "$arch" "$gen" "$out"
  size=$(wc -c < "$out" | tr -d ' ')
  field=$(awk -v n="$size" 'BEGIN { printf "%d bytes (%.2f KiB)", n, n / 1024 }')
  fill_page asm/page.html "$gen/page.html" "$field" "linux/$arch"
  fill_build_info "$gen/build-info.txt" "$arch" "$size"
  link "$arch" "$gen" "$out"
  final=$(wc -c < "$out" | tr -d ' ')
  [ "$final" = "$size" ] || fail "linux/$arch: binary size changed from $size to $final when its size was filled in"
  echo "asm/build.sh: $out: $final bytes, page $(cat "$gen/page-length.txt") bytes, image ${image_field}"
}

[ $# -gt 0 ] || set -- amd64 arm64
for arch in "$@"; do
  case $arch in
    amd64|arm64) build_one "$arch" ;;
    *) fail "unknown architecture '$arch' (expected amd64 or arm64)" ;;
  esac
done
