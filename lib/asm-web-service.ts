/**
 * AsmWebService: the cdk8s construct that deploys the assembly HTTP server (docs/server.md) as a Deployment, a
 * Service and, with more than one pod, a PodDisruptionBudget and a topology spread; opt-in, a
 * HorizontalPodAutoscaler, a NetworkPolicy, an Ingress and a Gateway API HTTPRoute. Its defaults fit this server
 * rather than cdk8s-plus's generic ones: kilobyte-sized process, /health probes, graceful drain on SIGTERM, FROM
 * scratch image running as uid/gid 65532 on a read-only root filesystem (Pod Security Standards "restricted").
 *
 * The public API keeps to what jsii can carry to every cdk8s language: props are interfaces of readonly fields,
 * choices are enums (kplus.ServiceType) and units are cdk8s' classes (Duration, Size, kplus.Cpu).
 */
import { ApiObject, type ApiObjectMetadata, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  validateAnnotations, validateBoolean, validateDns1035Label, validateDns1123Label, validateDns1123Subdomain,
  validateHostname, rejectRenamedProps, validateImage, validateInteger, validateKnownKeys, validateLabels,
  validateMebibytes, validateMillicores, validatePath, validateSeconds,
} from './validation.js';

/** A HorizontalPodAutoscaler (autoscaling/v2) that sets the number of pods from their CPU use. */
export interface AsmWebServiceAutoscaling {
  /**
   * Fewest pods. 2 keeps a pod serving while another restarts or its node drains.
   * @default 2
   */
  readonly minReplicas?: number;

  /** Most pods; at least `minReplicas`. */
  readonly maxReplicas: number;

  /**
   * Average CPU use the autoscaler aims for, in percent of `cpuRequest` (so 80 with the default 10m request is
   * 8 millicores a pod), 1 to 1000. Above 100 is allowed: the container has no CPU limit by default. The default is
   * not measured for this server: it is Kubernetes' own (`DefaultCPUUtilization`, what an autoscaler without
   * metrics aims for).
   * @default 80
   */
  readonly targetCpuUtilizationPercent?: number;

  /**
   * How long the autoscaler looks back before adding pods (it takes the lowest recommendation of the window).
   * 0 s to 1 h.
   * @default Duration.seconds(0) (Kubernetes' default)
   */
  readonly scaleUpStabilization?: Duration;

  /**
   * How long the autoscaler looks back before removing pods (it takes the highest recommendation of the window),
   * so a short lull does not remove pods that the next burst needs. 0 s to 1 h.
   * @default Duration.minutes(5) (Kubernetes' default)
   */
  readonly scaleDownStabilization?: Duration;
}

/** An Ingress (networking.k8s.io/v1) that routes HTTP requests for a host and path prefix to the Service. */
export interface AsmWebServiceIngress {
  /**
   * The IngressClass, which names the ingress controller (e.g. 'nginx', 'traefik').
   * @default - the cluster's default IngressClass
   */
  readonly className?: string;

  /**
   * The host name requests must name, e.g. 'www.example.com' or '*.example.com'.
   * @default - every host
   */
  readonly host?: string;

  /**
   * The path prefix routed to the server.
   * @default '/'
   */
  readonly path?: string;

  /**
   * A Secret of type kubernetes.io/tls in the same namespace, for HTTPS on `host` (which it then requires).
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
}

/**
 * A Gateway API HTTPRoute (gateway.networking.k8s.io/v1, the standard channel since Gateway API v1.0) that attaches
 * to a Gateway and routes HTTP requests to the Service. The cluster needs the Gateway API CRDs and a Gateway.
 */
export interface AsmWebServiceHttpRoute {
  /** Name of the Gateway to attach to. */
  readonly gatewayName: string;

  /**
   * Namespace of the Gateway; its listener must then allow routes from this namespace (`allowedRoutes`).
   * @default - the route's own namespace
   */
  readonly gatewayNamespace?: string;

  /**
   * The Gateway listener to attach to.
   * @default - every listener of the Gateway that admits the route
   */
  readonly sectionName?: string;

  /**
   * Host names the route matches (at most 16), e.g. 'www.example.com' or '*.example.com'.
   * @default - the host names of the Gateway's listeners
   */
  readonly hostnames?: string[];

