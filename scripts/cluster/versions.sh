# Pinned versions and cache locations of the local cluster. Sourced by the other scripts in scripts/cluster/.
# Kubernetes 1.37 is the newest supported minor; etcd 3.7 is the series upstream's hack/lib/etcd.sh tests it with.
KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
# The Go toolchain the build needs (go.mod of both says go 1.26.0); fetched from the Go proxy when missing.
GO_TOOLCHAIN_VERSION="${GO_TOOLCHAIN_VERSION:-go1.26.8}"

# Everything built is cached outside the repository, keyed by version, so only the first run pays for it.
CLUSTER_CACHE_ROOT="${CLUSTER_CACHE_ROOT:-/var/cache/asm-web-service}"
K8S_CACHE="$CLUSTER_CACHE_ROOT/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
K8S_BIN="$K8S_CACHE/bin"
