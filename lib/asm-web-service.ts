/**
 * AsmWebService: the cdk8s construct that deploys the assembly HTTP server (docs/server.md) as a Deployment, a
 * Service and, with more than one replica, a PodDisruptionBudget. Its defaults fit this server rather than
 * cdk8s-plus's generic ones: kilobyte-sized process, /health probes, graceful drain on SIGTERM, FROM scratch image
 * running as uid/gid 65532 on a read-only root filesystem (Pod Security Standards "restricted").
 */
import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** How the Service is reachable: inside the cluster only, on every node's port, or through a cloud load balancer. */
export type AsmWebServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** Properties of `AsmWebService`. Every optional one has a default that fits this server. */
export interface AsmWebServiceProps {
  /**
   * The server's image, pinned by digest: `REPOSITORY@sha256:<64 lowercase hex digits>`
   * (for example the `image` field of build/image.json written by `npm run build:image`).
   * Tags are rejected: a digest makes every rollout reproducible and lets `imagePullPolicy: IfNotPresent` be safe.
   */
  readonly image: string;

  /**
   * Name of the Deployment, Service and PodDisruptionBudget, and value of the `app.kubernetes.io/instance` label.
   * A DNS-1035 label (lowercase letters, digits and `-`, starting with a letter, at most 63 characters).
   * Two instances in the same namespace need different names.
   * @default 'asm-web-service'
   */
  readonly name?: string;

  /**
   * Namespace of every object.
   * @default - the enclosing Chart's namespace; without one, the namespace `kubectl apply` uses
   */
  readonly namespace?: string;

  /**
   * Number of pods. Leave it unset when a HorizontalPodAutoscaler scales the Deployment: the Deployment then
   * carries no count, which the autoscaler requires.
   * @default 2
   */
  readonly replicas?: number;

  /**
   * TCP port the server listens on inside the pod (passed as the `PORT` environment variable).
   * At least 1024: the server runs as a non-root user without capabilities.
   * @default 8080
   */
  readonly containerPort?: number;

  /**
   * Port of the Service.
   * @default 80
   */
  readonly servicePort?: number;

  /**
   * Type of the Service.
   * @default 'ClusterIP'
   */
  readonly serviceType?: AsmWebServiceType;

  /**
   * Fixed node port, for `serviceType` 'NodePort' or 'LoadBalancer' (within the cluster's node port range,
   * 30000-32767 unless the cluster changed it).
   * @default - Kubernetes allocates one
   */
  readonly nodePort?: number;

  /**
   * CPU request, in millicores.
   * @default 10
   */
  readonly cpuRequestMillis?: number;

  /**
   * CPU limit, in millicores. Without one the server may use idle CPU without CFS throttling.
   * @default - no CPU limit
   */
  readonly cpuLimitMillis?: number;

  /**
   * Memory request, in MiB. Measured: the server's resident set is about 24 KiB idle and under 100 KiB with 2000
   * busy keep-alive clients; the container runtime's start-up process (`runc init`, which runs in the container's
   * cgroup before the server starts) peaks at about 3.6 MB.
   * @default 8
   */
  readonly memoryRequestMiB?: number;

  /**
   * Memory limit, in MiB. The server allocates nothing at run time, but its static buffers let each of its up to
   * 16384 connections hold an unfinished 8 KiB request head: measured, 16000 such connections peak at 149 MiB
   * (and a 32 MiB limit was OOM-killed by 4000). The default covers that bound with room for kernel socket buffers,
   * so the limit never kills a server doing what it was built for.
   * @default 192
   */
  readonly memoryLimitMiB?: number;

  /**
   * Seconds between readiness probes (`GET /health`). Short, so a draining pod (503) leaves the Service quickly.
   * @default 2
   */
  readonly readinessPeriodSeconds?: number;

  /**
   * Failed readiness probes in a row before the pod stops receiving traffic.
   * @default 1
   */
  readonly readinessFailureThreshold?: number;

  /**
   * Seconds between liveness probes (`GET /health`).
   * @default 10
   */
  readonly livenessPeriodSeconds?: number;

  /**
   * Failed liveness probes in a row before the kubelet restarts the container.
   * @default 3
   */
  readonly livenessFailureThreshold?: number;

  /**
   * Seconds a probe waits for an answer.
   * @default 1
   */
  readonly probeTimeoutSeconds?: number;

  /**
   * Seconds the server keeps serving after SIGTERM while `/health` answers 503 (the `DRAIN_SECONDS` environment
   * variable), so clients and load balancers stop sending before the listener closes. 0-3600.
   * @default 5
   */
  readonly drainSeconds?: number;

