#!/usr/bin/env bash
# `npm run cluster:up`: a real single-node Kubernetes cluster on this machine, run as plain processes (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy) on Debian's containerd, runc and
# CNI plugins, with a locally built pause image in the local registry (127.0.0.1:5000). The way upstream's
# hack/local-up-cluster.sh runs one; nothing here can be pulled, so build.sh builds the binaries from source once.
#
# The whole cluster lives in namespaces of its own, so everything it creates can be removed as one:
# - a network namespace, joined to the host by one veth pair ($HOST_VETH, $CLUSTER_LINK_CIDR): the pods' bridge,
#   every iptables rule of kube-proxy, the kubelet and CNI, every route and per-namespace sysctl are in there.
#   On the host there are only the veth and, on it, routes to the pod and Service ranges (they go with the veth);
# - a mount namespace: containers' root filesystems, pod volumes and network namespace pins are mounted there only,
#   and the kubelet reads its kernel tunables (kernel.panic_on_oops and the like, which it would otherwise write
#   host-wide) from files bind-mounted over those /proc/sys entries;
# - a cgroup subtree ($CLUSTER_CGROUP in every hierarchy): every daemon, container shim and container runs in it.
# The node pulls 127.0.0.1:5000/... like the host does: inside the namespace a forwarder listens on 127.0.0.1:5000
# and reaches the host's registry through a unix socket (no port is opened on the veth).
# Settings: CLUSTER_POD_CIDR, CLUSTER_SERVICE_CIDR, CLUSTER_LINK_CIDR (defaults in lib.sh), checked against the
# host's routes. Idempotent: a running cluster of the same scripts and settings is kept. A failed start removes
# what it created. `npm run cluster:down` undoes all of it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"
. "$repo/scripts/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root: the cluster needs namespaces, cgroups, mounts and containerd"
# One at a time; another cluster:up may be building the binaries (about 12 min), so wait up to 30 min.
lock_cluster 1800

# ---- The address settings: valid, apart from each other, and apart from every route of the host.
for setting in CLUSTER_LINK_CIDR CLUSTER_POD_CIDR CLUSTER_SERVICE_CIDR; do
  cidr_valid "${!setting}" || die "$setting=${!setting} is not an IPv4 network in CIDR form, its first address before the slash (e.g. 10.96.0.0/16)"
done
[ "${CLUSTER_LINK_CIDR#*/}" -le 30 ] || die "CLUSTER_LINK_CIDR=$CLUSTER_LINK_CIDR is too small: the veth pair needs two addresses (/30 or larger)"
[ "${CLUSTER_POD_CIDR#*/}" -le 28 ] || die "CLUSTER_POD_CIDR=$CLUSTER_POD_CIDR is too small (/28 or larger)"
[ "${CLUSTER_SERVICE_CIDR#*/}" -ge 12 ] || die "CLUSTER_SERVICE_CIDR=$CLUSTER_SERVICE_CIDR is too large: the apiserver takes /12 or smaller"
for pair in CLUSTER_LINK_CIDR:CLUSTER_POD_CIDR CLUSTER_LINK_CIDR:CLUSTER_SERVICE_CIDR CLUSTER_POD_CIDR:CLUSTER_SERVICE_CIDR; do
  a="${pair%:*}" b="${pair#*:}"
  ! cidrs_overlap "${!a}" "${!b}" || die "$a=${!a} and $b=${!b} overlap: set one of them to another range"
done

