#!/usr/bin/env bash
# Prometheus for the tests: promtool checks the server's /metrics (test/server/metrics.test.ts) and a real
# Prometheus scrapes the pods in the end-to-end test. Debian's package, unpacked into the project's cache by
# scripts/prometheus.sh (no service is installed or started).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/prometheus.sh" >/dev/null
