# Shared helpers of scripts/cluster/*.sh. Source it after versions.sh; it defines functions only.

# step MESSAGE...: one timestamped progress line on stderr.
step() { printf '\033[1m[cluster %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die MESSAGE...: says what failed and stops.
die() { printf '\033[1;31m[cluster]\033[0m %s\n' "$*" >&2; exit 1; }

# go_version_ok GO: true when GO is at least the toolchain the modules declare (1.26).
go_version_ok() {
  local version
  version="$("$1" env GOVERSION 2>/dev/null)" || return 1
  version="${version#go}"
  [ "$(printf '%s\n' 1.26 "$version" | sort -V | head -n 1)" = 1.26 ]
}

# ensure_go_toolchain: prints the path of a Go toolchain new enough to build Kubernetes. Uses the machine's `go`
# when it is recent; otherwise fetches the official toolchain module (golang.org/toolchain, the same thing `go`
# itself downloads when switching toolchains) from the Go module proxy into the cache. Debian's golang is too old.
ensure_go_toolchain() {
  local candidate
  for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && go_version_ok "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  local arch
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) die "unsupported machine $(uname -m)" ;; esac
  local module_version="v0.0.1-$GO_TOOLCHAIN_VERSION.linux-$arch"
  local root="$CLUSTER_CACHE_ROOT/go-$GO_TOOLCHAIN_VERSION"
  local go_root="$root/golang.org/toolchain@$module_version"
  if [ ! -x "$go_root/bin/go" ]; then
    step "no Go >= 1.26 here: fetching $GO_TOOLCHAIN_VERSION from the Go module proxy"
    mkdir -p "$root"
    local proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%,*}"
    curl -fsSL --retry 3 -o "$root/toolchain.zip" "$proxy/golang.org/toolchain/@v/$module_version.zip" ||
      die "could not download the Go toolchain from $proxy"
    (cd "$root" && unzip -q -o toolchain.zip && rm toolchain.zip)
    # Module zips carry no file modes; `go` itself restores them the same way after a toolchain download.
    chmod +x "$go_root"/bin/* "$go_root"/pkg/tool/*/*
  fi
  echo "$go_root/bin/go"
}

# go_install_cached NAME PACKAGE VERSION [LDFLAGS]: builds PACKAGE@VERSION (a main package of a module on the Go
# module proxy) into $CLUSTER_CACHE_ROOT/NAME-VERSION/bin/ unless it is there, and prints the binary's path.
# GOBIN gets the binary only when the build succeeded, so an interrupted build leaves no half-written program.
go_install_cached() {
  local name="$1" package="$2" version="$3" ldflags="${4:-}"
  local cache="$CLUSTER_CACHE_ROOT/$name-$version"
  local binary="$cache/bin/${package##*/}"
  if [ ! -x "$binary" ]; then
    local go_bin
    go_bin="$(ensure_go_toolchain)"
    step "building $name $version with $("$go_bin" version | cut -d' ' -f3) into $cache"
    mkdir -p "$cache/gomod" "$cache/gocache"
    GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache" GOBIN="$cache/bin" \
      GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}" \
      nice "$go_bin" install -trimpath -ldflags "-s -w $ldflags" "$package@$version" >&2 ||
      die "could not build $name $version from the Go module proxy"
  fi
  echo "$binary"
}

# ---- Layout of the running cluster. Every path, name and address here is the cluster's own, so down.sh can
# remove exactly these and nothing of Docker's or anyone else's.
NODE_NAME=asm-k8s-node
STATE_DIR=/var/lib/asm-k8s               # etcd data, containerd root, kubelet root, certificates, logs
RUN_DIR=/run/asm-k8s                     # sockets, pid files, containerd state, the namespaces' pins
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
CONTAINERD_SOCKET="$RUN_DIR/containerd/containerd.sock"
# The whole cluster runs in a network namespace and a mount namespace of its own, pinned by these two files (bind
# mounts of /proc/PID/ns/*, under a private mount of $NAMESPACE_DIR); `nsenter --net=$NETNS_PIN` looks inside.
NAMESPACE_DIR="$RUN_DIR/ns"
NETNS_PIN="$NAMESPACE_DIR/net"
MNTNS_PIN="$NAMESPACE_DIR/mnt"
# One veth pair joins it to the host: HOST_VETH on the host, NODE_VETH inside the cluster's network namespace.
HOST_VETH=asmk8s-veth
NODE_VETH=asmk8s-node
# Its own cgroup subtree, in every cgroup hierarchy: daemons in $CLUSTER_CGROUP/components, pods under
# $CLUSTER_CGROUP/kubepods (the kubelet's cgroupRoot).
CLUSTER_CGROUP=asm-k8s
CNI_NETWORK=asm-k8s
BRIDGE=asmk8s0
# Address ranges (settings): the veth pair's link, the pods (all on this one node's bridge) and the Services.
# up.sh refuses ranges that overlap each other or a route of the host.
CLUSTER_LINK_CIDR="${CLUSTER_LINK_CIDR:-10.243.0.0/30}"
CLUSTER_POD_CIDR="${CLUSTER_POD_CIDR:-10.244.0.0/16}"
CLUSTER_SERVICE_CIDR="${CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
REGISTRY=127.0.0.1:5000
PAUSE_IMAGE="$REGISTRY/pause:3.10"
ETCD_PORT=2379 ETCD_PEER_PORT=2380 APISERVER_PORT=6443
CONTROLLER_MANAGER_PORT=10257 SCHEDULER_PORT=10259
KUBELET_PORT=10250 KUBELET_HEALTHZ_PORT=10248 KUBE_PROXY_HEALTHZ_PORT=10256 KUBE_PROXY_METRICS_PORT=10249
METRICS_SERVER_PORT=4443
# Daemons in start order; down.sh stops them in reverse. The registry forwarders carry the node's pulls of
# $REGISTRY to the host's registry through a unix socket (see up.sh).
COMPONENTS=(registry-host-side registry-node-side containerd etcd kube-apiserver kube-controller-manager kube-scheduler
  kubelet kube-proxy metrics-server)
