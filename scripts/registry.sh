#!/usr/bin/env bash
# A local image registry on 127.0.0.1:5000 for the image build and the cluster: plain HTTP, loopback only.
#
#   bash scripts/registry.sh          ensures one answers (starts Debian's docker-registry when none does), prints
#                                     its address (127.0.0.1:5000)
#   bash scripts/registry.sh stop     stops the one this script started (by its pid file), keeps the stored images
#
# Idempotent. It uses its own minimal config, not the package's (that one turns on htpasswd auth), and keeps
# config, storage, pid and log under /var/lib/asm-web-service/registry. Docker and containerd treat loopback
# registries as plain HTTP without extra settings.
set -euo pipefail

address=127.0.0.1:5000
state_dir=/var/lib/asm-web-service/registry
config=$state_dir/config.yml
pid_file=$state_dir/registry.pid
log_file=$state_dir/registry.log

. "$(dirname "$0")/lib.sh"
say() { printf '\033[1m[registry]\033[0m %s\n' "$*" >&2; }

# HTTP status of the registry API root: 200 for an open registry, 401 for one that wants a login, 000 for none.
api_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$address/v2/" || true; }

# The pid of the registry this script started, if it still runs (a recycled pid running something else does not count).
started_pid() {
  local pid
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -q "docker-registry serve $config" && echo "$pid"
}

if [ "${1:-}" = stop ]; then
  if pid=$(started_pid); then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    say "stopped (pid $pid)"
  fi
  rm -f "$pid_file"
  exit 0
fi

case $(api_status) in
  200) echo "$address"; exit 0 ;;
  000) ;;
  *) say "something else answers on $address and is not an open registry (e.g. one with a login); stop it first"
     exit 1 ;;
esac

if ! command -v docker-registry >/dev/null 2>&1; then
  say "docker-registry is not installed (Debian: apt-get install docker-registry; or run scripts/setup.sh)"
  exit 1
fi
mkdir -p "$state_dir/storage"
cat > "$config" <<EOF
# Written by scripts/registry.sh: storage on disk, plain HTTP on loopback, no auth.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state_dir/storage
http:
  addr: $address
EOF
if ! started_pid >/dev/null; then
  start_daemon "$log_file" docker-registry serve "$config"
  echo $! > "$pid_file"
fi
for _ in $(seq 1 100); do
  [ "$(api_status)" = 200 ] && { echo "$address"; exit 0; }
  sleep 0.1
done
say "the registry did not answer on $address within 10 s; see $log_file"
exit 1
