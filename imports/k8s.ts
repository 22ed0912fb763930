/**
 * The Kubernetes 1.28 API objects (cdk8s L1 constructs such as KubeNamespace or KubeNetworkPolicy) for apps that
 * need objects AsmWebService does not make. They are the classes cdk8s-plus-28 generates and ships, re-exported
 * where `cdk8s import k8s` would write them: that command downloads the schema from GitHub, which the CI machines
 * cannot reach, and a second generated copy could drift from the one cdk8s-plus-28 uses.
 */
export * from 'cdk8s-plus-28/lib/imports/k8s.js';