  /**
   * The path prefix routed to the server.
   * @default '/'
   */
  readonly path?: string;
}

/**
 * Prometheus metrics of the pods (`GET /metrics`, docs/server.md "Metrics"): where the server serves them and how
 * a Prometheus finds them.
 */
export interface AsmWebServiceMetrics {
  /**
   * Whether the server serves `/metrics` at all (false: `METRICS_PORT=0`, and no other setting may be given).
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The container port of `/metrics`: `containerPort`, or a port of its own (1024-65535), which the container,
   * the Service (as port `metrics`, with the same number) and the NetworkPolicy then expose too, and where only
   * `/metrics` (with `/` and `/health`) is served while `containerPort` answers 404 to it.
   *
   * On `containerPort`, `/metrics` is public wherever the serving port is: through an Ingress or HTTPRoute (whose
   * path prefix, `/` by default, covers it), a LoadBalancer or a node port. A port of its own keeps it off the
   * Ingress and HTTPRoute, which route only `servicePort`; but with `serviceType` NODE_PORT or LOAD_BALANCER the
   * Service's `metrics` port is exposed outside the cluster as well (on a node port of its own, and on the load
   * balancer): to keep them in, restrict those from outside (a firewall, the load balancer's source ranges) or
   * serve the public through an Ingress or HTTPRoute in front of a CLUSTER_IP Service.
   * It cannot be `servicePort` when that differs from `containerPort`: the Service would have two ports with one
   * number, which the API server rejects.
   * @default - `containerPort`
   */
  readonly port?: number;

  /**
   * Whether to add the conventional `prometheus.io/scrape`, `prometheus.io/port` and `prometheus.io/path` pod
   * annotations, which Prometheus' kubernetes_sd example configuration and many agents follow.
   * @default true
   */
  readonly scrapeAnnotations?: boolean;

  /**
   * Whether to create a Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1) that scrapes the Service's
   * metrics port. The cluster needs the operator's CustomResourceDefinitions.
   * @default false
   */
  readonly serviceMonitor?: boolean;

  /**
   * How often the ServiceMonitor's scrapes come, whole seconds.
   * @default - the Prometheus' own scrape interval
   */
  readonly scrapeInterval?: Duration;
}

/** Properties of `AsmWebService`. Every optional one has a default that fits this server. */
export interface AsmWebServiceProps {
  /**
   * The server's image, pinned by digest: `REPOSITORY@sha256:<64 lowercase hex digits>`
   * (for example the `image` field of build/image.json written by `npm run build:image`).
   * Tags are rejected: a digest makes every rollout reproducible and lets `imagePullPolicy: IfNotPresent` be safe.
   */
  readonly image: string;

  /**
   * Name of every object and value of the `app.kubernetes.io/instance` label. A DNS-1035 label (lowercase letters,
   * digits and `-`, starting with a letter, at most 63 characters). Two instances in one namespace need different
   * names.
   * @default 'asm-web-service'
   */
  readonly name?: string;

  /**
   * Namespace of every object.
   * @default - the enclosing Chart's namespace; without one, the namespace `kubectl apply` uses
   */
  readonly namespace?: string;

  /**
   * Number of pods. Not with `autoscaling`, whose autoscaler sets the number; leave it unset too when the app
   * attaches its own HorizontalPodAutoscaler to `deployment`, so the Deployment carries no count.
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
   * @default - `containerPort` (8080)
   */
  readonly servicePort?: number;

  /**
   * Type of the Service: ServiceType.CLUSTER_IP, NODE_PORT or LOAD_BALANCER (EXTERNAL_NAME has no pods).
   * @default kplus.ServiceType.CLUSTER_IP
   */
  readonly serviceType?: kplus.ServiceType;

  /**
   * Fixed node port, for `serviceType` NODE_PORT or LOAD_BALANCER (within the cluster's node port range,
   * 30000-32767 unless the cluster changed it).
   * @default - Kubernetes allocates one
   */
  readonly nodePort?: number;

  /**
   * CPU request, whole millicores.
   * @default kplus.Cpu.millis(10)
   */
  readonly cpuRequest?: kplus.Cpu;

  /**
   * CPU limit, whole millicores, at least `cpuRequest`. Without one the server may use idle CPU without CFS
   * throttling.
   * @default - no CPU limit
   */
  readonly cpuLimit?: kplus.Cpu;

  /**
   * Memory request, whole mebibytes. Measured: the server's resident set is about 24 KiB idle and under 100 KiB
   * with 2000 busy keep-alive clients; the container runtime's start-up process (`runc init`, which runs in the
   * container's cgroup before the server starts) peaks at about 3.6 MB.
   * @default Size.mebibytes(8)
   */
  readonly memoryRequest?: Size;

  /**
   * Memory limit, whole mebibytes, at least `memoryRequest`. The server allocates nothing at run time, and keeps
   * an unfinished request head in the kernel's receive buffer, but a first piece of a head longer than 256 bytes
   * takes an 8 KiB carry buffer, for each of up to 16300 connections (`MAX_CONNECTIONS`). Measured in a memory
   * cgroup of its own (kernel and socket memory included), 16000 connections each holding: half a short head,
   * 66 MiB; 7,000 bytes of a head, the worst case, 187 MiB. The default covers that worst case at 16300 connections
   * with a third to spare, so the limit never kills a server doing what it was built for.
   * @default Size.mebibytes(256)
   */
  readonly memoryLimit?: Size;