  /**
   * Seconds Kubernetes waits after SIGTERM before it kills the container. Must exceed `drainSeconds`.
   * @default - `drainSeconds` + 15: the drain, then up to 10 s for a stalled write (the server's
   *   HEADER_TIMEOUT_SECONDS), 2 s of close linger and 3 s of slack
   */
  readonly terminationGracePeriodSeconds?: number;

  /**
   * Labels added to every object and to the pods. Cannot set `app.kubernetes.io/name` or
   * `app.kubernetes.io/instance`, which the selectors use (set `name` instead); can set
   * `app.kubernetes.io/managed-by`, which is otherwise `cdk8s`.
   * @default - only the app.kubernetes.io labels
   */
  readonly labels?: Record<string, string>;

  /**
   * Annotations added to the Deployment, the Service and the PodDisruptionBudget
   * (for example a cloud provider's load balancer settings).
   * @default - none
   */
  readonly annotations?: Record<string, string>;

  /**
   * Annotations added to the pod template. Changing them rolls the pods.
   * @default - none
   */
  readonly podAnnotations?: Record<string, string>;

  /**
   * Whether to create a PodDisruptionBudget that lets voluntary disruptions (node drains) take at most one pod
   * at a time.
   * @default - true when `replicas` is more than 1
   */
  readonly podDisruptionBudget?: boolean;
}

/** The image's user and group (the Dockerfile's `USER 65532:65532`); the pod enforces the same ids. */
const SERVER_UID = 65532;
const SERVER_GID = 65532;
/** Extra grace after the drain: the server's 10 s stalled-write limit, its 2 s close linger, 3 s of slack. */
const GRACE_AFTER_DRAIN_SECONDS = 15;
/** The path the server answers 200 on (503 while it drains). */
const HEALTH_PATH = '/health';
/** Value of the `app.kubernetes.io/name` label. */
const APP_NAME = 'asm-web-service';

const NAME_LABEL = 'app.kubernetes.io/name';
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