ADMIN_KUBECONFIG="$PKI_DIR/admin.kubeconfig"
# The facts the e2e test reads (kubectl path, kubeconfig, node), written by up.sh when the cluster is ready.
CLUSTER_INFO="$STATE_DIR/cluster.json"
# Logs of the last cluster survive cluster:down here, for post-mortems.
LAST_LOGS_DIR="$CLUSTER_CACHE_ROOT/last-cluster-logs"

# ---- IPv4 arithmetic for the address settings.
# ip_to_int A.B.C.D / int_to_ip N: dotted quad <-> 32-bit integer.
ip_to_int() { local IFS=.; set -- $1; echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4)); }
int_to_ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }
# cidr_valid CIDR: true for A.B.C.D/LEN whose address is the network's first (no host bits set).
cidr_valid() {
  [[ "$1" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]] || return 1
  local part; for part in $(echo "${1%/*}" | tr . ' '); do [ "$part" -le 255 ] || return 1; done
  [ $(($(ip_to_int "${1%/*}") & ~(0xffffffff << (32 - ${1#*/}) & 0xffffffff))) -eq 0 ]
}
# cidr_host CIDR N: the network's Nth address.
cidr_host() { int_to_ip $(($(ip_to_int "${1%/*}") + $2)); }
# cidrs_overlap A B: true when the two ranges share an address (a bare address counts as /32).
cidrs_overlap() {
  local a="$1" b="$2"
  [[ "$a" == */* ]] || a="$a/32"
  [[ "$b" == */* ]] || b="$b/32"
  local len=$((${a#*/} < ${b#*/} ? ${a#*/} : ${b#*/}))
  local mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
  [ $(($(ip_to_int "${a%/*}") & mask)) -eq $(($(ip_to_int "${b%/*}") & mask)) ]
}
HOST_VETH_IP="$(cidr_host "$CLUSTER_LINK_CIDR" 1)"
NODE_IP="$(cidr_host "$CLUSTER_LINK_CIDR" 2)"       # the node's InternalIP: the apiserver and kubelet listen here
BRIDGE_IP="$(cidr_host "$CLUSTER_POD_CIDR" 1)"      # the pods' gateway
FIRST_SERVICE_IP="$(cidr_host "$CLUSTER_SERVICE_CIDR" 1)"

# cgroup_hierarchies: the mount point of every cgroup hierarchy (v1 controllers, named v1 ones, the v2 tree).
cgroup_hierarchies() {
  awk '{ for (i = 7; $i != "-"; i++) {} if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo
}

# cluster_remnants_exist: true when any part a cluster:up creates is there (state, the namespaces' pins, the host's
# veth, the cgroup subtree in any hierarchy).
cluster_remnants_exist() {
  [ -e "$STATE_DIR" ] || [ -e "$RUN_DIR" ] || ip link show "$HOST_VETH" >/dev/null 2>&1 && return 0
  local hierarchy
  for hierarchy in $(cgroup_hierarchies); do [ -d "$hierarchy/$CLUSTER_CGROUP" ] && return 0; done
  return 1
}

# in_cluster COMMAND...: runs COMMAND inside the cluster's network and mount namespaces.
in_cluster() { nsenter --net="$NETNS_PIN" --mount="$MNTNS_PIN" -- "$@"; }

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# pid_of NAME: the pid of a running component started by up.sh, or nothing.
pid_of() {
  local pid_file="$RUN_DIR/pids/$1.pid" pid
  [ -f "$pid_file" ] || return 0
  pid="$(cat "$pid_file")"
  # The pid must still be the process we started (its executable), not a recycled pid.
  if [ -d "/proc/$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(cat "$RUN_DIR/pids/$1.exe" 2>/dev/null)" ]; then
    echo "$pid"
  fi
}

# lock_cluster SECONDS: takes the lock that lets one cluster:up or cluster:down run at a time (a test run and a
# person may both start one), on descriptor 9, waiting at most SECONDS; then names the processes holding it.
# The lock is the build cache's folder (flock works on a folder too): it exists as long as cluster:up has ever run
# and stays by design, so locking leaves no file of its own behind on the host.
CLUSTER_LOCK="$CLUSTER_CACHE_ROOT"
lock_cluster() {
  mkdir -p "$CLUSTER_LOCK"
  exec 9<"$CLUSTER_LOCK"
  flock -w "$1" 9 && return 0
  local holders="" proc
  for proc in /proc/[0-9]*; do
    [ "${proc#/proc/}" = "$$" ] && continue
    if ls -l "$proc/fd" 2>/dev/null | awk -v lock="$CLUSTER_LOCK" '$NF == lock { found = 1 } END { exit !found }'; then
      holders+=" ${proc#/proc/} ($(tr '\0' ' ' <"$proc/cmdline" | cut -c1-80))"
    fi
  done
  die "another cluster:up or cluster:down has held $CLUSTER_LOCK for $1 s; held by:${holders:- nobody now}"
}

# show_logs: the tail of each component's log, for failures.
show_logs() {
  local name
  for name in "${COMPONENTS[@]}"; do
    [ -f "$LOG_DIR/$name.log" ] || continue
    printf '\n\033[1m----- last 25 lines of %s -----\033[0m\n' "$LOG_DIR/$name.log" >&2
    tail -n 25 "$LOG_DIR/$name.log" >&2
  done
}