  /**
   * Time between readiness probes (`GET /health`), whole seconds. Short, so a draining pod (503) leaves the
   * Service quickly.
   * @default Duration.seconds(2)
   */
  readonly readinessPeriod?: Duration;

  /**
   * Failed readiness probes in a row before the pod stops receiving traffic.
   * @default 1
   */
  readonly readinessFailureThreshold?: number;

  /**
   * Time between liveness probes (`GET /health`), whole seconds.
   * @default Duration.seconds(10)
   */
  readonly livenessPeriod?: Duration;

  /**
   * Failed liveness probes in a row before the kubelet restarts the container.
   * @default 3
   */
  readonly livenessFailureThreshold?: number;

  /**
   * Time a probe waits for an answer, whole seconds.
   * @default Duration.seconds(1)
   */
  readonly probeTimeout?: Duration;

  /**
   * Time the server keeps serving after SIGTERM while `/health` answers 503 (the `DRAIN_SECONDS` environment
   * variable), so clients and load balancers stop sending before the listener closes. 0 to 3600 whole seconds.
   * @default Duration.seconds(5)
   */
  readonly drainPeriod?: Duration;

  /**
   * Time Kubernetes waits after SIGTERM before it kills the container, whole seconds. Longer than `drainPeriod`.
   * @default - `drainPeriod` + 15 s: the drain, then up to 10 s for a stalled write (the server's
   *   HEADER_TIMEOUT_SECONDS), 2 s of close linger and 3 s of slack
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * Labels added to every object and to the pods. Cannot set `app.kubernetes.io/name` or
   * `app.kubernetes.io/instance`, which the selectors use (set `name` instead); can set
   * `app.kubernetes.io/managed-by`, which is otherwise `cdk8s`.
   * @default - only the app.kubernetes.io labels
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations added to every object but the pods (for example a cloud provider's load balancer settings).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };

  /**
   * Annotations added to the pod template. Changing them rolls the pods.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * Whether to create a PodDisruptionBudget that lets voluntary disruptions (node drains) take at most one pod
   * at a time.
   * @default - true when there can be more than one pod (`replicas` or `autoscaling.maxReplicas` above 1)
   */
  readonly podDisruptionBudget?: boolean;

  /**
   * Whether to spread the pods evenly across nodes (a topologySpreadConstraint on `kubernetes.io/hostname`, skew 1).
   * A preference (`ScheduleAnyway`), so pods still schedule when there are fewer nodes than pods.
   * @default - true when there can be more than one pod (`replicas` or `autoscaling.maxReplicas` above 1)
   */
  readonly topologySpread?: boolean;

  /**
   * Whether to create a NetworkPolicy that admits traffic to the pods only on `containerPort` (TCP), from anywhere.
   * It takes effect only where the cluster's network plugin enforces NetworkPolicies.
   * @default false
   */
  readonly networkPolicy?: boolean;

  /**
   * Prometheus metrics: the scrape annotations, a ServiceMonitor, a port of their own, or none. By default
   * `/metrics` is served on `containerPort` and so is public wherever the serving port is (an Ingress, an
   * HTTPRoute, a LoadBalancer or a node port): set `metrics.port` to a port of its own to keep it off the Ingress
   * and HTTPRoute, and see there what a NODE_PORT or LOAD_BALANCER Service then exposes.
   * @default - the server serves `/metrics` on `containerPort`; no annotations, no ServiceMonitor
   */
  readonly metrics?: AsmWebServiceMetrics;

  /**
   * Whether the server writes an access log (the `ACCESS_LOG=json` environment variable): one JSON object per line
   * on stdout for every response (time, remote address and port, method, path, version, status, bytes,
   * duration_us) and for its lifecycle events (start, drain_begun, drain_ended, worker_replaced, exit), which the
   * container runtime keeps as the pod's log (`kubectl logs`) for a log agent to collect. With it, stdout carries
   * only JSON lines: the start event replaces the plain "listening on" line.
   * @default false
   */
  readonly accessLog?: boolean;

  /**
   * A HorizontalPodAutoscaler between `minReplicas` and `maxReplicas` on CPU use; the Deployment then carries no
   * replica count.
   * @default - a fixed number of pods, `replicas`
   */
  readonly autoscaling?: AsmWebServiceAutoscaling;

  /**
   * An Ingress to the Service.
   * @default - no Ingress
   */
  readonly ingress?: AsmWebServiceIngress;

