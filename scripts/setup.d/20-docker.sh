#!/usr/bin/env bash
# The Docker side of the set-up, adding only what is missing: an engine (the one that answers is used as it is;
# Debian's docker.io only where no Docker is installed), a client with BuildKit, compose, emulation of the other
# platform for `docker run --platform`, the Dockerfile's pinned Debian base image (made locally with debootstrap,
# since no registry can be reached here), skopeo, and a registry program for scripts/registry.sh.
# It removes, replaces, disables and reconfigures nothing: where only a replacement would do, it stops and says so.
# Idempotent: every step checks first, so a second run takes a fraction of a second.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/lib.sh"

# Debian's own client (BuildKit built in) comes before /usr/local/bin/docker, a client without buildx.
export PATH="/usr/bin:/usr/sbin:$PATH"
# The Dockerfile's first line names the same tag; on a user's machine Docker simply pulls it.
base_image=$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$here/../Dockerfile")
base_suite=bookworm
debian_mirror=http://deb.debian.org/debian

# Installed packages from Docker's own repository (Docker CE, Moby): Debian's docker.io conflicts with them, and its
# containerd and runc with containerd.io, so apt would remove them to install Debian's.
docker_ce_packages() {
  { dpkg-query -W -f='${Package} ${Status}\n' docker-ce docker-ce-cli containerd.io moby-engine moby-cli moby-containerd \
    moby-runc 2>/dev/null || true; } | awk '/ install ok installed$/ { printf "%s%s", sep, $1; sep = " " }'
}

ensure_packages skopeo debootstrap qemu-user-static curl ca-certificates

# --- the engine ------------------------------------------------------------------------------------------------
docker_answers() { docker info >/dev/null 2>&1; }
# bash's `command -v` names a file it cannot run when there is no better one.
have_engine_program() { local found; found=$(command -v dockerd) && [ -x "$found" ]; }
if ! docker_answers; then
  if ! have_engine_program; then
    theirs=$(docker_ce_packages)
    if [ -n "$theirs" ]; then
      say "Docker CE's $theirs is installed but no engine: Debian's docker.io would replace it, so install docker-ce" \
          "(Docker's repository) and run again"
      exit 1
    fi
    ensure_packages docker.io
    docker_answers && say "the Docker engine answers (started by its package)"
  fi
fi
if ! docker_answers; then
  if [ "$(id -u)" -ne 0 ]; then
    if grep -qi 'permission denied' <<<"$(docker info 2>&1)"; then
      say "$(id -un) may not use the Docker engine: add the user to the docker group (sudo usermod -aG docker" \
          "$(id -un), then log in again) and run again"
    else
      say "the Docker engine does not answer; start it (e.g. sudo systemctl start docker) and run again"
    fi
    exit 1
  fi
  if [ -d /run/systemd/system ] && systemctl cat docker.service >/dev/null 2>&1; then
    # The installed service, started as it is configured (not enabled: that stays the user's choice).
    say "starting the docker service (systemctl start docker)"
    systemctl start docker.service
  elif ! { [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; then
    # No service manager: a dockerd that is still starting owns the pid file; else start one.
    say "starting the Docker engine (log: /var/log/dockerd.log)"
    start_daemon /var/log/dockerd.log dockerd
  fi
  for _ in $(seq 1 60); do docker_answers && break; sleep 0.5; done
  docker_answers || { say "the Docker engine did not come up; see /var/log/dockerd.log or journalctl -u docker"; exit 1; }
fi

# --- a client with BuildKit, and compose -----------------------------------------------------------------------
# `npm run build:image` uses a client with buildx, else Debian's /usr/bin/docker (BuildKit built in).
if ! docker buildx version >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'ok installed'; then
  say "this Docker client has no BuildKit (buildx): install docker-buildx-plugin (Docker CE) or Docker's buildx, and run again"
  exit 1
fi
# The compose test uses `docker compose` (v2) when it works, else Debian's docker-compose (v1), which needs no
# Debian engine (docker.io is only its recommendation).
if ! docker compose version >/dev/null 2>&1; then
  ensure_packages docker-compose
fi

# --- emulation of the other platform ---------------------------------------------------------------------------
# The image tests run both platforms' images: on x86_64 the arm64 one under qemu-aarch64, on arm64 the reverse.
# The F flag opens the interpreter once at registration, so it also works inside containers. Registering adds an
# entry until the next boot; an entry the user switched off stays off.
case $(uname -m) in
  x86_64) foreign=aarch64 ;;
  aarch64) foreign=x86_64 ;;
  *) say "no emulation set up for $(uname -m): the image tests expect an x86_64 or arm64 host"; foreign= ;;
esac
if [ -n "$foreign" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$foreign" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "qemu-$foreign is not registered; as root: cat /usr/lib/binfmt.d/qemu-$foreign.conf > /proc/sys/fs/binfmt_misc/register"
    exit 1
  fi
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  say "registering qemu-$foreign with binfmt_misc"
  cat "/usr/lib/binfmt.d/qemu-$foreign.conf" > /proc/sys/fs/binfmt_misc/register
fi
if [ -n "$foreign" ] && ! grep -q '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$foreign"; then
  say "binfmt_misc's qemu-$foreign entry is switched off, and the image tests need it: switch it on" \
      "(echo 1 > /proc/sys/fs/binfmt_misc/qemu-$foreign) and run again"
  exit 1
fi

# --- the Dockerfile's base image -------------------------------------------------------------------------------
if ! docker image inspect "$base_image" >/dev/null 2>&1; then
  # Prefer the real image when a registry happens to be reachable; here none is, so build it from Debian's archive.
  if ! timeout 60 docker pull -q "$base_image" >/dev/null 2>&1; then
    say "making $base_image with debootstrap (about 30 s)"
    rootfs=$(mktemp -d /tmp/asm-web-service-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase "$base_suite" "$rootfs" "$debian_mirror" >/tmp/asm-web-service-debootstrap.log 2>&1 \
      || { say "debootstrap failed; see /tmp/asm-web-service-debootstrap.log"; exit 1; }
    # Keep the image lean and give it what the official image has: PATH and a default command.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$base_image" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
  fi
fi

# --- the registry program --------------------------------------------------------------------------------------
# scripts/registry.sh runs whatever registry program or image it finds, as the calling user; when there is none,
# it unpacks Debian's docker-registry program into the user's cache. No package, so no service appears.
bash "$here/registry.sh" prepare >/dev/null