# host_routes: the destination of every IPv4 route of the host, in all routing tables (default routes aside, and
# those on our own veth, which an earlier cluster:up made). Checked before anything of an earlier cluster is removed,
# so a bad setting leaves a running cluster alone.
host_routes() {
  ip -4 -o route show table all | grep -v " dev $HOST_VETH " | awk '
    $1 ~ /^(unicast|local|broadcast|multicast|throw|unreachable|prohibit|blackhole|nat|anycast)$/ { if ($2 != "default") print $2; next }
    $1 != "default" { print $1 }'
}
for setting in CLUSTER_LINK_CIDR CLUSTER_POD_CIDR CLUSTER_SERVICE_CIDR; do
  for route in $(host_routes | sort -u); do
    cidrs_overlap "${!setting}" "$route" || continue
    die "$setting=${!setting} overlaps the host's route to $route ($(ip -4 -o route show table all to "$route" | head -n 1));" \
      "set $setting to a range this machine does not use"
  done
done

# A cluster started by these scripts with these settings is kept; any other state of ours is removed first.
definition_hash="$( (cat "$here"/*.sh "$here/pause/pause.c"; echo "$CLUSTER_LINK_CIDR $CLUSTER_POD_CIDR $CLUSTER_SERVICE_CIDR") |
  sha256sum | cut -d' ' -f1)"
all_running() {
  local name
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] || return 1; done
}
if all_running && [ "$(cat "$RUN_DIR/definition.sha256" 2>/dev/null)" = "$definition_hash" ] && [ -f "$CLUSTER_INFO" ]; then
  step "cluster already running: node $NODE_NAME; KUBECONFIG=$ADMIN_KUBECONFIG kubectl=$K8S_BIN/kubectl"
  exit 0
fi
if cluster_remnants_exist; then
  step "removing the cluster state left by an earlier cluster:up (other scripts or settings, or a stopped part)"
  ASM_K8S_LOCK_HELD=1 bash "$here/down.sh"
fi
started=$SECONDS

# ---- Packages: containerd, runc and the CNI plugins run the pods; gcc builds the pause binary; curl/openssl for
# the registry API and the certificates; iptables for kube-proxy; iproute2/util-linux for the namespaces; socat
# carries the node's registry traffic; unzip only for a missing Go toolchain.
ensure_packages containerd runc containernetworking-plugins iptables iproute2 util-linux openssl gcc libc6-dev curl \
  unzip ca-certificates socat

# ---- The binaries (cached by version; the first run builds them from source, about 12 min).
bash "$here/build.sh"
metrics_server_bin="$(bash "$here/metrics-server.sh")"

# From here on a failure removes everything created so far (down.sh knows each part by its fixed name).
on_exit() {
  local status=$?
  trap - EXIT INT TERM
  [ "$status" -eq 0 ] && return 0
  show_logs
  step "cluster:up failed (exit $status): removing what it created"
  ASM_K8S_LOCK_HELD=1 bash "$here/down.sh" || true
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$STATE_DIR" "$RUN_DIR/pids" "$LOG_DIR" "$STATE_DIR/config" "$STATE_DIR/cni/net.d"
config="$STATE_DIR/config"

# fail MESSAGE: stops; the exit trap prints the tail of every component's log and removes the cluster.
fail() { die "$* (logs: $LOG_DIR)"; }

# start_component [--host] NAME BINARY ARGS...: starts BINARY in its own session (it outlives this script and
# the test runner's process group), in the cluster's cgroup subtree and namespaces (--host: the subtree only),
# logging to $LOG_DIR/NAME.log, its pid in $RUN_DIR/pids/NAME.pid.
start_component() {
  local where=()
  if [ "$1" = --host ]; then where=(--host); shift; fi
  local name="$1"; shift
  step "starting $name"
  # start_daemon closes this script's lock descriptor in the component, which would otherwise hold the lock forever.
  start_daemon "$LOG_DIR/$name.log" bash "$here/enter.sh" "${where[@]}" "$@"
  local pid=$! executable
  executable="$(readlink -f "$1")"
  echo "$pid" >"$RUN_DIR/pids/$name.pid"
  echo "$executable" >"$RUN_DIR/pids/$name.exe"
  # enter.sh replaces itself with the daemon within moments; until then pid_of would not know the pid as NAME.
  for _ in $(seq 1 100); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$executable" ] && [ -d "/proc/$pid" ] || break
    sleep 0.05
  done
}

# wait_until NAME SECONDS COMMAND...: polls COMMAND until it succeeds; fails early if component NAME exited.
wait_until() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ -n "$(pid_of "$name")" ] || fail "$name exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name not ready after ${timeout}s"
    sleep 1
  done
}