  /**
   * A Gateway API HTTPRoute to the Service.
   * @default - no HTTPRoute
   */
  readonly httpRoute?: AsmWebServiceHttpRoute;
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
const DEFAULT_CONTAINER_PORT = 8080;
const DEFAULT_REPLICAS = 2;
/** The path of the server's Prometheus metrics. */
const METRICS_PATH = '/metrics';
/** The Prometheus Operator's API version of ServiceMonitor. */
const SERVICE_MONITOR_API_VERSION = 'monitoring.coreos.com/v1';
/** The pod annotations Prometheus' kubernetes_sd example configuration reads. */
const SCRAPE_ANNOTATIONS = ['prometheus.io/scrape', 'prometheus.io/port', 'prometheus.io/path'];
/** The Gateway API version the HTTPRoute is written for (GA in Gateway API v1.0.0). */
const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';

const NAME_LABEL = 'app.kubernetes.io/name';
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

const SERVICE_TYPES = [kplus.ServiceType.CLUSTER_IP, kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER];

/** Props of the first version, which took plain numbers. */
const RENAMED_PROPS = {
  cpuRequestMillis: "'cpuRequest' (a kplus.Cpu)",
  cpuLimitMillis: "'cpuLimit' (a kplus.Cpu)",
  memoryRequestMiB: "'memoryRequest' (a Size)",
  memoryLimitMiB: "'memoryLimit' (a Size)",
  readinessPeriodSeconds: "'readinessPeriod' (a Duration)",
  livenessPeriodSeconds: "'livenessPeriod' (a Duration)",
  probeTimeoutSeconds: "'probeTimeout' (a Duration)",
  drainSeconds: "'drainPeriod' (a Duration)",
  terminationGracePeriodSeconds: "'terminationGracePeriod' (a Duration)",
};

/**
 * The assembly HTTP server on Kubernetes: a Deployment with /health probes and a hardened pod, a Service in front
 * of it, and with more than one pod a PodDisruptionBudget and a spread across nodes; opt-in, an autoscaler, a
 * NetworkPolicy, an Ingress and an HTTPRoute. Objects are named by `name`, the selectors use only
 * `app.kubernetes.io/name` and `app.kubernetes.io/instance`, and the pod label cdk8s-plus adds
 * (`cdk8s.io/metadata.addr`, by default a hash of the construct's path) is set to `name`, so moving the construct
 * within an app changes no object: no pod restarts.
 */
export class AsmWebService extends Construct {
  /** The Deployment; add containers, volumes or scheduling rules through it, or pass it as a cdk8s-plus selector. */
  public readonly deployment: kplus.Deployment;
  /** The server's container in the Deployment. */
  public readonly container: kplus.Container;
  /** The Service in front of the pods. */
  public readonly service: kplus.Service;
  /** The PodDisruptionBudget, when there is one. */
  public readonly podDisruptionBudget?: kplus.k8s.KubePodDisruptionBudget;
  /** The HorizontalPodAutoscaler, with `autoscaling`. */
  public readonly horizontalPodAutoscaler?: kplus.HorizontalPodAutoscaler;
  /** The NetworkPolicy, with `networkPolicy`. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** The Ingress, with `ingress`. */
  public readonly ingress?: kplus.Ingress;
  /** The HTTPRoute (gateway.networking.k8s.io/v1), with `httpRoute`. */
  public readonly httpRoute?: ApiObject;
  /** The ServiceMonitor (a Prometheus Operator custom resource, so an ApiObject), when `metrics.serviceMonitor`. */
  public readonly serviceMonitor?: ApiObject;
  /** The container port where the pods serve `/metrics`; undefined when `metrics.enabled` is false. */
  public readonly metricsPort?: number;
  /** Name of every object (and the `app.kubernetes.io/instance` label). */
  public readonly name: string;
  /** The namespace of every object, when one is known at synth time. */
  public readonly namespace?: string;
  /** The port the server listens on in the pod. */
  public readonly containerPort: number;
  /** The Service's port. */
  public readonly servicePort: number;
  /**
   * The in-cluster URL, `http://NAME.NAMESPACE.svc[:PORT]`; `http://NAME[:PORT]` (same namespace only) when the
   * namespace is left to kubectl. The port is left out when it is 80.
   */
  public readonly url: string;
  private readonly selector: { [key: string]: string };

