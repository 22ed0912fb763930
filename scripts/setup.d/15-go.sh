#!/usr/bin/env bash
# Go, for the construct tests' schema check (`go mod download` of k8s.io/kubernetes) and the cluster build: the
# machine's own when it is new enough, else the official toolchain from the Go module proxy (the cluster scripts'
# ensure_go_toolchain), linked as /usr/local/bin/go when no `go` is found at all.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/lib.sh"
ensure_packages curl ca-certificates unzip
. "$here/cluster/versions.sh"
. "$here/cluster/lib.sh"
go_path=$(ensure_go_toolchain)
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  say "linking $go_path as /usr/local/bin/go"
  ln -sf "$go_path" /usr/local/bin/go
fi
