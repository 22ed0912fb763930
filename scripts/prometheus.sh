#!/usr/bin/env bash
# Debian's prometheus package (prometheus and promtool), unpacked into the project's version-keyed cache, and
# prints that folder's bin/. Nothing is installed on the system: `apt-get install prometheus` would also enable and
# start a prometheus service on port 9090 of a workstation, so the package is only downloaded and unpacked
# (dpkg-deb -x). Idempotent. Used by the set-up (scripts/setup.d/45-prometheus.sh), the server tests (promtool
# check metrics) and the end-to-end test (a real Prometheus scraping the pods).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
. "$here/cluster/versions.sh"

version=$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  # A fresh machine may have no package lists yet.
  [ "$(id -u)" -eq 0 ] || { say "run as root: the package lists need refreshing (apt-get update)"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  version=$(apt-cache policy prometheus | awk '/Candidate:/ { print $2 }')
fi
[ -n "$version" ] && [ "$version" != "(none)" ] || { say "Debian's archive offers no prometheus package"; exit 1; }
folder="$CLUSTER_CACHE_ROOT/prometheus-${version//[^A-Za-z0-9.+-]/_}"
if [ ! -x "$folder/bin/prometheus" ] || [ ! -x "$folder/bin/promtool" ]; then
  say "unpacking Debian's prometheus $version into $folder"
  work=$(mktemp -d)
  chmod a+rwx "$work"                           # apt downloads as its own user, _apt
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -qq "prometheus=$version" >/dev/null)
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$folder.partial/bin"
  cp "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$folder.partial/bin/"
  rm -rf "$folder"
  mv "$folder.partial" "$folder"
fi
echo "$folder/bin"