  constructor(scope: Construct, id: string, props: AsmWebServiceProps) {
    super(scope, id);

    if (typeof props !== 'object' || props === null) {
      throw new Error(`'props' must be an object with at least 'image', got ${JSON.stringify(props)}`);
    }
    rejectRenamedProps(props, RENAMED_PROPS);
    const image = validateImage(props.image);
    const name = validateDns1035Label('name', props.name ?? APP_NAME);
    if (props.namespace !== undefined) validateDns1123Label('namespace', props.namespace);
    const namespace = props.namespace ?? Chart.of(this).namespace;
    const autoscaling = props.autoscaling === undefined ? undefined : validateAutoscaling(props.autoscaling);
    if (autoscaling && props.replicas !== undefined) {
      throw new Error(`'replicas' cannot be set with 'autoscaling', whose autoscaler sets the number of pods (use 'autoscaling.minReplicas')`);
    }
    const replicas = props.replicas === undefined ? undefined : validateInteger('replicas', props.replicas, 1, 1_000_000);
    const mostPods = autoscaling?.maxReplicas ?? replicas ?? DEFAULT_REPLICAS;
    const containerPort = validateInteger(
      'containerPort', props.containerPort ?? DEFAULT_CONTAINER_PORT, 1024, 65535,
      ' (the server runs as non-root uid 65532 without capabilities, so it cannot bind ports below 1024)',
    );
    const servicePort = validateInteger('servicePort', props.servicePort ?? containerPort, 1, 65535);
    const serviceType = props.serviceType ?? kplus.ServiceType.CLUSTER_IP;
    if (!SERVICE_TYPES.includes(serviceType)) {
      throw new Error(`'serviceType' must be ServiceType.CLUSTER_IP, NODE_PORT or LOAD_BALANCER, got ${JSON.stringify(serviceType)}`);
    }
    if (props.nodePort !== undefined) {
      if (serviceType === kplus.ServiceType.CLUSTER_IP) {
        throw new Error(`'nodePort' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got 'serviceType' CLUSTER_IP`);
      }
      validateInteger('nodePort', props.nodePort, 1, 65535);
    }
    const cpuRequest = props.cpuRequest ?? kplus.Cpu.millis(10);
    const cpuRequestMillis = validateMillicores('cpuRequest', cpuRequest, 1, 1_000_000);
    if (props.cpuLimit !== undefined) {
      validateMillicores('cpuLimit', props.cpuLimit, cpuRequestMillis, 1_000_000, ` (at least 'cpuRequest')`);
    }
    const memoryRequestMiB = validateMebibytes('memoryRequest', props.memoryRequest ?? Size.mebibytes(8), 1, 1_048_576);
    const memoryLimitMiB = validateMebibytes(
      'memoryLimit', props.memoryLimit ?? Size.mebibytes(256), memoryRequestMiB, 1_048_576, ` (at least 'memoryRequest')`,
    );
    const readinessPeriod = validateSeconds('readinessPeriod', props.readinessPeriod ?? Duration.seconds(2), 1, 3600);
    const readinessFailureThreshold = validateInteger('readinessFailureThreshold', props.readinessFailureThreshold ?? 1, 1, 1000);
    const livenessPeriod = validateSeconds('livenessPeriod', props.livenessPeriod ?? Duration.seconds(10), 1, 3600);
    const livenessFailureThreshold = validateInteger('livenessFailureThreshold', props.livenessFailureThreshold ?? 3, 1, 1000);
    const probeTimeout = validateSeconds('probeTimeout', props.probeTimeout ?? Duration.seconds(1), 1, 3600);
    const drainSeconds = validateSeconds('drainPeriod', props.drainPeriod ?? Duration.seconds(5), 0, 3600);
    const terminationGraceSeconds = validateSeconds(
      'terminationGracePeriod', props.terminationGracePeriod ?? Duration.seconds(drainSeconds + GRACE_AFTER_DRAIN_SECONDS),
      drainSeconds + 1, 1_000_000, ` (longer than 'drainPeriod' ${drainSeconds} s, else the server is killed mid-drain)`,
    );
    const extraLabels = validateLabels('labels', props.labels ?? {}, [NAME_LABEL, INSTANCE_LABEL]);
    const annotations = validateAnnotations('annotations', props.annotations ?? {});
    const podAnnotations = { ...validateAnnotations('podAnnotations', props.podAnnotations ?? {}) };
    // `null` is checked (and rejected) as given, not taken for unset.
    const metrics = validateMetrics(
      props.metrics === undefined ? {} : props.metrics, props.metrics !== undefined, containerPort, servicePort,
    );
    if (metrics.scrapeAnnotations) {
      const taken = SCRAPE_ANNOTATIONS.filter((key) => key in podAnnotations);
      if (taken.length > 0) {
        throw new Error(`'podAnnotations' sets ${taken.join(', ')}, which 'metrics.scrapeAnnotations' writes (set 'metrics.scrapeAnnotations' to false to write them yourself)`);
      }
      podAnnotations[SCRAPE_ANNOTATIONS[0]] = 'true';
      podAnnotations[SCRAPE_ANNOTATIONS[1]] = String(metrics.port);
      podAnnotations[SCRAPE_ANNOTATIONS[2]] = METRICS_PATH;
    }
    const accessLog = props.accessLog === undefined ? false : validateBoolean('accessLog', props.accessLog);
    for (const prop of ['podDisruptionBudget', 'topologySpread', 'networkPolicy'] as const) {
      if (props[prop] !== undefined) validateBoolean(prop, props[prop]);
    }
    const ingress = props.ingress === undefined ? undefined : validateIngress(props.ingress);
    const httpRoute = props.httpRoute === undefined ? undefined : validateHttpRoute(props.httpRoute);
    this.checkNameIsFree(name, namespace);

    this.name = name;
    this.namespace = namespace;
    this.containerPort = containerPort;
    this.servicePort = servicePort;
    this.metricsPort = metrics.port;
    const ownMetricsPort = metrics.port !== undefined && metrics.port !== containerPort;
    // In key order, as cdk8s writes maps, also where a JSON patch adds them after the sort.
    this.selector = { [INSTANCE_LABEL]: name, [NAME_LABEL]: APP_NAME };
    // managed-by says cdk8s unless the app names another manager (Helm, Argo CD, ...).
    const labels = { [MANAGED_BY_LABEL]: 'cdk8s', ...extraLabels, ...this.selector };
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
      replicas,
      // Select by the app.kubernetes.io labels alone, not cdk8s-plus's cdk8s.io/metadata.addr label.
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
      terminationGracePeriod: Duration.seconds(terminationGraceSeconds),
      containers: [],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selector }));
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
        timeoutSeconds: Duration.seconds(probeTimeout),
      });
    this.container = this.deployment.addContainer({
      name: 'server',
      image,
      // `ports` rather than `portNumber`: the latter makes cdk8s-plus add a TCP startup probe, which the server
      // (listening within milliseconds of start) does not need.
      ports: [
        { number: containerPort, name: 'http' },
        ...(ownMetricsPort ? [{ number: metrics.port!, name: 'metrics' }] : []),
      ],
      envVariables: {
        PORT: kplus.EnvValue.fromValue(String(containerPort)),
        DRAIN_SECONDS: kplus.EnvValue.fromValue(String(drainSeconds)),
        // Unset, the server serves /metrics on PORT.
        ...(metrics.port === containerPort ? {} : { METRICS_PORT: kplus.EnvValue.fromValue(String(metrics.port ?? 0)) }),
        // Unset, the server writes no access log.
        ...(accessLog ? { ACCESS_LOG: kplus.EnvValue.fromValue('json') } : {}),
      },
      // The digest pins the content, so a cached copy is always the right one.
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      readiness: healthProbe(readinessPeriod, readinessFailureThreshold),
      liveness: healthProbe(livenessPeriod, livenessFailureThreshold),
      resources: {
        cpu: { request: cpuRequest, limit: props.cpuLimit },
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

    if (props.topologySpread ?? mostPods > 1) {
      // cdk8s-plus-28 writes no topologySpreadConstraints (its `spread` is pod anti-affinity), so patch the object.
      ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [{
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: this.selectorLabels },
        // Count only the pods of the same rollout (ReplicaSet), so a rolling update spreads the new pods too.
        matchLabelKeys: ['pod-template-hash'],
      }]));
    }

    this.service = new kplus.Service(this, 'service', {
      metadata,
      type: serviceType,
      ports: [
        { name: 'http', port: servicePort, targetPort: containerPort, nodePort: props.nodePort },
        ...(ownMetricsPort ? [{ name: 'metrics', port: metrics.port!, targetPort: metrics.port! }] : []),
      ],
    });
    // Not `selector: this.deployment`: cdk8s-plus would select by its cdk8s.io/metadata.addr label.
    for (const [key, value] of Object.entries(this.selector)) this.service.selectLabel(key, value);

    if (props.podDisruptionBudget ?? mostPods > 1) {
      this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata,
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: this.selectorLabels },
          // A pod that is not ready serves nothing, so evicting it never costs capacity.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      });
    }

    this.horizontalPodAutoscaler = autoscaling && this.newAutoscaler(autoscaling, metadata);
    this.networkPolicy = props.networkPolicy ? this.newNetworkPolicy(metadata) : undefined;
    this.ingress = ingress && this.newIngress(ingress, metadata);
    this.httpRoute = httpRoute && this.newHttpRoute(httpRoute, metadata);
    this.serviceMonitor = metrics.serviceMonitor
      ? this.newServiceMonitor(ownMetricsPort ? 'metrics' : 'http', metrics.scrapeInterval, metadata)
      : undefined;
  }

  /** The labels the Deployment, the Service, the PodDisruptionBudget and the NetworkPolicy select pods by (a copy). */
  public get selectorLabels(): { [key: string]: string } {
    return { ...this.selector };
  }

  /** The HorizontalPodAutoscaler of `autoscaling`, with Kubernetes' default behaviour but the windows given. */
  private newAutoscaler(autoscaling: CheckedAutoscaling, metadata: ApiObjectMetadata): kplus.HorizontalPodAutoscaler {
    // The policies of k8s.io/kubernetes pkg/apis/autoscaling/v2/defaults.go (cdk8s-plus's own defaults differ).
    const everyFifteenSeconds = (replicasChange: kplus.Replicas) => ({ replicas: replicasChange, duration: Duration.seconds(15) });
    return new kplus.HorizontalPodAutoscaler(this, 'hpa', {
      metadata,
      target: this.deployment,
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(autoscaling.targetCpuUtilizationPercent))],
      scaleUp: {
        stabilizationWindow: autoscaling.scaleUpStabilization,
        strategy: kplus.ScalingStrategy.MAX_CHANGE,
        policies: [everyFifteenSeconds(kplus.Replicas.absolute(4)), everyFifteenSeconds(kplus.Replicas.percent(100))],
      },
      scaleDown: {
        stabilizationWindow: autoscaling.scaleDownStabilization,
        strategy: kplus.ScalingStrategy.MAX_CHANGE,
        policies: [everyFifteenSeconds(kplus.Replicas.percent(100))],
      },
    });
  }

  /** A ServiceMonitor that has the Prometheus Operator scrape /metrics on a named port of the Service. */
  private newServiceMonitor(portName: string, intervalSeconds: number | undefined, metadata: ApiObjectMetadata): ApiObject {
    return new ApiObject(this, 'service-monitor', {
      apiVersion: SERVICE_MONITOR_API_VERSION,
      kind: 'ServiceMonitor',
      metadata,
      spec: {
        selector: { matchLabels: this.selectorLabels },
        endpoints: [{ port: portName, path: METRICS_PATH, interval: intervalSeconds === undefined ? undefined : `${intervalSeconds}s` }],
      },
    });
  }

  /** A NetworkPolicy that admits traffic to the pods from any source, but only to the serving (and metrics) port. */
  private newNetworkPolicy(metadata: ApiObjectMetadata): kplus.k8s.KubeNetworkPolicy {
    return new kplus.k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata,
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: [{
          ports: [...new Set([this.containerPort, this.metricsPort ?? this.containerPort])].map((port) => ({
            protocol: 'TCP',
            port: kplus.k8s.IntOrString.fromNumber(port),
          })),
        }],
      },
    });
  }

  /** An Ingress that sends a host's path prefix to the Service port. */
  private newIngress(ingress: AsmWebServiceIngress, metadata: ApiObjectMetadata): kplus.Ingress {
    const backend = kplus.IngressBackend.fromService(this.service, { port: this.servicePort });
    return new kplus.Ingress(this, 'ingress', {
      metadata,
      className: ingress.className,
      rules: [{ host: ingress.host, path: ingress.path ?? '/', pathType: kplus.HttpIngressPathType.PREFIX, backend }],
      tls: ingress.tlsSecretName === undefined ? undefined : [{
        hosts: ingress.host === undefined ? undefined : [ingress.host],
        secret: kplus.Secret.fromSecretName(this, 'tls-secret', ingress.tlsSecretName),
      }],
    });
  }

  /** An HTTPRoute (a Gateway API custom resource, so an ApiObject) from a Gateway to the Service port. */
  private newHttpRoute(route: AsmWebServiceHttpRoute, metadata: ApiObjectMetadata): ApiObject {
    return new ApiObject(this, 'http-route', {
      apiVersion: HTTP_ROUTE_API_VERSION,
      kind: 'HTTPRoute',
      metadata,
      spec: {
        parentRefs: [{ name: route.gatewayName, namespace: route.gatewayNamespace, sectionName: route.sectionName }],
        hostnames: route.hostnames,
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: route.path ?? '/' } }],
          backendRefs: [{ name: this.name, port: this.servicePort }],
        }],
      },
    });
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