// distribution/reference's grammar: optional registry host[:port], then lowercase path components.
const IMAGE_REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)';
const IMAGE_PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DIGEST_PINNED_IMAGE = new RegExp(
  `^${IMAGE_REGISTRY}?${IMAGE_PATH_COMPONENT}(?:/${IMAGE_PATH_COMPONENT})*@sha256:[0-9a-f]{64}$`,
);
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * The assembly HTTP server on Kubernetes: a Deployment with /health probes and a hardened pod, a Service in front
 * of it, and a PodDisruptionBudget when it runs more than one pod. Objects are named by `name`, the selectors use
 * only `app.kubernetes.io/name` and `app.kubernetes.io/instance`, and the pod label cdk8s-plus adds
 * (`cdk8s.io/metadata.addr`, by default a hash of the construct's path) is set to `name`, so moving the construct
 * within an app changes no object: no pod restarts.
 */
export class AsmWebService extends Construct {
  /** The Deployment; add containers, volumes or scheduling rules through it. */
  public readonly deployment: kplus.Deployment;
  /** The server's container in the Deployment. */
  public readonly container: kplus.Container;
  /** The Service in front of the pods. */
  public readonly service: kplus.Service;
  /** The PodDisruptionBudget, when there is one. */
  public readonly podDisruptionBudget?: kplus.k8s.KubePodDisruptionBudget;
  /** Name of every object (and the `app.kubernetes.io/instance` label). */
  public readonly name: string;
  /** The namespace of every object, when one is known at synth time. */
  public readonly namespace?: string;
  /** The labels the Deployment, the Service and the PodDisruptionBudget select pods by. */
  public readonly selectorLabels: Readonly<Record<string, string>>;
  /**
   * The in-cluster URL, `http://NAME.NAMESPACE.svc[:PORT]`; `http://NAME[:PORT]` (same namespace only) when the
   * namespace is left to kubectl.
   */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: AsmWebServiceProps) {
    super(scope, id);

    const image = validateImage(props.image);
    const name = props.name ?? APP_NAME;
    if (name.length > 63 || !DNS_1035_LABEL.test(name)) {
      throw new Error(
        `'name' must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters), got ${JSON.stringify(name)}`,
      );
    }
    const namespace = props.namespace ?? Chart.of(this).namespace;
    if (props.namespace !== undefined && (props.namespace.length > 63 || !DNS_1123_LABEL.test(props.namespace))) {
      throw new Error(
        `'namespace' must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got ${JSON.stringify(props.namespace)}`,
      );
    }
    const replicas = validateInteger('replicas', props.replicas ?? 2, 1, 1_000_000);
    const containerPort = validateInteger(
      'containerPort', props.containerPort ?? 8080, 1024, 65535,
      ' (the server runs as non-root uid 65532 without capabilities, so it cannot bind ports below 1024)',
    );
    const servicePort = validateInteger('servicePort', props.servicePort ?? 80, 1, 65535);
    const serviceType = props.serviceType ?? 'ClusterIP';
    if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(serviceType)) {
      throw new Error(`'serviceType' must be 'ClusterIP', 'NodePort' or 'LoadBalancer', got ${JSON.stringify(serviceType)}`);
    }
    if (props.nodePort !== undefined) {
      if (serviceType === 'ClusterIP') {
        throw new Error(`'nodePort' needs 'serviceType' 'NodePort' or 'LoadBalancer', got 'serviceType' 'ClusterIP'`);
      }
      validateInteger('nodePort', props.nodePort, 1, 65535);
    }
    const cpuRequestMillis = validateInteger('cpuRequestMillis', props.cpuRequestMillis ?? 10, 1, 1_000_000);
    if (props.cpuLimitMillis !== undefined) {
      validateInteger('cpuLimitMillis', props.cpuLimitMillis, cpuRequestMillis, 1_000_000, ` (at least 'cpuRequestMillis')`);
    }
    const memoryRequestMiB = validateInteger('memoryRequestMiB', props.memoryRequestMiB ?? 8, 1, 1_048_576);
    const memoryLimitMiB = validateInteger(
      'memoryLimitMiB', props.memoryLimitMiB ?? 192, Math.max(memoryRequestMiB, 1), 1_048_576, ` (at least 'memoryRequestMiB')`,
    );
    const readinessPeriodSeconds = validateInteger('readinessPeriodSeconds', props.readinessPeriodSeconds ?? 2, 1, 3600);
    const readinessFailureThreshold = validateInteger('readinessFailureThreshold', props.readinessFailureThreshold ?? 1, 1, 1000);
    const livenessPeriodSeconds = validateInteger('livenessPeriodSeconds', props.livenessPeriodSeconds ?? 10, 1, 3600);
    const livenessFailureThreshold = validateInteger('livenessFailureThreshold', props.livenessFailureThreshold ?? 3, 1, 1000);
    const probeTimeoutSeconds = validateInteger('probeTimeoutSeconds', props.probeTimeoutSeconds ?? 1, 1, 3600);
    const drainSeconds = validateInteger('drainSeconds', props.drainSeconds ?? 5, 0, 3600);
    const terminationGracePeriodSeconds = validateInteger(
      'terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? drainSeconds + GRACE_AFTER_DRAIN_SECONDS,
      drainSeconds + 1, 1_000_000, ` (longer than 'drainSeconds' ${drainSeconds}, else the server is killed mid-drain)`,
    );
    const extraLabels = validateLabels(props.labels ?? {});
    const annotations = validateAnnotations('annotations', props.annotations ?? {});
    const podAnnotations = validateAnnotations('podAnnotations', props.podAnnotations ?? {});
    this.checkNameIsFree(name, namespace);

    this.name = name;
    this.namespace = namespace;
    this.selectorLabels = { [NAME_LABEL]: APP_NAME, [INSTANCE_LABEL]: name };
    // managed-by says cdk8s unless the app names another manager (Helm, Argo CD, ...).
    const labels = { [MANAGED_BY_LABEL]: 'cdk8s', ...extraLabels, ...this.selectorLabels };
    const metadata = {
      name,
      namespace: props.namespace,
      labels,
      annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
    };
    const portSuffix = servicePort === 80 ? '' : `:${servicePort}`;
    this.url = namespace ? `http://${name}.${namespace}.svc${portSuffix}` : `http://${name}${portSuffix}`;

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata,
      // Only a count the app asked for: cdk8s-plus writes its default (2, ours too) unless an autoscaler is
      // attached, and rejects an autoscaler on a Deployment given a fixed count.
      replicas: props.replicas,
      // Select by the app.kubernetes.io labels alone, not cdk8s-plus's path-hash label.
      select: false,
      podMetadata: {
        labels,
        annotations: Object.keys(podAnnotations).length > 0 ? podAnnotations : undefined,
      },
      // New pods must be ready before old ones go: capacity never drops during a rollout.
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: { ensureNonRoot: true, user: SERVER_UID, group: SERVER_GID },
      // The server never talks to the Kubernetes API.
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(terminationGracePeriodSeconds),
      containers: [],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels }));
    // cdk8s-plus labels the pods with cdk8s.io/metadata.addr = a hash of the construct's path, so a move would
    // change the pod template and restart every pod. The label stays (cdk8s-plus selects pods by it wherever an
    // app passes web.deployment as a selector, network policy peer or affinity target), with the instance's name
    // as its value: unique in the namespace, like the name, and independent of the path.
    this.deployment.podMetadata.addLabel(kplus.Pod.ADDRESS_LABEL, name);

    const healthProbe = (periodSeconds: number, failureThreshold: number) =>
      kplus.Probe.fromHttpGet(HEALTH_PATH, {
        port: containerPort,
        periodSeconds: Duration.seconds(periodSeconds),
        failureThreshold,
        timeoutSeconds: Duration.seconds(probeTimeoutSeconds),
      });
    this.container = this.deployment.addContainer({
      name: 'server',
      image,
      // `ports` rather than `portNumber`: the latter makes cdk8s-plus add a TCP startup probe, which the server
      // (listening within milliseconds of start) does not need.
      ports: [{ number: containerPort, name: 'http' }],
      envVariables: {
        PORT: kplus.EnvValue.fromValue(String(containerPort)),
        DRAIN_SECONDS: kplus.EnvValue.fromValue(String(drainSeconds)),
      },
      // The digest pins the content, so a cached copy is always the right one.
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      readiness: healthProbe(readinessPeriodSeconds, readinessFailureThreshold),
      liveness: healthProbe(livenessPeriodSeconds, livenessFailureThreshold),
      resources: {
        cpu: {
          request: kplus.Cpu.millis(cpuRequestMillis),
          limit: props.cpuLimitMillis === undefined ? undefined : kplus.Cpu.millis(props.cpuLimitMillis),
        },
        memory: { request: Size.mebibytes(memoryRequestMiB), limit: Size.mebibytes(memoryLimitMiB) },
      },
      securityContext: {
        ensureNonRoot: true,
        user: SERVER_UID,
        group: SERVER_GID,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
    });

    this.service = new kplus.Service(this, 'service', {
      metadata,
      type: serviceType as kplus.ServiceType,
      ports: [{ name: 'http', port: servicePort, targetPort: containerPort, nodePort: props.nodePort }],
    });
    // Not `selector: this.deployment`: cdk8s-plus would select by its path-hash pod label.
    for (const [key, value] of Object.entries(this.selectorLabels)) this.service.selectLabel(key, value);

    if (props.podDisruptionBudget ?? replicas > 1) {
      this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata,
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: { ...this.selectorLabels } },
          // A pod that is not ready serves nothing, so evicting it never costs capacity.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      });
    }
  }

  /** Two instances with one name in one namespace would overwrite each other's objects on `kubectl apply`. */
  private checkNameIsFree(name: string, namespace: string | undefined): void {
    for (const other of this.node.root.node.findAll()) {
      if (other !== this && other instanceof AsmWebService && other.name === name && other.namespace === namespace) {
        throw new Error(
          `'name' ${JSON.stringify(name)} is already used by the AsmWebService at ${other.node.path}` +
            `${namespace ? ` in namespace ${JSON.stringify(namespace)}` : ''}; give each instance its own 'name'`,
        );
      }
    }
  }
}