# ---- The namespaces, pinned by bind mounts under a private mount of our own (a pin must not sit on a shared
# mount), so they outlive this script and cluster:down can end them by unmounting the pins.
step "network and mount namespaces, veth pair $HOST_VETH ($HOST_VETH_IP) <-> $NODE_VETH ($NODE_IP)"
mkdir -p "$NAMESPACE_DIR"
mount --bind "$NAMESPACE_DIR" "$NAMESPACE_DIR"
mount --make-private "$NAMESPACE_DIR"
touch "$NETNS_PIN" "$MNTNS_PIN"
unshare --net="$NETNS_PIN" --mount="$MNTNS_PIN" --propagation slave true
in_cluster ip link set lo up
# Per-namespace: the node routes between the veth and the pods' bridge.
in_cluster sysctl -q -w net.ipv4.ip_forward=1
ip link add "$HOST_VETH" type veth peer name "$NODE_VETH"
ip link set "$NODE_VETH" netns "$NETNS_PIN"
link_prefix="${CLUSTER_LINK_CIDR#*/}"
ip addr add "$HOST_VETH_IP/$link_prefix" dev "$HOST_VETH"
ip link set "$HOST_VETH" up
in_cluster ip addr add "$NODE_IP/$link_prefix" dev "$NODE_VETH"
in_cluster ip link set "$NODE_VETH" up
# The host reaches pods and Services (kube-proxy translates them inside) through the veth; these routes live on
# the veth and go with it.
ip route add "$CLUSTER_POD_CIDR" via "$NODE_IP" dev "$HOST_VETH"
ip route add "$CLUSTER_SERVICE_CIDR" via "$NODE_IP" dev "$HOST_VETH"

# The kubelet insists on six host-wide kernel tunables (panic_on_oops=1, panic=10, overcommit_memory=1, ...): it
# writes them, or with protectKernelDefaults refuses to start when they differ. Inside the cluster's mount
# namespace it reads them from these files, so it starts and the host keeps its own values.
mkdir -p "$STATE_DIR/kernel-tunables"
for tunable in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  file="$STATE_DIR/kernel-tunables/${tunable%%=*}"
  mkdir -p "$(dirname "$file")"
  echo "${tunable#*=}" >"$file"
  in_cluster mount --bind "$file" "/proc/sys/${tunable%%=*}"
  in_cluster mount -o remount,bind,ro "/proc/sys/${tunable%%=*}"
done

# The kubelet, the CNI library and containerd also write to fixed paths, whatever their settings: the device
# plugins' folder (which the kubelet empties at start, sockets of another kubelet included), the containers' log
# links, the CNI result cache and containerd's shim sockets. Inside the cluster's mount namespace our own folders are
# mounted there, so the host's (another kubelet's or containerd's) stay untouched. Where such a path is missing on
# the host, its empty mount point (and any missing parent) is made and noted, and cluster:down removes it.
: >"$STATE_DIR/dirs-created"
for fixed_path in /var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd/s; do
  missing=()
  dir="$fixed_path"
  while [ ! -e "$dir" ]; do missing=("$dir" "${missing[@]}"); dir="$(dirname "$dir")"; done
  for dir in "${missing[@]}"; do
    mkdir "$dir"
    echo "$dir" >>"$STATE_DIR/dirs-created"
  done
  mkdir -p "$STATE_DIR/fixed-paths$fixed_path"
  in_cluster mount --bind "$STATE_DIR/fixed-paths$fixed_path" "$fixed_path"
done

