#!/usr/bin/env bash
# enter.sh [--host] COMMAND [ARGS...]: runs COMMAND as one of the cluster's daemons: in the cluster's cgroup subtree
# ($CLUSTER_CGROUP/components in every hierarchy) and, without --host, inside the cluster's network and mount
# namespaces. up.sh starts every daemon through it, so each of them and all they start (containerd's shims, CNI
# plugins, iptables) live in the cluster's namespaces, and cluster:down finds whatever is left in the subtree.
# It replaces itself with COMMAND (same pid), so the pid up.sh records is the daemon's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

namespaces=1
if [ "${1:-}" = --host ]; then namespaces=0; shift; fi
for hierarchy in $(cgroup_hierarchies); do
  echo "$$" >"$hierarchy/$CLUSTER_CGROUP/components/cgroup.procs"
done
[ "$namespaces" = 1 ] || exec "$@"
exec nsenter --net="$NETNS_PIN" --mount="$MNTNS_PIN" -- "$@"
