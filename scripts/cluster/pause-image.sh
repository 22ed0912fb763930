#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image from scripts/cluster/pause/pause.c and pushes it to the local registry
# with the registry's HTTP API (no Docker needed). registry.k8s.io/pause cannot be pulled here.
# Usage: pause-image.sh REGISTRY REFERENCE_NAME:TAG   e.g. pause-image.sh 127.0.0.1:5000 pause:3.10
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

registry="$1"
repository="${2%%:*}"
tag="${2##*:}"
work="$CLUSTER_CACHE_ROOT/pause"
mkdir -p "$work/rootfs"

case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) die "unsupported machine $(uname -m)" ;; esac

# The image is rebuilt only when the source changes; the layer is reproducible (fixed owner, mode and mtime).
source_sum="$(sha256sum "$here/pause/pause.c" | cut -d' ' -f1)"
if [ "$(cat "$work/source.sha256" 2>/dev/null)" != "$source_sum" ]; then
  gcc -static -Os -s -o "$work/rootfs/pause" "$here/pause/pause.c"
  chmod 0755 "$work/rootfs/pause"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -C "$work/rootfs" -cf "$work/layer.tar" pause
  gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
  echo "$source_sum" >"$work/source.sha256"
fi

digest_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
layer_digest="$(digest_of "$work/layer.tar.gz")"
# Upstream's pause runs as 65535, so it fits Pod Security "restricted" (runAsNonRoot) as well.
printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$arch" "$(digest_of "$work/layer.tar")" >"$work/config.json"
config_digest="$(digest_of "$work/config.json")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
  "$config_digest" "$(stat -c %s "$work/config.json")" "$layer_digest" "$(stat -c %s "$work/layer.tar.gz")" \
  >"$work/manifest.json"
manifest_digest="$(digest_of "$work/manifest.json")"

base="http://$registry/v2/$repository"
# Already there (same digest under the tag): nothing to do.
if [ "$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -I \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$base/manifests/$tag" 2>/dev/null)" = "$manifest_digest" ]; then
  exit 0
fi

# push_blob FILE DIGEST: a monolithic upload (POST for a session, PUT with the digest), skipped when present.
push_blob() {
  curl -fsS -o /dev/null -I "$base/blobs/$2" 2>/dev/null && return 0
  local location
  location="$(curl -fsS -X POST -D - -o /dev/null "$base/blobs/uploads/" | tr -d '\r' |
    sed -n 's/^[Ll]ocation: //p')"
  [ -n "$location" ] || die "registry $registry gave no upload location"
  case "$location" in http*) ;; *) location="http://$registry$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$2" ;; *) location="$location?digest=$2" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$location" >/dev/null
}
push_blob "$work/layer.tar.gz" "$layer_digest"
push_blob "$work/config.json" "$config_digest"
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest.json" "$base/manifests/$tag" >/dev/null
step "pushed $registry/$repository:$tag ($manifest_digest)"