# ---- The cgroup subtree, in every hierarchy: components/ for the daemons; the kubelet adds kubepods/.
for hierarchy in $(cgroup_hierarchies); do
  for dir in "$hierarchy/$CLUSTER_CGROUP" "$hierarchy/$CLUSTER_CGROUP/components"; do
    mkdir "$dir"
    # cgroup v1 cpuset: a new cgroup has no CPUs or memory nodes until given its parent's.
    for file in cpuset.cpus cpuset.mems; do
      # (cgroup files report size 0: read them.)
      if [ -f "$dir/$file" ] && [ -z "$(cat "$dir/$file")" ] && [ -n "$(cat "$(dirname "$dir")/$file" 2>/dev/null)" ]; then
        cat "$(dirname "$dir")/$file" >"$dir/$file"
      fi
    done
  done
  # cgroup v2: the subtree's children (components, kubepods) get every controller the parent offers.
  if [ -n "$(cat "$hierarchy/$CLUSTER_CGROUP/cgroup.controllers" 2>/dev/null)" ]; then
    for controller in $(cat "$hierarchy/$CLUSTER_CGROUP/cgroup.controllers"); do
      echo "+$controller" >"$hierarchy/$CLUSTER_CGROUP/cgroup.subtree_control"
    done
  fi
done

# ---- Registry. The registry is the project's (scripts/registry.sh, shared with build:image) on the host's
# loopback. The node reaches it at the same address inside its namespace: a forwarder there listens on
# $REGISTRY and connects to a unix socket that the host-side forwarder carries to the registry.
if [ -f "$repo/scripts/registry.sh" ]; then
  bash "$repo/scripts/registry.sh" >/dev/null
fi
curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "no registry on $REGISTRY (scripts/registry.sh starts it)"
bash "$here/pause-image.sh" "$REGISTRY" "${PAUSE_IMAGE#"$REGISTRY"/}"
registry_socket="$RUN_DIR/registry.sock"
start_component --host registry-host-side "$(command -v socat)" \
  "UNIX-LISTEN:$registry_socket,fork,mode=600" "TCP:$REGISTRY"
start_component registry-node-side "$(command -v socat)" \
  "TCP-LISTEN:${REGISTRY##*:},bind=${REGISTRY%:*},fork,reuseaddr" "UNIX-CONNECT:$registry_socket"
wait_until registry-node-side 30 in_cluster curl -fsS "http://$REGISTRY/v2/"

# ---- Certificates and kubeconfigs.
bash "$here/pki.sh"

# ---- The pods' network: a bridge inside the namespace; the pod range is all on this one node.
cat >"$STATE_DIR/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$CLUSTER_POD_CIDR", "gateway": "$BRIDGE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$STATE_DIR/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON

# ---- containerd: a separate instance (own socket, root and state) beside Docker's. The kubelet gives each pod
# its cgroup parent under $CLUSTER_CGROUP/kubepods; containerd itself and its shims stay in components/.
cat >"$config/containerd.toml" <<TOML
version = 2
root = "$STATE_DIR/containerd"
state = "$RUN_DIR/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCKET"
[ttrpc]
  address = "$CONTAINERD_SOCKET.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE_DIR/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This VM lacks CAP_SYS_RESOURCE: without this runc cannot lower the sandbox's oom_score_adj and fails.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # The pods' network namespace pins go under containerd's state folder, not the host's /run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # PID 1 is not systemd here.
        SystemdCgroup = false
        # runc's state beside ours, not in /run/containerd/runc that other containerd instances share.
        Root = "$RUN_DIR/runc"
TOML
mkdir -p "$(dirname "$CONTAINERD_SOCKET")"
start_component containerd "$(command -v containerd)" --config "$config/containerd.toml"
wait_until containerd 60 ctr --address "$CONTAINERD_SOCKET" version

# ---- etcd (plain HTTP on loopback only, as in local-up-cluster.sh).
start_component etcd "$K8S_BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
  --quota-backend-bytes 1073741824 --log-level warn
