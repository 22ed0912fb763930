#!/usr/bin/env bash
# The project's own image registry for the image build and the cluster: plain HTTP on 127.0.0.1 only, run as the
# calling user (root is not needed) with its state in that user's cache.
#
#   bash scripts/registry.sh           ensures the project's registry answers on 127.0.0.1:PORT (starts it when
#                                      nothing answers there) and prints the address
#   bash scripts/registry.sh stop      stops the registry this state folder's run started; the stored images stay
#   bash scripts/registry.sh prepare   finds a registry program or image (or fetches one, see below) and prints
#                                      what it would run ("program PATH" or "image NAME"); starts nothing
#
# Settings: LOCAL_REGISTRY_PORT (5000); LOCAL_REGISTRY_DIR (${XDG_CACHE_HOME:-~/.cache}/asm-web-service/registry:
# config, storage, pid file and log); LOCAL_REGISTRY_IMAGE (a registry image to prefer to any program found).
#
# What it runs, the first found: LOCAL_REGISTRY_IMAGE; the `docker-registry` (Debian's package) or `registry`
# (distribution's own name) program on PATH; the copy fetched earlier into ~/.cache/asm-web-service/bin; a local
# `registry:2` or `registry:latest` image (run with Docker, the user's id, the storage mounted); else Debian's
# docker-registry program, fetched with `apt-get download` and unpacked into ~/.cache/asm-web-service/bin (no
# package is installed, so no system service appears). Always with its own minimal config (a packaged one may turn
# on htpasswd auth or listen on every interface).
#
# Whose registry answers: the project's sends the header Asm-Web-Service-Registry (its state folder) with every
# response, whichever user started it, and is used as it is. Anything else on the port, such as a registry the user
# runs (Debian's docker-registry service listens on :5000), is left alone: the script stops and says so.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
say() { printf '\033[1m[registry]\033[0m %s\n' "$*" >&2; }

port="${LOCAL_REGISTRY_PORT:-5000}"
if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || [ "$port" -gt 65535 ]; then
  say "LOCAL_REGISTRY_PORT must be a port number (1-65535), got '$port'"
  exit 2
fi
address="127.0.0.1:$port"
cache_root="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/asm-web-service"
state_dir="${LOCAL_REGISTRY_DIR:-$cache_root/registry}"
fetched_binary="$cache_root/bin/docker-registry"
config="$state_dir/config-$port.yml"
pid_file="$state_dir/registry-$port.pid"
log_file="$state_dir/registry-$port.log"
identity_header=Asm-Web-Service-Registry

# What answers on the port: "ours STATE_DIR" (the project's registry, any user's), "other CODE" (an HTTP server that
# is not the project's registry; CODE 401 is one that wants a login), or "none".
who_answers() {
  local headers code owner
  headers=$(curl -s -o /dev/null -m 2 -D - "http://$address/v2/" 2>/dev/null | tr -d '\r') || true
  code=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$headers")
  [ -n "$code" ] || { echo none; return; }
  owner=$(sed -n "s/^$identity_header: //Ip" <<<"$headers" | head -n 1)
  if [ "$code" = 200 ] && [ -n "$owner" ]; then echo "ours $owner"; else echo "other $code"; fi
}

# The container or pid this state folder's run started, if it still runs (a recycled pid does not count).
started_by_us() {
  local started
  started=$(cat "$pid_file" 2>/dev/null) || return 1
  case $started in
    container:*)
      [ "$(docker inspect --format '{{.State.Running}}' "${started#container:}" 2>/dev/null)" = true ] ;;
    *)
      tr '\0' ' ' 2>/dev/null <"/proc/$started/cmdline" | grep -qF " serve $config" ;;
  esac && echo "$started"
}

# is_distribution PROGRAM: true when PROGRAM is distribution's registry (Debian names it docker-registry).
is_distribution() { "$1" --version 2>/dev/null | grep -q 'distribution'; }

