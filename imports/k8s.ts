/**
 * The Kubernetes 1.28 API objects (cdk8s L1 constructs such as k8s.KubeNamespace or k8s.KubeNetworkPolicy) for apps
 * that need objects AsmWebService does not make: cdk8s-plus-28's public `k8s` namespace, the classes the construct's
 * own objects are made of (web.podDisruptionBudget is a k8s.KubePodDisruptionBudget). Re-exported where
 * `cdk8s import k8s` would write its own copy: that command downloads the schema from GitHub, which the CI machines
 * cannot reach, and a second generated copy could drift from the one cdk8s-plus-28 uses. Elsewhere, import
 * `k8s` from 'cdk8s-plus-28' directly (never from its internal lib/ paths).
 */
export { k8s } from 'cdk8s-plus-28';
