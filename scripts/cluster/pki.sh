#!/usr/bin/env bash
# Makes the cluster's certificate authority, the certificates of every component, the service-account key and
# the kubeconfigs, with openssl (the same set upstream's hack/local-up-cluster.sh makes). Idempotent: existing
# files are kept. EC P-256 keys: fast to generate on a busy 2-core machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"

mkdir -p "$PKI_DIR"
cd "$PKI_DIR"
umask 077

new_key() { [ -f "$1.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

if [ ! -f ca.crt ]; then
  new_key ca
  openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=asm-web-service local cluster CA" -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
fi

# issue NAME SUBJECT USAGE [SAN]: a certificate signed by the CA; USAGE is serverAuth and/or clientAuth.
issue() {
  local name="$1" subject="$2" usage="$3" san="${4:-}"
  [ -f "$name.crt" ] && return 0
  new_key "$name"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$name.ext"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile "$name.ext" \
    -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

issue kube-apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$FIRST_SERVICE_IP,IP:$NODE_IP"
issue kube-apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
issue admin "/O=system:masters/CN=admin" clientAuth
issue kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
issue kube-scheduler "/CN=system:kube-scheduler" clientAuth
issue kube-proxy "/CN=system:kube-proxy" clientAuth
issue kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
issue kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP"
# Controller-manager and scheduler serve /healthz on their own ports.
issue controller-manager-serving "/CN=kube-controller-manager" serverAuth "DNS:localhost,IP:127.0.0.1"
issue scheduler-serving "/CN=kube-scheduler" serverAuth "DNS:localhost,IP:127.0.0.1"
# The apiserver's aggregation layer proxies /apis/metrics.k8s.io to metrics-server with this client certificate
# (--proxy-client-*), which metrics-server trusts through --requestheader-client-ca-file.
issue front-proxy-client "/CN=front-proxy-client" clientAuth
issue metrics-server "/CN=system:metrics-server" serverAuth,clientAuth \
  "DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local,IP:$NODE_IP"
[ -f service-account.key ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out service-account.key 2>/dev/null
[ -f service-account.pub ] || openssl pkey -in service-account.key -pubout -out service-account.pub

# kubeconfig NAME CERT: a kubeconfig for the apiserver at the node's address (reached from the host over the veth)
# with a client certificate.
kubeconfig() {
  cat >"$1.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: asm-k8s
  cluster:
    certificate-authority: $PKI_DIR/ca.crt
    server: https://$NODE_IP:$APISERVER_PORT
users:
- name: $1
  user:
    client-certificate: $PKI_DIR/$2.crt
    client-key: $PKI_DIR/$2.key
contexts:
- name: asm-k8s
  context:
    cluster: asm-k8s
    user: $1
current-context: asm-k8s
YAML
}
kubeconfig admin admin
kubeconfig kube-controller-manager kube-controller-manager
kubeconfig kube-scheduler kube-scheduler
kubeconfig kube-proxy kube-proxy
kubeconfig kubelet kubelet-client
kubeconfig metrics-server metrics-server