/** `autoscaling` with its defaults filled in. */
interface CheckedAutoscaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly targetCpuUtilizationPercent: number;
  readonly scaleUpStabilization: Duration;
  readonly scaleDownStabilization: Duration;
}

/** `autoscaling` with its defaults filled in, every field checked. */
function validateAutoscaling(autoscaling: AsmWebServiceAutoscaling): CheckedAutoscaling {
  validateKnownKeys('autoscaling', autoscaling, [
    'minReplicas', 'maxReplicas', 'targetCpuUtilizationPercent', 'scaleUpStabilization', 'scaleDownStabilization',
  ]);
  const minReplicas = validateInteger('autoscaling.minReplicas', autoscaling.minReplicas ?? DEFAULT_REPLICAS, 1, 1_000_000);
  const maxReplicas = validateInteger(
    'autoscaling.maxReplicas', autoscaling.maxReplicas, minReplicas, 1_000_000, ` (at least 'autoscaling.minReplicas')`,
  );
  const targetCpuUtilizationPercent = validateInteger(
    'autoscaling.targetCpuUtilizationPercent', autoscaling.targetCpuUtilizationPercent ?? 80, 1, 1000,
  );
  const window = (prop: 'scaleUpStabilization' | 'scaleDownStabilization', fallback: Duration) =>
    Duration.seconds(validateSeconds(`autoscaling.${prop}`, autoscaling[prop] ?? fallback, 0, 3600));
  return {
    minReplicas,
    maxReplicas,
    targetCpuUtilizationPercent,
    scaleUpStabilization: window('scaleUpStabilization', Duration.seconds(0)),
    scaleDownStabilization: window('scaleDownStabilization', Duration.minutes(5)),
  };
}