# Prints what to run: "program PATH" or "image NAME"; fails when nothing is found.
find_registry() {
  local candidate
  if [ -n "${LOCAL_REGISTRY_IMAGE:-}" ]; then
    docker image inspect "$LOCAL_REGISTRY_IMAGE" >/dev/null 2>&1 && { echo "image $LOCAL_REGISTRY_IMAGE"; return; }
    say "LOCAL_REGISTRY_IMAGE=$LOCAL_REGISTRY_IMAGE is not a local image (docker pull it first)"
    return 1
  fi
  for candidate in "$(command -v docker-registry || true)" "$(command -v registry || true)" "$fetched_binary"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && is_distribution "$candidate" && { echo "program $candidate"; return; }
  done
  for candidate in registry:2 registry:latest; do
    docker image inspect "$candidate" >/dev/null 2>&1 && { echo "image $candidate"; return; }
  done
  return 1
}

# Fetches Debian's docker-registry package file and unpacks only its program into the user's cache.
fetch_registry() {
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || return 1
  local folder
  folder=$(mktemp -d "${TMPDIR:-/tmp}/asm-web-service-registry.XXXXXX")
  say "fetching Debian's docker-registry program into $fetched_binary (apt-get download; nothing is installed)"
  if (cd "$folder" && apt-get download -qq docker-registry >/dev/null 2>&1) &&
     dpkg-deb -x "$folder"/docker-registry_*.deb "$folder/root"; then
    mkdir -p "${fetched_binary%/*}"
    mv "$folder/root/usr/bin/docker-registry" "$fetched_binary"
  fi
  rm -rf "$folder"
  [ -x "$fetched_binary" ]
}

# find_registry, else fetch_registry, else one line on what to install.
registry_to_run() {
  find_registry && return
  fetch_registry && find_registry && return
  say "no registry program or image found: install Debian's docker-registry (its service is not needed) or" \
      "distribution's registry binary, or docker pull registry:2"
  return 1
}

# write_config LISTEN_ADDRESS STORAGE: the minimal config: storage on disk, plain HTTP, no auth, the identity header.
write_config() {
  mkdir -p "$state_dir/storage"
  cat >"$config" <<EOF
# Written by scripts/registry.sh: storage on disk, plain HTTP on loopback, no auth.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $2
http:
  addr: $1
  headers:
    $identity_header: ["$state_dir"]
EOF
}

case "${1:-start}" in
  prepare)
    registry_to_run
    exit 0 ;;
  stop)
    if started=$(started_by_us); then
      case $started in
        container:*) docker rm -f "${started#container:}" >/dev/null ;;
        *) kill "$started"; timeout 10 tail --pid="$started" -f /dev/null || true ;;
      esac
      say "stopped the registry on $address ($started)"
    fi
    rm -f "$pid_file"
    exit 0 ;;
  start) ;;
  *) say "usage: registry.sh [start|stop|prepare]"; exit 2 ;;
esac

read -r answer owner <<<"$(who_answers)"
case $answer in
  ours) [ "$owner" = "$state_dir" ] || say "using the project's registry on $address that another run started ($owner)"
        echo "$address"; exit 0 ;;
  other) say "$address answers (HTTP $owner) but is not this project's registry; it is left alone. Push there with" \
             "REGISTRY=$address, or run the project's on another port: LOCAL_REGISTRY_PORT=5001"
         exit 1 ;;
esac

found=$(registry_to_run) || exit 1
read -r kind what <<<"$found"
if ! started_by_us >/dev/null; then
  case $kind in
    program)
      write_config "$address" "$state_dir/storage"
      start_daemon "$log_file" "$what" serve "$config"
      echo $! >"$pid_file" ;;
    image)
      # The user's own id, so the stored files stay the user's; the port is published on loopback only.
      write_config ":5000" /var/lib/registry
      container=$(docker run --detach --rm --name "asm-web-service-registry-$port" \
        --user "$(id -u):$(id -g)" --publish "$address:5000" \
        --volume "$state_dir/storage:/var/lib/registry" --volume "$config:/etc/docker/registry/config.yml:ro" \
        --entrypoint registry "$what" serve /etc/docker/registry/config.yml)
      echo "container:$container" >"$pid_file" ;;
  esac
  say "started $what on $address (state: $state_dir)"
fi
for _ in $(seq 1 100); do
  [ "$(who_answers)" = "ours $state_dir" ] && { echo "$address"; exit 0; }
  sleep 0.1
done
say "the registry did not answer on $address within 10 s; see $log_file (or docker logs asm-web-service-registry-$port)"
exit 1
