# Shared shell helpers for the set-up scripts. Source it; it defines functions only.

# say MESSAGE...: one progress line on stderr, prefixed so it stands out in long logs.
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# ensure_packages PKG...: installs the Debian packages that are missing, never removing one to make room;
# elsewhere says what to install.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: install these (or your distribution's equivalents) and run again: ${missing[*]}"
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "run as root (or: sudo apt-get install -y ${missing[*]})"
    return 1
  fi
  say "installing ${missing[*]}"
  # Refresh the package lists at most once an hour; a fresh machine has none. (Where apt keeps them: apt-config.)
  local lists=/var/lib/apt/lists/
  eval "$(apt-config shell lists Dir::State::lists/d)"
  if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
  fi
  # --no-remove: apt never removes a package to make room (say, Docker CE's for Debian's docker.io); it stops.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null; then
    local removed
    removed=$(apt-get install -s -qq --no-install-recommends "${missing[@]}" 2>/dev/null | awk '/^Remv/ { printf " %s", $2 }')
    if [ -n "$removed" ]; then
      say "installing ${missing[*]} would remove${removed}, so the set-up stops: install them yourself if you mean to"
    else
      say "apt-get could not install ${missing[*]} (its messages are above)"
    fi
    return 1
  fi
}

# start_daemon LOG COMMAND...: starts COMMAND in its own session, in the background, logging to LOG; $! is its
# pid. It outlives its caller, so it must keep no descriptor the caller was handed: a lock held on one (flock
# stays held while any copy is open) or a test runner's pipe would stay held for as long as the daemon runs.
start_daemon() {
  local log="$1"; shift
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
}