/** `metrics` checked, with its defaults filled in: `port` undefined when the server serves no metrics. */
interface CheckedMetrics {
  readonly port?: number;
  readonly scrapeAnnotations: boolean;
  readonly serviceMonitor: boolean;
  readonly scrapeInterval?: number;
}

function validateMetrics(metrics: AsmWebServiceMetrics, given: boolean, containerPort: number, servicePort: number): CheckedMetrics {
  if (typeof metrics !== 'object' || metrics === null) {
    throw new Error(`'metrics' must be an object, got ${JSON.stringify(metrics)}`);
  }
  validateKnownKeys('metrics', metrics, ['enabled', 'port', 'scrapeAnnotations', 'serviceMonitor', 'scrapeInterval']);
  for (const setting of ['enabled', 'scrapeAnnotations', 'serviceMonitor'] as const) {
    if (metrics[setting] !== undefined) validateBoolean(`metrics.${setting}`, metrics[setting]);
  }
  if (metrics.enabled === false) {
    const others = Object.keys(metrics).filter((key) => key !== 'enabled' && (metrics as { [key: string]: unknown })[key] !== undefined);
    if (others.length > 0) throw new Error(`'metrics.enabled' is false: 'metrics.${others[0]}' has nothing to apply to`);
    return { scrapeAnnotations: false, serviceMonitor: false };
  }
  const port = validateInteger(
    'metrics.port', metrics.port ?? containerPort, 1024, 65535,
    ' (the server runs as non-root uid 65532 without capabilities, so it cannot bind ports below 1024)',
  );
  if (port !== containerPort && port === servicePort) {
    throw new Error(
      `'metrics.port' cannot be 'servicePort' (${servicePort}) while 'containerPort' is ${containerPort}: the Service would have ` +
        `two ports ${servicePort} ('http' and 'metrics'), which the API server rejects (set 'metrics.port' to another port, ` +
        `or to 'containerPort' to serve /metrics on the serving port)`,
    );
  }
  const serviceMonitor = metrics.serviceMonitor ?? false;
  if (metrics.scrapeInterval !== undefined && !serviceMonitor) {
    throw new Error(`'metrics.scrapeInterval' is the ServiceMonitor's: it needs 'metrics.serviceMonitor' true`);
  }
  return {
    port,
    // Only an app that asks for metrics gets the annotations: adding them to existing pods would roll them.
    scrapeAnnotations: metrics.scrapeAnnotations ?? given,
    serviceMonitor,
    scrapeInterval: metrics.scrapeInterval === undefined ? undefined : validateSeconds('metrics.scrapeInterval', metrics.scrapeInterval, 1, 3600),
  };
}

