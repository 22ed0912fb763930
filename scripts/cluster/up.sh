#!/usr/bin/env bash
# `npm run cluster:up`: a real single-node Kubernetes cluster on this machine, run as plain processes (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy) on Debian's containerd, runc and
# CNI plugins, with a locally built pause image in the local registry (127.0.0.1:5000). The way upstream's
# hack/local-up-cluster.sh runs one; nothing here can be pulled, so build.sh builds the binaries from source once.
# Idempotent: components already running are kept; returns when the apiserver is ready and the node is Ready.
# `npm run cluster:down` undoes all of it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"
. "$repo/scripts/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root: the cluster needs containerd, mounts, a bridge and iptables"
# One at a time; another cluster:up may be building the binaries (about 12 min), so wait up to 30 min.
lock_cluster 1800
# A cluster started by other versions of these scripts is restarted, so that its flags match them.
definition_hash="$(cat "$here"/*.sh "$here/pause/pause.c" | sha256sum | cut -d' ' -f1)"
if [ -n "$(pid_of containerd)$(pid_of kube-apiserver)$(pid_of kubelet)" ] &&
  [ "$(cat "$RUN_DIR/definition.sha256" 2>/dev/null)" != "$definition_hash" ]; then
  step "scripts/cluster/ changed since the cluster started: restarting it"
  ASM_K8S_LOCK_HELD=1 bash "$here/down.sh"
fi
started=$SECONDS

# ---- Packages: containerd, runc and the CNI plugins run the pods; gcc builds the pause binary; curl/openssl for
# the registry API and the certificates; iptables for kube-proxy; iproute2/procps for the bridge and sysctls;
# unzip only for a missing Go toolchain.
ensure_packages containerd runc containernetworking-plugins iptables iproute2 procps openssl gcc libc6-dev curl unzip \
  ca-certificates

# ---- The binaries (cached by version; the first run builds them from source, about 12 min).
bash "$here/build.sh"

mkdir -p "$STATE_DIR" "$RUN_DIR/pids" "$LOG_DIR" "$STATE_DIR/config" "$STATE_DIR/cni/net.d"
config="$STATE_DIR/config"

# What the machine looked like before the first start, so down.sh can put it back: the sysctls the kubelet
# sets, folders the runtime creates outside ours, and network namespaces that are not ours.
if [ ! -f "$STATE_DIR/sysctl-before" ]; then
  for key in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys \
    kernel.keys.root_maxbytes net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables; do
    value="$(sysctl -n "$key" 2>/dev/null)" && echo "$key $value"
  done >"$STATE_DIR/sysctl-before.partial"
  for dir in /var/log/containers /var/log/pods /var/lib/cni /run/netns /run/containerd /var/lib/kubelet /etc/kubernetes; do
    [ -e "$dir" ] || echo "$dir"
  done >"$STATE_DIR/dirs-created"
  { ls -d /run/netns/cni-* 2>/dev/null || true; } >"$STATE_DIR/netns-before"
  mv "$STATE_DIR/sysctl-before.partial" "$STATE_DIR/sysctl-before"
fi

# fail MESSAGE: prints the tail of every component's log, then stops.
fail() {
  show_logs
  die "$* (logs: $LOG_DIR)"
}

