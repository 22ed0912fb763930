#!/usr/bin/env bash
# `npm run cluster:down`: removes the cluster that up.sh started and leaves the machine as it was: stops only the
# processes it started (by their recorded pids), removes the pods through CRI (so CNI tears down their network),
# unmounts what is left under its own folders, deletes its bridge, its iptables chains (not Docker's), its cgroups,
# restores the sysctls the kubelet changed, and deletes its state. Built binaries stay cached. Idempotent.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root"
# One at a time (up.sh calls this script with the lock already held). A cluster:up that is still building its
# binaries would hold it for minutes: wait up to 4 min, then name the holder rather than wait forever.
[ -n "${ASM_K8S_LOCK_HELD:-}" ] || lock_cluster 240
if [ ! -d "$STATE_DIR" ] && [ ! -d "$RUN_DIR" ] && ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  step "no cluster to remove"
  exit 0
fi

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
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    [ -n "$alive" ] || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  sleep 0.5
}

# 1. The kubelet first, so nothing restarts pods; then every pod sandbox through CRI while containerd still runs:
#    that stops the containers and runs CNI DEL (veth, IP, netns) and unmounts their volumes and shm.
stop_components kubelet
if [ -n "$(pid_of containerd)" ] && [ -x "$K8S_BIN/crictl" ]; then
  crictl=("$K8S_BIN/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCKET" --image-endpoint "unix://$CONTAINERD_SOCKET" --timeout 30s)
  pods="$("${crictl[@]}" pods -q 2>/dev/null)"
  if [ -n "$pods" ]; then
    step "removing $(echo "$pods" | wc -l) pod sandboxes"
    "${crictl[@]}" rmp --all --force >/dev/null 2>&1 || step "crictl rmp reported errors (continuing)"
  fi
fi

# 2. kube-proxy, then its iptables rules (its own --cleanup knows exactly which chains are kube-proxy's).
stop_components kube-proxy
if [ -x "$K8S_BIN/kube-proxy" ]; then
  "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
fi

# 3. The control plane, then containerd; then any shim of our containerd that outlived it (matched by our socket).
stop_components kube-scheduler kube-controller-manager kube-apiserver
stop_components etcd containerd
for proc in /proc/[0-9]*; do
  if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCKET "; then
    step "stopping leftover shim ${proc#/proc/}"
    kill -KILL "${proc#/proc/}" 2>/dev/null
  fi
done

# 4. Container processes still in the kubelet's pod cgroups (only if a step above failed), then those cgroups.
for cgroup_root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$cgroup_root" ] || continue
  find "$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done
done
sleep 0.5
for cgroup_root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$cgroup_root" ] || continue
  find "$cgroup_root" -depth -type d -exec rmdir {} + 2>/dev/null
  [ -d "$cgroup_root" ] && step "could not remove cgroup $cgroup_root"
done

# 5. Mounts under our folders (rootfs, shm, volumes), deepest first, and our pods' network namespaces.
mounts_under() { awk -v a="$STATE_DIR/" -v b="$RUN_DIR/" 'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r; }
for mount_point in $(mounts_under); do umount "$mount_point" 2>/dev/null || umount -l "$mount_point" 2>/dev/null; done
if [ -f "$STATE_DIR/netns-before" ] && [ -d /run/netns ]; then
  for netns in /run/netns/cni-*; do
    [ -e "$netns" ] || continue
    grep -qxF "$netns" "$STATE_DIR/netns-before" && continue
    umount "$netns" 2>/dev/null; rm -f "$netns"
  done
fi

# 6. Network: our bridge and filter chains, and chains the kubelet or CNI left (KUBE-*, CNI-*; never DOCKER*).
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
iptables -w -D FORWARD -j "$FORWARD_CHAIN" 2>/dev/null
iptables -w -D OUTPUT -j "$OUTPUT_CHAIN" 2>/dev/null
for chain in "$FORWARD_CHAIN" "$OUTPUT_CHAIN"; do
  iptables -w -F "$chain" 2>/dev/null && iptables -w -X "$chain" 2>/dev/null
done
for tool in iptables ip6tables; do
  command -v "$tool" >/dev/null || continue
  for table in filter nat mangle; do
    chains="$("$tool" -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && ($2 ~ /^KUBE-/ || $2 ~ /^CNI-/) { print $2 }')"
    [ -n "$chains" ] || continue
    # Rules in any chain that jump to ours go first, then our chains' rules, then the chains.
    for chain in $chains; do
      "$tool" -w -t "$table" -S 2>/dev/null | grep -E -- "-j $chain( |$)" | sed 's/^-A /-D /' | while read -r rule; do
        eval "$tool -w -t $table $rule" 2>/dev/null
      done
    done
    for chain in $chains; do "$tool" -w -t "$table" -F "$chain" 2>/dev/null; done
    for chain in $chains; do "$tool" -w -t "$table" -X "$chain" 2>/dev/null; done
  done
done

# 7. Sysctls the kubelet sets on start (it does so on every real node too), back to their values before up.sh.
if [ -f "$STATE_DIR/sysctl-before" ]; then
  while read -r key value; do
    [ -n "$key" ] && sysctl -q -w "$key=$value" >/dev/null 2>&1
  done <"$STATE_DIR/sysctl-before"
fi

# 8. Folders the runtime created outside ours, when they did not exist before and are empty now.
#    The kubelet's folders are its alone (e.g. /var/lib/kubelet/device-plugins, a fixed path despite --root-dir);
#    runtime folders others may share are removed only when empty.
if [ -f "$STATE_DIR/dirs-created" ]; then
  while read -r dir; do
    case "$dir" in
      /var/lib/kubelet | /var/log/pods | /var/log/containers | /etc/kubernetes) rm -rf "$dir" ;;
      *) [ -d "$dir" ] && find "$dir" -depth -type d -empty -delete 2>/dev/null ;;
    esac
  done <"$STATE_DIR/dirs-created"
fi

# 9. Keep the last logs for post-mortems (in the cache, outside the repo), then remove all state.
if [ -d "$LOG_DIR" ]; then
  rm -rf "$LAST_LOGS_DIR" && mkdir -p "$LAST_LOGS_DIR" && cp -a "$LOG_DIR/." "$LAST_LOGS_DIR/"
fi
leftover_mounts="$(mounts_under)"
[ -z "$leftover_mounts" ] || die "still mounted, not deleting state: $leftover_mounts"
rm -rf "$STATE_DIR" "$RUN_DIR"
step "cluster removed (last logs: $LAST_LOGS_DIR)"
