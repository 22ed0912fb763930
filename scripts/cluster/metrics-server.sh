#!/usr/bin/env bash
# Builds metrics-server (sigs.k8s.io/metrics-server, the resource metrics API behind `kubectl top` and the
# HorizontalPodAutoscaler) from the Go module proxy into the project's version-keyed cache, as the cluster's other
# components are, and prints its path. Idempotent: a finished build is reused. up.sh runs it as a component.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
go_install_cached metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server "$METRICS_SERVER_VERSION" \
  "-X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
