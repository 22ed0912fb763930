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
go_install_cached helm "$HELM_MODULE/cmd/helm" "$HELM_VERSION" "-X $HELM_MODULE/internal/version.version=$HELM_VERSION"
