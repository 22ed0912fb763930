// End to end on a real cluster (issue 5): the user's path `cdk8s synth` then `kubectl apply -f dist`, on the
// single-node cluster of scripts/cluster/ (real etcd, apiserver, scheduler, controller-manager, kubelet, kube-proxy,
// containerd), with the image built and pushed by `npm run build:image` and pulled by its index digest.
// The set-up brings the cluster up (building it from source on a fresh machine: up to ~30 min), the tear-down
// removes everything again (KEEP_CLUSTER=1 keeps the cluster running for the next run).
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterInfo,
  type Kubectl,
  kubectlFor,
  npmRun,
  portForward,
  readClusterInfo,
  repoRoot,
  secondsSince,
  sleep,
  startLoad,
} from './cluster.js';

/** The rollout of two pods (one surge pod at a time, each Ready through its probe) must finish within this. */
const ROLLOUT_BOUND_SECONDS = 120;
/** A deleted pod's replacement must be Ready within this. */
const REPLACEMENT_BOUND_SECONDS = 60;

interface PlatformImage {
  manifestDigest: string;
  imageId: string;
  binarySize: number;
  imageSize: number;
}
interface ImageJson {
  image: string;
  indexDigest: string;
  platforms: Record<string, PlatformImage>;
}

const outputDir = path.join(repoRoot, 'test-output/e2e');
const imageJsonPath = path.join(outputDir, 'image.json');
const distDir = path.join(outputDir, 'dist');
const namespace = `asm-e2e-${Date.now().toString(36)}`;
const timings: Record<string, number> = {};
let anyCheckFailed = false;

let cluster: ClusterInfo;
let kubectl: Kubectl;
let image: ImageJson;
let platformImage: PlatformImage;
let serviceUrl: string;
let applyOutput: string;
let page: string;
/** From the applied manifests: the Deployment's and Service's name, replicas, the pods' selector, the port. */
let app: string;
let replicas: number;
let podSelector: string;
let servicePort: number;