function validateIngress(ingress: AsmWebServiceIngress): AsmWebServiceIngress {
  validateKnownKeys('ingress', ingress, ['className', 'host', 'path', 'tlsSecretName']);
  if (ingress.className !== undefined) validateDns1123Subdomain('ingress.className', ingress.className);
  if (ingress.host !== undefined) validateHostname('ingress.host', ingress.host);
  if (ingress.path !== undefined) validatePath('ingress.path', ingress.path);
  if (ingress.tlsSecretName !== undefined) {
    validateDns1123Subdomain('ingress.tlsSecretName', ingress.tlsSecretName);
    if (ingress.host === undefined) {
      throw new Error(`'ingress.tlsSecretName' needs 'ingress.host': a certificate is for named hosts`);
    }
  }
  return ingress;
}

function validateHttpRoute(route: AsmWebServiceHttpRoute): AsmWebServiceHttpRoute {
  validateKnownKeys('httpRoute', route, ['gatewayName', 'gatewayNamespace', 'sectionName', 'hostnames', 'path']);
  validateDns1123Subdomain('httpRoute.gatewayName', route.gatewayName);
  if (route.gatewayNamespace !== undefined) validateDns1123Label('httpRoute.gatewayNamespace', route.gatewayNamespace);
  if (route.sectionName !== undefined) validateDns1123Subdomain('httpRoute.sectionName', route.sectionName);
  if (route.hostnames !== undefined) {
    if (!Array.isArray(route.hostnames) || route.hostnames.length < 1 || route.hostnames.length > 16) {
      throw new Error(`'httpRoute.hostnames' must list 1 to 16 host names, got ${JSON.stringify(route.hostnames)}`);
    }
    route.hostnames.forEach((hostname, index) => validateHostname(`httpRoute.hostnames[${index}]`, hostname));
  }
  if (route.path !== undefined) validatePath('httpRoute.path', route.path);
  return route;
}
