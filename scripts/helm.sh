#!/usr/bin/env bash
# Builds helm from the Go module proxy into the project's version-keyed cache (no release archive can be fetched
# here) and prints its path. Idempotent: a finished build is reused, so only the first run pays (about 10 min on 2
# busy cores). Used by the set-up (scripts/setup.d/40-packages.sh) and by test/construct/helm-chart.test.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/cluster/versions.sh"
. "$here/cluster/lib.sh"

HELM_MODULE="${HELM_MODULE:-helm.sh/helm/v4}"
HELM_VERSION="${HELM_VERSION:-v4.3.2}"
HELM_CACHE="$CLUSTER_CACHE_ROOT/helm-$HELM_VERSION"
helm_bin="$HELM_CACHE/bin/helm"

if [ ! -x "$helm_bin" ]; then
  go_bin="$(ensure_go_toolchain)"
  step "building helm $HELM_VERSION with $("$go_bin" version | cut -d' ' -f3) into $HELM_CACHE"
  mkdir -p "$HELM_CACHE/gomod" "$HELM_CACHE/gocache"
  # GOBIN gets the binary only when the build succeeded; an interrupted build leaves no half-written helm.
  GOMODCACHE="$HELM_CACHE/gomod" GOCACHE="$HELM_CACHE/gocache" GOBIN="$HELM_CACHE/bin" \
    GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}" \
    nice "$go_bin" install -trimpath -ldflags "-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION" \
    "$HELM_MODULE/cmd/helm@$HELM_VERSION" >&2 || die "could not build helm $HELM_VERSION from the Go module proxy"
fi
echo "$helm_bin"
