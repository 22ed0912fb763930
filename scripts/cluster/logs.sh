#!/usr/bin/env bash
# Prints the tail of each cluster component's log (the running cluster's, else the last one cluster:down kept).
# The e2e test prints this when one of its checks fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"
[ -d "$LOG_DIR" ] || LOG_DIR="$LAST_LOGS_DIR"
show_logs