describe('cdk8s synth, kubectl apply -f dist on a real single-node cluster', () => {
  beforeAll(async () => {
    try {
      await deploy();
    } catch (error) {
      anyCheckFailed = true;
      throw error;
    }
  }, 75 * 60_000);

  /** Cluster up, image built and pushed, manifests synthesized and applied. */
  async function deploy(): Promise<void> {
    const started = performance.now();
    timings.clusterUpSeconds = await npmRun('cluster:up', 60 * 60);
    cluster = readClusterInfo();
    kubectl = kubectlFor(cluster);

    // The image: built for every platform, pushed to the cluster's registry, joined in an index.
    mkdirSync(outputDir, { recursive: true });
    timings.buildImageSeconds = await npmRun('build:image', 10 * 60, { IMAGE_JSON: imageJsonPath });
    image = JSON.parse(readFileSync(imageJsonPath, 'utf8')) as ImageJson;
    expect(image.image).toMatch(new RegExp(`^${cluster.registry.replace(/\./g, '\\.')}/.+@sha256:[0-9a-f]{64}$`));
    platformImage = image.platforms[cluster.platform];
    expect(platformImage, `build/image.json has no ${cluster.platform} entry`).toBeDefined();

    // The user's path: synthesize with the index digest, apply the folder into a namespace that enforces
    // Pod Security "restricted" (warn and audit too, so any violation would also show in apply's output).
    rmSync(distDir, { recursive: true, force: true });
    // `npm run synth` is `cdk8s synth`; the output goes to our own folder, not the shared dist/.
    await execa('npm', ['run', '--silent', 'synth', '--', '--output', distDir], { cwd: repoRoot, env: { IMAGE: image.image } });
    await kubectl('create', 'namespace', namespace);
    await kubectl(
      'label', 'namespace', namespace,
      'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest',
      'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/audit=restricted',
    );
    const applied = await kubectl.full(['apply', '-n', namespace, '-f', distDir]);
    applyOutput = `${applied.stdout}\n${applied.stderr}`;
    const objects = (await kubectl.json<any>('get', '-n', namespace, '-f', distDir)).items as any[];
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const service = objects.find((o) => o.kind === 'Service');
    app = deployment.metadata.name;
    expect(service.metadata.name).toBe(app);
    replicas = deployment.spec.replicas;
    podSelector = Object.entries(deployment.spec.selector.matchLabels as Record<string, string>)
      .map(([key, value]) => `${key}=${value}`).join(',');
    servicePort = service.spec.ports[0].port;
    timings.deploySetupSeconds = secondsSince(started);
  }

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') anyCheckFailed = true;
  });

  afterAll(async () => {
    if (anyCheckFailed && kubectl) {
      // What the cluster saw, for the post-mortem: the namespace's events and each component's log tail.
      const events = await kubectl('get', 'events', '-n', namespace, '--sort-by=.lastTimestamp').catch((e: Error) => e.message);
      process.stderr.write(`[e2e] events in ${namespace}:\n${events}\n`);
      await execa('bash', [path.join(repoRoot, 'scripts/cluster/logs.sh')], { stdout: 'inherit', stderr: 'inherit', reject: false });
    }
    if (kubectl) {
      await kubectl('delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', '--timeout=120s').catch(() => undefined);
    }
    if (process.env.KEEP_CLUSTER !== '1') {
      timings.clusterDownSeconds = await npmRun('cluster:down', 6 * 60);
    }
    process.stderr.write(`[e2e] timings: ${JSON.stringify(timings)}\n`);
  }, 10 * 60_000);

  it('synthesized the index digest into the manifests and applied them without Pod Security warnings', () => {
    const manifests = readdirSync(distDir).map((file) => readFileSync(path.join(distDir, file), 'utf8')).join('\n');
    expect(manifests).toContain(`image: ${image.image}`);
    expect(applyOutput).toMatch(/deployment\.apps\/\S+ created/);
    expect(applyOutput).toMatch(/service\/\S+ created/);
    expect(applyOutput).not.toMatch(/violate PodSecurity|Warning:/);
  });

  it('the namespace really enforces Pod Security "restricted": a privileged pod is refused', async () => {
    const privilegedPod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged-probe', namespace },
      spec: { containers: [{ name: 'c', image: image.image, securityContext: { privileged: true } }] },
    });
    const refused = await execa(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, 'apply', '--dry-run=server', '-f', '-'], {
      input: privilegedPod,
      reject: false,
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  it('the Deployment becomes Available, its pods Ready through the kubelet\'s HTTP probes on /health', async () => {
    await kubectl('wait', '-n', namespace, `deployment/${app}`, '--for=condition=Available', '--timeout=180s');
    const pods = await kubectl.json<any>('get', 'pods', '-n', namespace, '-l', podSelector);
    expect(pods.items.length).toBe(replicas);
    expect(replicas).toBeGreaterThanOrEqual(2); // else a rollout or a deleted pod could not keep serving
    for (const pod of pods.items) {
      const server = pod.spec.containers.find((c: any) => c.name === 'server');
      expect(server.readinessProbe.httpGet).toMatchObject({ path: '/health' });
      expect(server.livenessProbe.httpGet).toMatchObject({ path: '/health' });
      expect(pod.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
      // Pulled by the index digest; the node picked its own platform's image from the index.
      const status = pod.status.containerStatuses.find((c: any) => c.name === 'server');
      expect(status.imageID).toContain(image.indexDigest);
      expect(status.restartCount).toBe(0);
      expect(pod.spec.securityContext.runAsUser ?? server.securityContext.runAsUser).toBe(65532);
    }
    // The kubelet's own count of successful HTTP readiness probes of these pods (its /metrics/probes).
    const probes = await kubectl('get', '--raw', `/api/v1/nodes/${cluster.node}/proxy/metrics/probes`);
    for (const pod of pods.items) {
      const line = probes.split('\n').find((l) =>
        l.startsWith('prober_probe_total{') && l.includes(`pod="${pod.metadata.name}"`) &&
        l.includes('probe_type="Readiness"') && l.includes('result="successful"'));
      expect(line, `no successful readiness probe of ${pod.metadata.name} in the kubelet's metrics`).toBeDefined();
      expect(Number(line!.split(' ').pop())).toBeGreaterThan(0);
    }
    const service = await kubectl.json<any>('get', 'service', '-n', namespace, app);
    expect(service.spec.type).toBe('ClusterIP');
    serviceUrl = `http://${service.spec.clusterIP}:${servicePort}`;
    // kube-proxy programs the Service asynchronously (as on any cluster): until then the cluster IP refuses.
    const deadline = performance.now() + 30_000;
    let answer = '';
    while (performance.now() < deadline) {
      answer = await request(`${serviceUrl}/health`).then((r) => r.body.text(), (e: Error) => e.message);
      if (answer === 'OK') break;
      await sleep(200);
    }
    expect(answer, 'the Service\'s cluster IP did not answer within 30 s').toBe('OK');
  }, 240_000);

  it('GET / and GET /health through the Service\'s cluster IP (kube-proxy): status, headers, sizes on the page', async () => {
    const health = await request(`${serviceUrl}/health`);
    expect(health.statusCode).toBe(200);
    expect(health.headers).toMatchObject({
      'content-length': '2',
      'cache-control': 'no-store',
      'content-type': 'text/plain; charset=utf-8',
      connection: 'keep-alive',
    });
    expect(await health.body.text()).toBe('OK');

    const root = await request(`${serviceUrl}/`);
    expect(root.statusCode).toBe(200);
    page = await root.body.text();
    expect(root.headers).toMatchObject({
      'content-length': String(Buffer.byteLength(page)),
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'x-content-type-options': 'nosniff',
      'content-type': 'text/html; charset=utf-8',
      connection: 'keep-alive',
    });
    // The page the node's platform image serves states that image's sizes, as measured by build:image.
    const binary = /<dd id="binary-size">(\d+) bytes \((\d+\.\d\d) KiB\) *<\/dd>/.exec(page);
    const imageSize = /<dd id="image-size">(\d+) bytes \((\d+\.\d\d\d) MiB\) *<\/dd>/.exec(page);
    expect(binary, 'binary size field').not.toBeNull();
    expect(imageSize, 'image size field').not.toBeNull();
    expect(Number(binary![1])).toBe(platformImage.binarySize);
    expect(binary![2]).toBe((platformImage.binarySize / 1024).toFixed(2));
    expect(Number(imageSize![1])).toBe(platformImage.imageSize);
    expect(imageSize![2]).toBe((platformImage.imageSize / 1048576).toFixed(3));
    expect(page).toMatch(new RegExp(`<dd id="platform">${cluster.platform} *</dd>`));
  });

  it('GET / and GET /health through kubectl port-forward to the Service', async () => {
    const forward = await portForward(kubectl, namespace, `service/${app}`, servicePort);
    try {
      const health = await request(`${forward.url}/health`);
      expect(health.statusCode).toBe(200);
      expect(health.headers['cache-control']).toBe('no-store');
      expect(await health.body.text()).toBe('OK');
      const root = await request(`${forward.url}/`);
      expect(root.statusCode).toBe(200);
      expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(await root.body.text()).toBe(page);
    } finally {
      await forward.stop();
    }
  });

  it(`a rolling update under continuous load: no failed or reset request, done within ${ROLLOUT_BOUND_SECONDS} s`, async () => {
    const podsBefore = await podNames();
    const load = startLoad(`${serviceUrl}/`, page);
    await sleep(2_000);
    const started = performance.now();
    // Any change to the pod template rolls the Deployment.
    await kubectl('patch', 'deployment', app, '-n', namespace, '--type', 'merge', '-p',
      JSON.stringify({ spec: { template: { metadata: { annotations: { 'e2e.asm-web-service/rollout': String(Date.now()) } } } } }));
    await kubectl('rollout', 'status', '-n', namespace, `deployment/${app}`, `--timeout=${ROLLOUT_BOUND_SECONDS}s`);
    timings.rolloutSeconds = secondsSince(started);
    // Keep the load on while the old pods drain (DRAIN_SECONDS) and exit.
    await waitForPodsGone(podsBefore, 60);
    await sleep(2_000);
    const report = await load.stop();
    timings.rolloutRequestsOk = report.ok;
    timings.rolloutRequestsFailed = report.failed;
    process.stderr.write(`[e2e] rolling update: ${timings.rolloutSeconds} s, ${report.ok} requests ok, ${report.failed} failed over ${report.seconds} s\n`);

    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.ok).toBeGreaterThan(100);
    expect(timings.rolloutSeconds).toBeLessThanOrEqual(ROLLOUT_BOUND_SECONDS);
    const podsAfter = await podNames();
    expect(podsAfter).toHaveLength(replicas);
    expect(podsAfter.filter((name) => podsBefore.includes(name))).toEqual([]);
  }, (ROLLOUT_BOUND_SECONDS + 120) * 1000);

  it('a deleted pod is replaced by a Ready one while traffic never stops', async () => {
    const podsBefore = await podNames();
    const victim = podsBefore[0];
    const load = startLoad(`${serviceUrl}/`, page);
    await sleep(2_000);
    const started = performance.now();
    await kubectl('delete', 'pod', '-n', namespace, victim, '--wait=false');
    const deadline = performance.now() + REPLACEMENT_BOUND_SECONDS * 1000;
    let replacement: string | undefined;
    while (!replacement && performance.now() < deadline) {
      const pods = await kubectl.json<any>('get', 'pods', '-n', namespace, '-l', podSelector);
      replacement = pods.items.find((pod: any) => !podsBefore.includes(pod.metadata.name) &&
        pod.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))?.metadata.name;
      if (!replacement) await sleep(500);
    }
    timings.replacementReadySeconds = secondsSince(started);
    await waitForPodsGone([victim], 60);
    await sleep(2_000);
    const report = await load.stop();
    timings.deleteRequestsOk = report.ok;
    timings.deleteRequestsFailed = report.failed;
    process.stderr.write(`[e2e] pod deletion: replacement Ready in ${timings.replacementReadySeconds} s, ${report.ok} requests ok, ${report.failed} failed\n`);

    expect(replacement, `no Ready replacement within ${REPLACEMENT_BOUND_SECONDS} s`).toBeDefined();
    expect(report.failures).toEqual([]);
    expect(report.ok).toBeGreaterThan(100);
    await kubectl('wait', '-n', namespace, `deployment/${app}`, '--for=condition=Available', '--timeout=60s');
  }, (REPLACEMENT_BOUND_SECONDS + 120) * 1000);

  it('kubectl delete -f dist removes everything it created', async () => {
    await kubectl('delete', '-n', namespace, '-f', distDir, '--wait=true', '--timeout=120s');
    const deadline = performance.now() + 60_000;
    let left = '';
    do {
      left = await kubectl('get', 'deployments,replicasets,pods,services,poddisruptionbudgets,endpointslices', '-n', namespace,
        '-l', podSelector, '-o', 'name');
      if (left === '') break;
      await sleep(1_000);
    } while (performance.now() < deadline);
    expect(left).toBe('');
    // Nothing is left in the namespace but what Kubernetes itself puts in every namespace.
    const everything = await kubectl('get', 'all', '-n', namespace, '-o', 'name');
    expect(everything).toBe('');
  }, 240_000);
});

/** Names of the Deployment's pods that are not being deleted. */
async function podNames(): Promise<string[]> {
  const pods = await kubectl.json<any>('get', 'pods', '-n', namespace, '-l', podSelector);
  return pods.items.filter((pod: any) => !pod.metadata.deletionTimestamp).map((pod: any) => pod.metadata.name).sort();
}

/** Waits until none of `names` exists any more (terminated and removed). */
async function waitForPodsGone(names: string[], timeoutSeconds: number): Promise<void> {
  const deadline = performance.now() + timeoutSeconds * 1000;
  while (performance.now() < deadline) {
    const pods = await kubectl.json<any>('get', 'pods', '-n', namespace);
    if (!pods.items.some((pod: any) => names.includes(pod.metadata.name))) return;
    await sleep(1_000);
  }
  throw new Error(`pods ${names.join(', ')} still exist after ${timeoutSeconds} s`);
}