wait_until etcd 60 in_cluster sh -c "curl -fsS http://127.0.0.1:$ETCD_PORT/health | grep -q '\"health\":\"true\"'"

# ---- kube-apiserver on the node's address, where kubectl on the host reaches it over the veth.
pki="$PKI_DIR"
start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address "$NODE_IP" --secure-port "$APISERVER_PORT" --advertise-address "$NODE_IP" \
  --tls-cert-file "$pki/kube-apiserver.crt" --tls-private-key-file "$pki/kube-apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --kubelet-client-certificate "$pki/kube-apiserver-kubelet-client.crt" \
  --kubelet-client-key "$pki/kube-apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/service-account.pub" \
  --service-account-signing-key-file "$pki/service-account.key" \
  --service-cluster-ip-range "$CLUSTER_SERVICE_CIDR" \
  --authorization-mode Node,RBAC --allow-privileged=true --profiling=false \
  --requestheader-client-ca-file "$pki/ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
  --enable-aggregator-routing=true
wait_until kube-apiserver 180 curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://$NODE_IP:$APISERVER_PORT/readyz"
step "apiserver ready: $(curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://$NODE_IP:$APISERVER_PORT/version" | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p')"

# ---- controller-manager and scheduler, single instances (no leader election).
start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig "$pki/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig "$pki/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig "$pki/kube-controller-manager.kubeconfig" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" \
  --tls-cert-file "$pki/controller-manager-serving.crt" --tls-private-key-file "$pki/controller-manager-serving.key" \
  --service-account-private-key-file "$pki/service-account.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=true \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key"

cat >"$config/kube-scheduler.yaml" <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $pki/kube-scheduler.kubeconfig
leaderElection:
  leaderElect: false
YAML
start_component kube-scheduler "$K8S_BIN/kube-scheduler" --config "$config/kube-scheduler.yaml" \
  --authentication-kubeconfig "$pki/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig "$pki/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" \
  --tls-cert-file "$pki/scheduler-serving.crt" --tls-private-key-file "$pki/scheduler-serving.key"
wait_until kube-controller-manager 120 in_cluster curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
wait_until kube-scheduler 120 in_cluster curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:$SCHEDULER_PORT/healthz"

# ---- kubelet. Each setting below that differs from a production node says why.
cat >"$config/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Listen on the node's address only; healthz on the namespace's loopback.
address: $NODE_IP
port: $KUBELET_PORT
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
readOnlyPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $pki/ca.crt }
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
# PID 1 is not systemd, and this VM's cgroup hierarchy is v1 (deprecated, refused by default since 1.35).
cgroupDriver: cgroupfs
failCgroupV1: false
# The pods' cgroups go under the cluster's own subtree, not the shared /kubepods.
cgroupRoot: /$CLUSTER_CGROUP
# Never write the host-wide kernel tunables: fail instead if they are not as the kubelet wants (up.sh shows it
# the values it wants inside the cluster's mount namespace).
protectKernelDefaults: true
failSwapOn: false
podLogsDir: $STATE_DIR/pod-logs
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
registerNode: true
YAML
start_component kubelet "$K8S_BIN/kubelet" --config "$config/kubelet.yaml" \
  --kubeconfig "$pki/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --root-dir "$STATE_DIR/kubelet" --cert-dir "$STATE_DIR/kubelet/pki" --v 1
wait_until kubelet 120 in_cluster curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
wait_until kubelet 120 kubectl_admin get node "$NODE_NAME"

# ---- kube-proxy in iptables mode, its rules in the cluster's network namespace; it leaves the conntrack sysctls
# as they are (nf_conntrack_max is host-wide).
cat >"$config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $pki/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $CLUSTER_POD_CIDR
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
nodePortAddresses: ["$NODE_IP/32"]
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
YAML
start_component kube-proxy "$K8S_BIN/kube-proxy" --config "$config/kube-proxy.yaml"
wait_until kube-proxy 120 in_cluster curl -fsS "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"