function validateImage(image: string): string {
  if (typeof image !== 'string' || !DIGEST_PINNED_IMAGE.test(image)) {
    throw new Error(
      `'image' must be pinned by digest as REPOSITORY@sha256:<64 lowercase hex digits> ` +
        `(e.g. registry.example.com/asm-web-service@sha256:${'0'.repeat(64)}), got ${JSON.stringify(image)}`,
    );
  }
  return image;
}

function validateInteger(prop: string, value: number, min: number, max: number, why = ''): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' must be an integer from ${min} to ${max}${why}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

function validateLabels(labels: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    if (key === NAME_LABEL || key === INSTANCE_LABEL) {
      throw new Error(`'labels' cannot set ${key}: the selectors use it (set 'name' to change the instance)`);
    }
    if (!isQualifiedName(key)) {
      throw new Error(`'labels' has an invalid key ${JSON.stringify(key)} (expected [prefix/]name, name at most 63 characters of [A-Za-z0-9-_.])`);
    }
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !QUALIFIED_NAME_PART.test(value))) {
      throw new Error(`'labels' has an invalid value ${JSON.stringify(value)} for ${key} (at most 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends)`);
    }
  }
  return labels;
}

function validateAnnotations(prop: string, annotations: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(annotations)) {
    if (!isQualifiedName(key)) {
      throw new Error(`'${prop}' has an invalid key ${JSON.stringify(key)} (expected [prefix/]name, name at most 63 characters of [A-Za-z0-9-_.])`);
    }
    if (typeof value !== 'string') {
      throw new Error(`'${prop}' value for ${key} must be a string, got ${JSON.stringify(value)}`);
    }
  }
  return annotations;
}
