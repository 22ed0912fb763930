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

# ---- Layout of the running cluster. Every path, name and address here is the cluster's own, so down.sh can
# remove exactly these and nothing of Docker's or anyone else's.
NODE_NAME=asm-k8s-node
STATE_DIR=/var/lib/asm-k8s               # etcd data, containerd root, kubelet root, certificates, logs
RUN_DIR=/run/asm-k8s                     # sockets, pid files, containerd state
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
CONTAINERD_SOCKET="$RUN_DIR/containerd/containerd.sock"
CNI_NETWORK=asm-k8s
BRIDGE=asmk8s0
NODE_SUBNET=10.244.0.0/24                # the pods' bridge network on this one node
NODE_IP=10.244.0.1                       # the bridge's address: the node's InternalIP, where the kubelet listens
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
FIRST_SERVICE_IP=10.96.0.1
FORWARD_CHAIN=ASM-K8S-FORWARD
OUTPUT_CHAIN=ASM-K8S-OUTPUT
REGISTRY=127.0.0.1:5000
PAUSE_IMAGE="$REGISTRY/pause:3.10"
ETCD_PORT=2379 ETCD_PEER_PORT=2380 APISERVER_PORT=6443
CONTROLLER_MANAGER_PORT=10257 SCHEDULER_PORT=10259
KUBELET_PORT=10250 KUBELET_HEALTHZ_PORT=10248 KUBE_PROXY_HEALTHZ_PORT=10256 KUBE_PROXY_METRICS_PORT=10249
# Components in start order; down.sh stops them in reverse.
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)
ADMIN_KUBECONFIG="$PKI_DIR/admin.kubeconfig"
# The facts the e2e test reads (kubectl path, kubeconfig, node), written by up.sh when the cluster is ready.
CLUSTER_INFO="$STATE_DIR/cluster.json"
# Logs of the last cluster survive cluster:down here, for post-mortems.
LAST_LOGS_DIR="$CLUSTER_CACHE_ROOT/last-cluster-logs"

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
# The lock file stays: removing it while another script waits on it would let a third take a second lock.
CLUSTER_LOCK=/run/asm-k8s.lock
lock_cluster() {
  exec 9>"$CLUSTER_LOCK"
  flock -w "$1" 9 && return 0
  local holders="" proc
  for proc in /proc/[0-9]*; do
    [ "${proc#/proc/}" = "$$" ] && continue
    if ls -l "$proc/fd" 2>/dev/null | grep -qF -- "-> $CLUSTER_LOCK"; then
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