# start_component NAME BINARY ARGS...: starts BINARY in its own session (it outlives this script and the test
# runner's process group), logging to $LOG_DIR/NAME.log. Skipped when NAME is already running.
start_component() {
  local name="$1"; shift
  if [ -n "$(pid_of "$name")" ]; then
    step "$name already running (pid $(pid_of "$name"))"
    return 0
  fi
  step "starting $name"
  # start_daemon closes this script's lock descriptor in the component, which would otherwise hold the lock forever.
  start_daemon "$LOG_DIR/$name.log" "$@"
  echo "$!" >"$RUN_DIR/pids/$name.pid"
  readlink -f "$1" >"$RUN_DIR/pids/$name.exe"
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

# ports_free PORT...: the cluster's fixed ports must not be taken by someone else (only checked on a cold start).
ports_free() {
  local port
  for port in "$@"; do
    if ss -Hltn "sport = :$port" | grep -q .; then
      die "port $port is in use by another program: $(ss -Hltnp "sport = :$port" | head -n 1)"
    fi
  done
}
if [ -z "$(pid_of etcd)$(pid_of kube-apiserver)$(pid_of kubelet)" ]; then
  ports_free "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" \
    "$KUBELET_PORT" "$KUBELET_HEALTHZ_PORT" "$KUBE_PROXY_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT"
fi

# ---- Registry and pause image. The registry is the project's (scripts/registry.sh, shared with build:image).
if [ -f "$repo/scripts/registry.sh" ]; then
  bash "$repo/scripts/registry.sh" >/dev/null
fi
curl -fsS -o /dev/null "http://$REGISTRY/v2/" || die "no registry on $REGISTRY (scripts/registry.sh starts it)"
bash "$here/pause-image.sh" "$REGISTRY" "${PAUSE_IMAGE#"$REGISTRY"/}"

# ---- Certificates and kubeconfigs.
bash "$here/pki.sh"

# ---- Network: our own bridge, whose address is the node's IP (the kubelet listens there, not on eth0).
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
fi
ip addr show dev "$BRIDGE" | grep -q " $NODE_IP/" || ip addr add "$NODE_IP/${NODE_SUBNET#*/}" dev "$BRIDGE"
ip link set "$BRIDGE" up
# Our own filter chains, rebuilt on every start:
# - traffic to the Service range that kube-proxy has not translated (a Service it has not programmed yet) is
#   refused here; otherwise it would follow the default route off the machine, where this VM's egress accepts any
#   TCP connection, and the stale conntrack entry could keep a client's later retries away from the Service;
# - pod traffic is accepted ahead of the FORWARD policy DROP that dockerd sets.
for chain in "$FORWARD_CHAIN" "$OUTPUT_CHAIN"; do
  iptables -w -N "$chain" 2>/dev/null || iptables -w -F "$chain"
  iptables -w -A "$chain" -d "$SERVICE_CIDR" -m conntrack ! --ctstate DNAT -j REJECT --reject-with icmp-port-unreachable
done
iptables -w -A "$FORWARD_CHAIN" -s "$CLUSTER_CIDR" -j ACCEPT
iptables -w -A "$FORWARD_CHAIN" -d "$CLUSTER_CIDR" -j ACCEPT
iptables -w -C FORWARD -j "$FORWARD_CHAIN" 2>/dev/null || iptables -w -I FORWARD 1 -j "$FORWARD_CHAIN"
iptables -w -C OUTPUT -j "$OUTPUT_CHAIN" 2>/dev/null || iptables -w -I OUTPUT 1 -j "$OUTPUT_CHAIN"

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
        "ranges": [[{ "subnet": "$NODE_SUBNET", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$STATE_DIR/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON

# ---- containerd: a separate instance (own socket, root and state) beside Docker's.
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
wait_until etcd 60 sh -c "curl -fsS http://127.0.0.1:$ETCD_PORT/health | grep -q '\"health\":\"true\"'"

# ---- kube-apiserver on loopback; it advertises the node IP for the `kubernetes` Service.
pki="$PKI_DIR"
start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" --advertise-address "$NODE_IP" \
  --tls-cert-file "$pki/kube-apiserver.crt" --tls-private-key-file "$pki/kube-apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --kubelet-client-certificate "$pki/kube-apiserver-kubelet-client.crt" \
  --kubelet-client-key "$pki/kube-apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/service-account.pub" \
  --service-account-signing-key-file "$pki/service-account.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC --allow-privileged=true --profiling=false
wait_until kube-apiserver 180 curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://127.0.0.1:$APISERVER_PORT/readyz"
step "apiserver ready: $(curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://127.0.0.1:$APISERVER_PORT/version" | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p')"

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
wait_until kube-controller-manager 120 curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
wait_until kube-scheduler 120 curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:$SCHEDULER_PORT/healthz"

# ---- kubelet. Each setting below that differs from a production node says why.
cat >"$config/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Listen on the node's bridge address only (not on eth0); healthz on loopback.
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
failSwapOn: false
podLogsDir: $STATE_DIR/pod-logs
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
registerNode: true
YAML
start_component kubelet "$K8S_BIN/kubelet" --config "$config/kubelet.yaml" \
  --kubeconfig "$pki/kubelet.kubeconfig" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --root-dir "$STATE_DIR/kubelet" --cert-dir "$STATE_DIR/kubelet/pki" --v 1
wait_until kubelet 120 curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
wait_until kubelet 120 kubectl_admin get node "$NODE_NAME"

# ---- kube-proxy in iptables mode; it leaves conntrack sysctls as they are (the VM may refuse them).
cat >"$config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $pki/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $CLUSTER_CIDR
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
wait_until kube-proxy 120 curl -fsS "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"

# ---- Real readiness: the node reports Ready (runtime and CNI network ready).
deadline=$((SECONDS + 180))
until [ "$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] || fail "$name exited"; done
  [ "$SECONDS" -lt "$deadline" ] || { kubectl_admin describe node "$NODE_NAME" >&2 || true; fail "node $NODE_NAME not Ready after 180s"; }
  sleep 2
done

echo "$definition_hash" >"$RUN_DIR/definition.sha256"
platform="$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.operatingSystem}/{.status.nodeInfo.architecture}')"
cat >"$CLUSTER_INFO" <<JSON
{
  "kubernetesVersion": "$KUBERNETES_VERSION",
  "kubectl": "$K8S_BIN/kubectl",
  "kubeconfig": "$ADMIN_KUBECONFIG",
  "node": "$NODE_NAME",
  "nodeIP": "$NODE_IP",
  "platform": "$platform",
  "registry": "$REGISTRY",
  "logDir": "$LOG_DIR"
}
JSON
step "cluster ready in $((SECONDS - started)) s: node $NODE_NAME ($platform) Ready; KUBECONFIG=$ADMIN_KUBECONFIG kubectl=$K8S_BIN/kubectl"
