#!/usr/bin/env bash
# `npm run cluster:down`: removes the cluster that up.sh started, and only that: its processes (by their pid
# files, then whatever is left in its cgroup subtree), its network and mount namespaces (and with them its bridge,
# iptables rules, routes, pods' network namespaces and every mount of its containers and volumes), the host's end
# of its veth pair (and the routes on it), its cgroup subtree, the folders it made and its state. Nothing outside
# these is looked at: no iptables chain, cgroup or process of anyone else's. Built binaries stay cached. Idempotent.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root"
if ! cluster_remnants_exist; then
  step "no cluster to remove"
  exit 0
fi
# One at a time (up.sh calls this script with the lock already held). A cluster:up that is still building its
# binaries would hold it for minutes: wait up to 4 min, then name the holder rather than wait forever.
[ -n "${ASM_K8S_LOCK_HELD:-}" ] || lock_cluster 240

# stop_components NAME...: SIGTERM to each process up.sh started under these names, SIGKILL to those still
# running 15 s later.
stop_components() {
  local name pid pids=()
  for name in "$@"; do
    pid="$(pid_of "$name")"
    rm -f "$RUN_DIR/pids/$name.pid" "$RUN_DIR/pids/$name.exe"
    [ -n "$pid" ] || continue
    step "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    pids+=("$pid")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for _ in $(seq 1 150); do
    alive=""
    # A stopped daemon stays a zombie until PID 1 reaps it: it counts as gone.
    for pid in "${pids[@]}"; do
      [ -d "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && alive=1
    done
    [ -n "$alive" ] || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  sleep 0.5
}

# 1. The kubelet first, so nothing restarts pods; then every pod sandbox through CRI while containerd still runs,
#    so the containers stop in order (what this misses, step 3 ends).
stop_components kubelet
if [ -n "$(pid_of containerd)" ] && [ -x "$K8S_BIN/crictl" ]; then
  crictl=("$K8S_BIN/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCKET" --image-endpoint "unix://$CONTAINERD_SOCKET" --timeout 30s)
  pods="$("${crictl[@]}" pods -q 2>/dev/null)"
  if [ -n "$pods" ]; then
    step "removing $(echo "$pods" | wc -l) pod sandboxes"
    "${crictl[@]}" rmp --all --force >/dev/null 2>&1 || step "crictl rmp reported errors (continuing)"
  fi
fi

# 2. The other daemons in reverse start order, in two groups: metrics-server, kube-proxy and the control plane first, as the
#    apiserver's graceful shutdown stalls (until SIGKILL) once etcd is gone; then etcd, containerd, the forwarders.
control_plane=() below=()
for ((index = ${#COMPONENTS[@]} - 1; index >= 0; index--)); do
  case "${COMPONENTS[index]}" in
    kubelet) ;;
    kube-* | metrics-server) control_plane+=("${COMPONENTS[index]}") ;;
    *) below+=("${COMPONENTS[index]}") ;;
  esac
done
stop_components "${control_plane[@]}"
stop_components "${below[@]}"

# 3. Whatever still runs in the cluster's cgroup subtree (shims, containers, a daemon whose pid file was lost):
#    everything in there was started by up.sh, so it is ended without asking. Then the subtree, deepest first.
subtree_pids() {
  local hierarchy
  for hierarchy in $(cgroup_hierarchies); do
    [ -d "$hierarchy/$CLUSTER_CGROUP" ] && find "$hierarchy/$CLUSTER_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}
for _ in $(seq 1 50); do
  pids="$(subtree_pids)"
  [ -n "$pids" ] || break
  step "ending $(echo "$pids" | wc -l) processes left in the cgroup subtree $CLUSTER_CGROUP"
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  sleep 0.2
done
[ -z "$(subtree_pids)" ] || step "processes still in cgroup $CLUSTER_CGROUP: $(subtree_pids | tr '\n' ' ')"
for hierarchy in $(cgroup_hierarchies); do
  [ -d "$hierarchy/$CLUSTER_CGROUP" ] || continue
  # rmdir only: a cgroup that still has a process stays, and says so below.
  find "$hierarchy/$CLUSTER_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
  [ -d "$hierarchy/$CLUSTER_CGROUP" ] && step "could not remove cgroup $hierarchy/$CLUSTER_CGROUP"
done

# 4. The namespaces: with no process left in them, unmounting their pins ends them, and with the network namespace
#    go its bridge, iptables rules, routes, the pods' veths and the node's end of the veth pair; with the mount
#    namespace every mount the runtime and the kubelet made.
for pin in "$NETNS_PIN" "$MNTNS_PIN"; do
  mountpoint -q "$pin" 2>/dev/null && umount "$pin"
done
mountpoint -q "$NAMESPACE_DIR" 2>/dev/null && umount "$NAMESPACE_DIR"
# The host's end of the pair disappears with the namespace (the kernel ends it asynchronously); if it stays,
# it is deleted, which takes the routes on it along.
for _ in $(seq 1 50); do
  ip link show "$HOST_VETH" >/dev/null 2>&1 || break
  sleep 0.1
done
ip link show "$HOST_VETH" >/dev/null 2>&1 && ip link delete "$HOST_VETH"

# 5. The mount points up.sh made for the fixed paths of the kubelet, CNI and containerd where the host had none
#    (empty on the host: what was written there went to our folders, mounted over them in the cluster's mount
#    namespace), deepest first.
if [ -f "$STATE_DIR/dirs-created" ]; then
  tac "$STATE_DIR/dirs-created" | while read -r dir; do
    [ -d "$dir" ] || continue
    rmdir "$dir" 2>/dev/null || step "left $dir: it is not empty, so something else uses it now"
  done
fi

# 6. Keep the last logs for post-mortems (in the cache, outside the repo), then remove all state.
if [ -d "$LOG_DIR" ]; then
  rm -rf "$LAST_LOGS_DIR" && mkdir -p "$LAST_LOGS_DIR" && cp -a "$LOG_DIR/." "$LAST_LOGS_DIR/"
fi
mounts_under() { awk -v a="$STATE_DIR/" -v b="$RUN_DIR/" 'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo; }
leftover_mounts="$(mounts_under)"
[ -z "$leftover_mounts" ] || die "still mounted, not deleting state: $leftover_mounts"
rm -rf "$STATE_DIR" "$RUN_DIR"
step "cluster removed (last logs: $LAST_LOGS_DIR)"
