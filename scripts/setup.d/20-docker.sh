#!/usr/bin/env bash
# The Docker side of the set-up: Debian's engine (started when it does not answer), emulation of the other
# platform for `docker run --platform linux/arm64` (linux/amd64 on an arm64 host), the Dockerfile's pinned Debian
# base image (made locally with debootstrap, since no registry can be reached here), and the registry, skopeo and
# docker-compose the image tests use.
# Idempotent: every step checks first, so a second run takes a fraction of a second.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# Debian's own client (BuildKit built in) comes before /usr/local/bin/docker, a client without buildx.
export PATH="/usr/bin:/usr/sbin:$PATH"
# The Dockerfile's first line names the same tag; on a user's machine Docker simply pulls it.
base_image=$(sed -n 's/^ARG DEBIAN_IMAGE=//p' "$(dirname "$0")/../../Dockerfile")
base_suite=bookworm
debian_mirror=http://deb.debian.org/debian

ensure_packages docker.io docker-compose docker-registry skopeo debootstrap qemu-user-static curl ca-certificates

# Installing docker-registry may start Debian's packaged service: port 5000 on all interfaces with htpasswd auth
# and no users, which would block scripts/registry.sh's open loopback registry. Stop it if it runs.
if [ "$(id -u)" -eq 0 ]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    say "stopping Debian's packaged docker-registry service (scripts/registry.sh runs its own on 127.0.0.1:5000)"
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  elif [ -s /var/run/docker-registry.pid ] && kill -0 "$(cat /var/run/docker-registry.pid)" 2>/dev/null; then
    say "stopping Debian's packaged docker-registry service (scripts/registry.sh runs its own on 127.0.0.1:5000)"
    /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
  fi
fi

# --- the engine ------------------------------------------------------------------------------------------------
docker_answers() { docker info >/dev/null 2>&1; }
if ! docker_answers; then
  if [ "$(id -u)" -ne 0 ]; then
    say "the Docker engine does not answer; start it (as root: dockerd &) and run again"
    exit 1
  fi
  # A dockerd that is still starting owns the pid file: wait for it instead of starting a second one.
  if ! { [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; }; then
    say "starting the Docker engine (log: /var/log/dockerd.log)"
    start_daemon /var/log/dockerd.log dockerd
  fi
  for _ in $(seq 1 60); do docker_answers && break; sleep 0.5; done
  docker_answers || { say "the Docker engine did not come up; see /var/log/dockerd.log"; exit 1; }
fi

# --- loopback traffic untracked --------------------------------------------------------------------------------
# The engine's NAT rules load connection tracking, and from then on every loopback connection of the tests and
# benchmarks gets an entry (TIME_WAIT ones live 120 s): the table reached 140,000 entries here (of 262,144, after
# which new connections are dropped), and Docker walks the whole table whenever a container leaves a network,
# which made `docker stop` take 0.6 s more. 127/8-to-127/8 traffic needs no NAT (Docker's loopback ports go
# through docker-proxy; the cluster uses no localhost node ports), so leave it untracked.
if [ "$(id -u)" -eq 0 ]; then
  for rule in "PREROUTING -i lo" "OUTPUT -o lo"; do
    # shellcheck disable=SC2086 # the chain and interface words are meant to split
    iptables -t raw -C $rule -s 127.0.0.0/8 -d 127.0.0.0/8 -j CT --notrack 2>/dev/null \
      || iptables -t raw -I $rule -s 127.0.0.0/8 -d 127.0.0.0/8 -j CT --notrack
  done
fi

# --- emulation of the other platform ---------------------------------------------------------------------------
# The image tests run both platforms' images: on x86_64 the arm64 one under qemu-aarch64, on arm64 the reverse.
# The F flag opens the interpreter once at registration, so it also works inside containers.
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
  echo 1 > "/proc/sys/fs/binfmt_misc/qemu-$foreign"
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