# ---- metrics-server: the resource metrics API (kubectl top, the HorizontalPodAutoscaler), run on the node like
# the other components, with a certificate of its own for its kubeconfig, the kubelets and its clients. The
# apiserver reaches it through the APIService, a Service without selector and an EndpointSlice at the node's
# address (--enable-aggregator-routing: straight to that endpoint). RBAC as upstream's manifests grant it.
kubectl_admin apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: system:metrics-server }
rules:
- apiGroups: [""]
  resources: [nodes/metrics]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: system:metrics-server }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:metrics-server }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: system:metrics-server }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: metrics-server:system:auth-delegator }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: system:metrics-server }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: metrics-server-auth-reader, namespace: kube-system }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: system:metrics-server }]
---
apiVersion: v1
kind: Service
metadata: { name: metrics-server, namespace: kube-system }
spec:
  ports: [{ name: https, port: 443, protocol: TCP, targetPort: $METRICS_SERVER_PORT }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: metrics-server-node
  namespace: kube-system
  labels: { kubernetes.io/service-name: metrics-server }
addressType: IPv4
ports: [{ name: https, port: $METRICS_SERVER_PORT, protocol: TCP }]
endpoints: [{ addresses: ["$NODE_IP"], conditions: { ready: true } }]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.metrics.k8s.io }
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: { name: metrics-server, namespace: kube-system, port: 443 }
  caBundle: $(base64 -w0 "$pki/ca.crt")
YAML
start_component metrics-server "$metrics_server_bin" \
  --kubeconfig "$pki/metrics-server.kubeconfig" \
  --authentication-kubeconfig "$pki/metrics-server.kubeconfig" \
  --authorization-kubeconfig "$pki/metrics-server.kubeconfig" \
  --bind-address "$NODE_IP" --secure-port "$METRICS_SERVER_PORT" \
  --tls-cert-file "$pki/metrics-server.crt" --tls-private-key-file "$pki/metrics-server.key" \
  --requestheader-client-ca-file "$pki/ca.crt" \
  --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
  --kubelet-use-node-status-port --metric-resolution 10s --kubelet-request-timeout 5s

metrics_api_available() {
  [ "$(kubectl_admin get apiservice v1beta1.metrics.k8s.io \
    -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" = True ]
}

# ---- Real readiness: the node reports Ready (runtime and CNI network ready).
deadline=$((SECONDS + 180))
until [ "$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] || fail "$name exited"; done
  [ "$SECONDS" -lt "$deadline" ] || { kubectl_admin describe node "$NODE_NAME" >&2 || true; fail "node $NODE_NAME not Ready after 180s"; }
  sleep 2
done

# ---- The metrics API answers: the APIService is Available once the apiserver reaches metrics-server and its
# discovery works (its first scrape of the kubelet follows within --metric-resolution).
wait_until metrics-server 120 metrics_api_available

echo "$definition_hash" >"$RUN_DIR/definition.sha256"
platform="$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.operatingSystem}/{.status.nodeInfo.architecture}')"
cat >"$CLUSTER_INFO" <<JSON
{
  "kubernetesVersion": "$KUBERNETES_VERSION",
  "kubectl": "$K8S_BIN/kubectl",
  "kubeconfig": "$ADMIN_KUBECONFIG",
  "node": "$NODE_NAME",
  "nodeIP": "$NODE_IP",
  "podCIDR": "$CLUSTER_POD_CIDR",
  "serviceCIDR": "$CLUSTER_SERVICE_CIDR",
  "netns": "$NETNS_PIN",
  "platform": "$platform",
  "registry": "$REGISTRY",
  "logDir": "$LOG_DIR"
}
JSON
step "cluster ready in $((SECONDS - started)) s: node $NODE_NAME ($platform) Ready; KUBECONFIG=$ADMIN_KUBECONFIG kubectl=$K8S_BIN/kubectl"
