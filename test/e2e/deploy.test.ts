// End to end on a real cluster (issue 5): the user's path `cdk8s synth` then `kubectl apply -f dist`, on the
// single-node cluster of scripts/cluster/ (real etcd, apiserver, scheduler, controller-manager, kubelet, kube-proxy,
// containerd), with the image built and pushed by `npm run build:image` and pulled by its index digest.
// The cluster runs in namespaces and a cgroup subtree of its own (issue 13): the last test brings it down and holds
// the host's iptables rules, routes, links, cgroups and runtime paths to what they were before cluster:up; the first
// two hold cluster:up to refusing an overlapping range and to cleaning up after itself when interrupted.
//
// Each test states what it needs by calling the step it depends on (cluster(), namespace(), deployment(), service()):
// each step runs once, on its first call, and every later caller gets its result, or its error, so a failed step
// reads as that step's failure in each test that needs it. Building the cluster from source on a fresh machine
// takes up to ~30 min, so the first test to need it gets that time. KEEP_CLUSTER=1 keeps the cluster running for
// the next run (and skips the host comparison).
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  type HostState,
  type Kubectl,
  type LoadReport,
  hostState,
  kubectlFor,
  lazy,
  npmRun,
  portForward,
  readClusterInfo,
  repoRoot,
  secondsSince,
  startLoad,
} from './cluster.js';

/** The rollout of two pods (one surge pod at a time, each Ready through its probe) must finish within this. */
const ROLLOUT_BOUND_SECONDS = 120;
/** A deleted pod's replacement must be Ready within this. */
const REPLACEMENT_BOUND_SECONDS = 60;
/** What the first test to need the cluster may spend on bringing it up (a cold build), the image and the deploy. */
const SETUP_MS = 75 * 60_000;
const keepCluster = process.env.KEEP_CLUSTER === '1';
/** The running cluster's folder (scripts/cluster/lib.sh's RUN_DIR). */
const clusterRunDir = '/run/asm-k8s';

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
const namespaceName = `asm-e2e-${Date.now().toString(36)}`;
const timings: Record<string, number> = {};
let anyCheckFailed = false;
let clusterRequested = false;
let clusterRemoved = false;

/**
 * The host's state right before cluster:up, then the cluster up (built from source on a fresh machine). The image is
 * built first: build:image starts the project's registry and runs Docker builds, whose lasting traces (the registry,
 * Docker's own cgroups) are not the cluster's; so the state is taken after them and the comparison is about the
 * cluster alone.
 */
const cluster = lazy(async () => {
  clusterRequested = true;
  await image();
  // A cluster left running (KEEP_CLUSTER=1 before) goes first, so the state taken is the host's without one.
  if (!keepCluster && existsSync(clusterRunDir)) await npmRun('cluster:down', 6 * 60);
  const before = await hostState();
  saveHostState('before-cluster-up', before);
  timings.clusterUpSeconds = await npmRun('cluster:up', 60 * 60);
  const info = readClusterInfo();
  return { info, kubectl: kubectlFor(info), hostBefore: before };
});

/** The image: built for every platform, pushed to the local registry (127.0.0.1:5000), joined in an index. */
const image = lazy(async () => {
  mkdirSync(outputDir, { recursive: true });
  timings.buildImageSeconds = await npmRun('build:image', 10 * 60, { IMAGE_JSON: imageJsonPath });
  return JSON.parse(readFileSync(imageJsonPath, 'utf8')) as ImageJson;
});

/** A namespace that enforces Pod Security "restricted" (warn and audit too, so violations show in apply's output). */
const namespace = lazy(async () => {
  const { kubectl } = await cluster();
  await kubectl('create', 'namespace', namespaceName);
  await kubectl(
    'label', 'namespace', namespaceName,
    'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest',
    'pod-security.kubernetes.io/warn=restricted', 'pod-security.kubernetes.io/audit=restricted',
  );
  // The controller manager adds the namespace's default ServiceAccount a moment later; until then the API server
  // refuses every pod for lack of it, before Pod Security is even asked.
  await kubectl('wait', '--for=create', '--timeout=60s', '-n', namespaceName, 'serviceaccount/default');
  return namespaceName;
});

/** The user's path: synthesize with the index digest, apply the folder. */
const deployment = lazy(async () => {
  const { kubectl } = await cluster();
  const { image: reference } = await image();
  const ns = await namespace();
  const started = performance.now();
  rmSync(distDir, { recursive: true, force: true });
  // `npm run synth` is `cdk8s synth`; the output goes to our own folder, not the shared dist/.
  await execa('npm', ['run', '--silent', 'synth', '--', '--output', distDir], { cwd: repoRoot, env: { IMAGE: reference } });
  const applied = await kubectl.full(['apply', '-n', ns, '-f', distDir]);
  const objects = (await kubectl.json<any>('get', '-n', ns, '-f', distDir)).items as any[];
  const deploymentObject = objects.find((o) => o.kind === 'Deployment');
  const serviceObject = objects.find((o) => o.kind === 'Service');
  timings.applySeconds = secondsSince(started);
  return {
    applyOutput: `${applied.stdout}\n${applied.stderr}`,
    app: deploymentObject.metadata.name as string,
    serviceName: serviceObject.metadata.name as string,
    replicas: deploymentObject.spec.replicas as number,
    podSelector: Object.entries(deploymentObject.spec.selector.matchLabels as Record<string, string>)
      .map(([key, value]) => `${key}=${value}`).join(','),
    servicePort: serviceObject.spec.ports[0].port as number,
  };
});

/** The Deployment Available and its Service answering on its cluster IP, from the host (through the veth). */
const service = lazy(async () => {
  const { kubectl } = await cluster();
  const { app, servicePort } = await deployment();
  await kubectl('wait', '-n', namespaceName, `deployment/${app}`, '--for=condition=Available', '--timeout=180s');
  const object = await kubectl.json<any>('get', 'service', '-n', namespaceName, app);
  const url = `http://${object.spec.clusterIP}:${servicePort}`;
  // kube-proxy programs the Service asynchronously (as on any cluster): until then the cluster IP refuses.
  await expect
    .poll(() => request(`${url}/health`).then((r) => r.body.text(), (e: Error) => e.message), {
      timeout: 30_000,
      interval: 200,
      message: "the Service's cluster IP did not answer within 30 s",
    })
    .toBe('OK');
  return { url, type: object.spec.type as string };
});

describe('cdk8s synth, kubectl apply -f dist on a real single-node cluster', () => {
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') anyCheckFailed = true;
  });

  afterAll(async () => {
    if (clusterRequested && !clusterRemoved) {
      await postMortem();
      if (keepCluster) await deleteNamespace();
      else timings.clusterDownSeconds = await npmRun('cluster:down', 6 * 60);
    }
    process.stderr.write(`[e2e] timings: ${JSON.stringify(timings)}\n`);
  }, 10 * 60_000);

  it('cluster:up refuses a Service range that overlaps a route of the host, naming the route, and changes nothing', async () => {
    // A route of the host's own: not the default one, not one on the cluster's veth (if a cluster runs).
    const route = (await execa('ip', ['-4', '-o', 'route', 'show'])).stdout.split('\n')
      .filter((line) => !line.startsWith('default') && !line.includes(' dev asmk8s-veth '))
      .map((line) => line.split(' ')[0])[0];
    expect(route, 'the host has no route but the default one').toBeDefined();
    // A /24 inside (or around) that route's destination: a valid Service range that overlaps it.
    const overlapping = `${route!.split('/')[0].split('.').slice(0, 3).join('.')}.0/24`;
    const before = await hostState();
    const refused = await execa('bash', [path.join(repoRoot, 'scripts/cluster/up.sh')], {
      env: { CLUSTER_SERVICE_CIDR: overlapping },
      reject: false,
    });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`CLUSTER_SERVICE_CIDR=${overlapping} overlaps the host's route to ${route}`);
    expect(await hostState()).toEqual(before);
  });

  it.skipIf(keepCluster)('an interrupted cluster:up removes what it created', async () => {
    if (existsSync(clusterRunDir)) await npmRun('cluster:down', 6 * 60);
    const before = await hostState();
    // No forced kill after the signal: the clean-up that follows it takes a while.
    const up = execa('bash', [path.join(repoRoot, 'scripts/cluster/up.sh')], { reject: false, forceKillAfterDelay: false });
    let progress = '';
    let ended = false;
    up.stderr?.on('data', (chunk: Buffer) => (progress += chunk.toString()));
    void up.then(() => (ended = true));
    // Halfway: namespaces, veth, cgroups, registry forwarders, containerd and etcd are up (a cold start builds first).
    await vi.waitFor(() => {
      if (ended) throw new Error(`cluster:up ended early:\n${progress}`);
      if (!progress.includes('starting kube-apiserver')) throw new Error(`cluster:up did not reach the apiserver:\n${progress}`);
    }, { timeout: SETUP_MS - 5 * 60_000, interval: 50 });
    up.kill('SIGTERM');
    const interrupted = await up;
    expect(interrupted.exitCode, progress).toBe(143);
    expect(interrupted.stderr).toContain('cluster:up failed (exit 143): removing what it created');
    expect(existsSync(clusterRunDir)).toBe(false);
    expect(await hostState()).toEqual(before);
  }, SETUP_MS);

  it('synthesized the index digest into the manifests and applied them without Pod Security warnings', async () => {
    const { info } = await cluster();
    const { image: reference, platforms } = await image();
    expect(platforms[info.platform], `${imageJsonPath} has no entry for the node's platform`).toBeDefined();
    const { applyOutput } = await deployment();
    const manifests = readdirSync(distDir).map((file) => readFileSync(path.join(distDir, file), 'utf8')).join('\n');
    expect(reference).toMatch(/^127\.0\.0\.1:5000\/.+@sha256:[0-9a-f]{64}$/);
    expect(manifests).toContain(`image: ${reference}`);
    expect(applyOutput).toMatch(/deployment\.apps\/\S+ created/);
    expect(applyOutput).toMatch(/service\/\S+ created/);
    expect(applyOutput).not.toMatch(/violate PodSecurity|Warning:/);
  }, SETUP_MS);

  it('the namespace really enforces Pod Security "restricted": a privileged pod is refused', async () => {
    const { kubectl } = await cluster();
    const ns = await namespace();
    const privilegedPod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged-probe', namespace: ns },
      // A dry run: the image is never pulled.
      spec: { containers: [{ name: 'c', image: '127.0.0.1:5000/pause:3.10', securityContext: { privileged: true } }] },
    });
    const refused = await kubectl.full(['apply', '--dry-run=server', '-f', '-'], { input: privilegedPod }).then(
      () => undefined,
      (error: Error & { stderr?: string }) => error,
    );
    expect(refused, 'the privileged pod was accepted').toBeDefined();
    expect(refused!.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
  }, SETUP_MS);

  it('the Deployment becomes Available, its pods Ready through the kubelet\'s HTTP probes on /health', async () => {
    const { kubectl, info } = await cluster();
    const { app, replicas, podSelector } = await deployment();
    const { indexDigest } = await image();
    await kubectl('wait', '-n', namespaceName, `deployment/${app}`, '--for=condition=Available', '--timeout=180s');
    const pods = await kubectl.json<any>('get', 'pods', '-n', namespaceName, '-l', podSelector);
    expect(pods.items.length).toBe(replicas);
    expect(replicas).toBeGreaterThanOrEqual(2); // else a rollout or a deleted pod could not keep serving
    for (const pod of pods.items) {
      const server = pod.spec.containers.find((c: any) => c.name === 'server');
      expect(server.readinessProbe.httpGet).toMatchObject({ path: '/health' });
      expect(server.livenessProbe.httpGet).toMatchObject({ path: '/health' });
      expect(pod.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
      // Pulled by the index digest; the node picked its own platform's image from the index.
      const status = pod.status.containerStatuses.find((c: any) => c.name === 'server');
      expect(status.imageID).toContain(indexDigest);
      expect(status.restartCount).toBe(0);
      expect(pod.spec.securityContext.runAsUser ?? server.securityContext.runAsUser).toBe(65532);
    }
    // The kubelet's own count of successful HTTP readiness probes of these pods (its /metrics/probes).
    const probes = await kubectl('get', '--raw', `/api/v1/nodes/${info.node}/proxy/metrics/probes`);
    for (const pod of pods.items) {
      const line = probes.split('\n').find((l) =>
        l.startsWith('prober_probe_total{') && l.includes(`pod="${pod.metadata.name}"`) &&
        l.includes('probe_type="Readiness"') && l.includes('result="successful"'));
      expect(line, `no successful readiness probe of ${pod.metadata.name} in the kubelet's metrics`).toBeDefined();
      expect(Number(line!.split(' ').pop())).toBeGreaterThan(0);
    }
  }, SETUP_MS);

  it('GET / and GET /health through the Service\'s cluster IP (kube-proxy): status, headers, sizes on the page', async () => {
    const { info } = await cluster();
    const forNode = (await image()).platforms[info.platform];
    expect(forNode, `${imageJsonPath} has no entry for the node's platform`).toBeDefined();
    const { url, type } = await service();
    expect(type).toBe('ClusterIP');
    const health = await request(`${url}/health`);
    expect(health.statusCode).toBe(200);
    expect(health.headers).toMatchObject({
      'content-length': '2',
      'cache-control': 'no-store',
      'content-type': 'text/plain; charset=utf-8',
      connection: 'keep-alive',
    });
    expect(await health.body.text()).toBe('OK');

    const root = await request(`${url}/`);
    expect(root.statusCode).toBe(200);
    const page = await root.body.text();
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
    expect(Number(binary![1])).toBe(forNode.binarySize);
    expect(binary![2]).toBe((forNode.binarySize / 1024).toFixed(2));
    expect(Number(imageSize![1])).toBe(forNode.imageSize);
    expect(imageSize![2]).toBe((forNode.imageSize / 1048576).toFixed(3));
    expect(page).toMatch(new RegExp(`<dd id="platform">${info.platform} *</dd>`));
  }, SETUP_MS);

  it('the cluster\'s rules live in its own network namespace: the host\'s iptables are as before cluster:up while it serves', async () => {
    const { info, hostBefore } = await cluster();
    await service();
    const now = await hostState();
    expect(now.iptables).toBe(hostBefore.iptables);
    expect(now.ip6tables).toBe(hostBefore.ip6tables);
    // kube-proxy's rules for the Service are there, inside the cluster's network namespace.
    const inside = (await execa('nsenter', [`--net=${info.netns}`, 'iptables-save'])).stdout;
    expect(inside).toMatch(new RegExp(`-A KUBE-SERVICES .*${namespaceName}/`));
  }, SETUP_MS);

  it('GET / and GET /health through kubectl port-forward to the Service', async () => {
    const { kubectl } = await cluster();
    const { app, servicePort } = await deployment();
    const { url } = await service();
    const forward = await portForward(kubectl, namespaceName, `service/${app}`, servicePort);
    try {
      const health = await request(`${forward.url}/health`);
      expect(health.statusCode).toBe(200);
      expect(health.headers['cache-control']).toBe('no-store');
      expect(await health.body.text()).toBe('OK');
      const root = await request(`${forward.url}/`);
      expect(root.statusCode).toBe(200);
      expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
      // The same page as through the cluster IP.
      expect(await root.body.text()).toBe(await (await request(`${url}/`)).body.text());
    } finally {
      await forward.stop();
    }
  }, SETUP_MS);

  it(`a rolling update under continuous load: no failed or reset request, done within ${ROLLOUT_BOUND_SECONDS} s`, async () => {
    const { kubectl } = await cluster();
    const { app, replicas } = await deployment();
    const { url } = await service();
    const page = await (await request(`${url}/`)).body.text();
    const podsBefore = await podNames();
    const load = await startedLoad(`${url}/`, page);
    const started = performance.now();
    // Any change to the pod template rolls the Deployment.
    await kubectl('patch', 'deployment', app, '-n', namespaceName, '--type', 'merge', '-p',
      JSON.stringify({ spec: { template: { metadata: { annotations: { 'e2e.asm-web-service/rollout': String(Date.now()) } } } } }));
    // The bound: rollout status fails (and so this test) when the rollout takes longer.
    await kubectl('rollout', 'status', '-n', namespaceName, `deployment/${app}`, `--timeout=${ROLLOUT_BOUND_SECONDS}s`);
    timings.rolloutSeconds = secondsSince(started);
    // Keep the load on while the old pods drain (DRAIN_SECONDS) and exit, and a moment after.
    await waitForPodsGone(podsBefore, 60);
    await sleep(2_000);
    const report = await load.stop();
    timings.rolloutRequestsOk = report.ok;
    timings.rolloutRequestsFailed = report.failed;
    process.stderr.write(`[e2e] rolling update: ${timings.rolloutSeconds} s, ${report.ok} requests ok, ${report.failed} failed over ${report.seconds} s\n`);

    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.ok).toBeGreaterThan(100);
    const podsAfter = await podNames();
    expect(podsAfter).toHaveLength(replicas);
    expect(podsAfter.filter((name) => podsBefore.includes(name))).toEqual([]);
  }, SETUP_MS);

  it('a deleted pod is replaced by a Ready one while traffic never stops', async () => {
    const { kubectl } = await cluster();
    const { app, podSelector } = await deployment();
    const { url } = await service();
    const page = await (await request(`${url}/`)).body.text();
    const podsBefore = await podNames();
    const victim = podsBefore[0];
    const load = await startedLoad(`${url}/`, page);
    const started = performance.now();
    await kubectl('delete', 'pod', '-n', namespaceName, victim, '--wait=false');
    const replacement = await vi.waitFor(async () => {
      const pods = await kubectl.json<any>('get', 'pods', '-n', namespaceName, '-l', podSelector);
      const ready = pods.items.find((pod: any) => !podsBefore.includes(pod.metadata.name) &&
        pod.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      if (!ready) throw new Error(`no Ready replacement of ${victim} within ${REPLACEMENT_BOUND_SECONDS} s`);
      return ready.metadata.name as string;
    }, { timeout: REPLACEMENT_BOUND_SECONDS * 1000, interval: 500 });
    timings.replacementReadySeconds = secondsSince(started);
    await waitForPodsGone([victim], 60);
    await sleep(2_000);
    const report = await load.stop();
    timings.deleteRequestsOk = report.ok;
    timings.deleteRequestsFailed = report.failed;
    process.stderr.write(`[e2e] pod deletion: ${replacement} Ready in ${timings.replacementReadySeconds} s, ${report.ok} requests ok, ${report.failed} failed\n`);

    expect(report.failures).toEqual([]);
    expect(report.ok).toBeGreaterThan(100);
    await kubectl('wait', '-n', namespaceName, `deployment/${app}`, '--for=condition=Available', '--timeout=60s');
  }, SETUP_MS);

  it('helm install of the chart from npm run synth:helm serves / and /health; helm uninstall removes it', async () => {
    const { info, kubectl } = await cluster();
    const { image: reference } = await image();
    const helm = (await execa('bash', [path.join(repoRoot, 'scripts/helm.sh')], { cwd: repoRoot })).stdout.trim();
    const chartParent = path.join(outputDir, 'helm');
    rmSync(chartParent, { recursive: true, force: true });
    await execa('npm', ['run', '--silent', 'synth:helm'], { cwd: repoRoot, env: { IMAGE: reference, HELM_OUTDIR: chartParent } });
    const chart = path.join(chartParent, 'asm-web-service');
    const release = 'asmws-helm';
    const releaseNamespace = `${namespaceName}-helm`;
    await kubectl('create', 'namespace', releaseNamespace);
    await kubectl('label', 'namespace', releaseNamespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest');
    await kubectl('wait', '--for=create', '--timeout=60s', '-n', releaseNamespace, 'serviceaccount/default');
    // helm's cache, config and data folders in the test's output, not the user's home.
    const helmHome = path.join(outputDir, 'helm-home');
    const helmEnv = { HELM_CACHE_HOME: `${helmHome}/cache`, HELM_CONFIG_HOME: `${helmHome}/config`, HELM_DATA_HOME: `${helmHome}/data` };
    const helmRun = (...args: string[]) => execa(helm, ['--kubeconfig', info.kubeconfig, ...args], { cwd: repoRoot, env: helmEnv });
    try {
      const installed = await helmRun('install', release, chart, '--namespace', releaseNamespace, '--wait', '--timeout', '180s');
      process.stderr.write(`[e2e] helm install ${release} ${path.relative(repoRoot, chart)} --namespace ${releaseNamespace} --wait:\n${installed.stdout}\n`);
      const status = JSON.parse((await helmRun('status', release, '--namespace', releaseNamespace, '--output', 'json')).stdout);
      expect(status.info.status).toBe('deployed');
      const objects = (await kubectl.json<any>('get', 'deployments,services', '-n', releaseNamespace)).items as any[];
      const deploymentObject = objects.find((o) => o.kind === 'Deployment');
      const serviceObject = objects.find((o) => o.kind === 'Service');
      expect(deploymentObject.status.readyReplicas).toBe(deploymentObject.spec.replicas ?? deploymentObject.status.replicas);
      expect(deploymentObject.spec.template.spec.containers[0].image).toBe(reference);
      const url = `http://${serviceObject.spec.clusterIP}:${serviceObject.spec.ports[0].port}`;
      await expect
        .poll(() => request(`${url}/health`).then((r) => r.body.text(), (e: Error) => e.message), { timeout: 30_000, interval: 200 })
        .toBe('OK');
      const root = await request(`${url}/`);
      expect(root.statusCode).toBe(200);
      expect(await root.body.text()).toContain('<dd id="binary-size">');

      const uninstalled = await helmRun('uninstall', release, '--namespace', releaseNamespace, '--wait', '--timeout', '120s');
      process.stderr.write(`[e2e] helm uninstall ${release}: ${uninstalled.stdout}\n`);
      await expect
        .poll(() => kubectl('get', 'all', '-n', releaseNamespace, '-o', 'name'), { timeout: 60_000, interval: 1_000 })
        .toBe('');
      expect((await helmRun('list', '--namespace', releaseNamespace, '--short')).stdout).toBe('');
    } finally {
      await kubectl('delete', 'namespace', releaseNamespace, '--ignore-not-found', '--wait=true', '--timeout=120s').catch(() => undefined);
    }
  }, SETUP_MS);

  it('autoscaling: under load the HPA (metrics-server) adds pods that become Ready, no request fails, and it scales back in', async () => {
    const { kubectl } = await cluster();
    const { image: reference } = await image();
    const hpaNamespace = `${namespaceName}-hpa`;
    const appDir = path.join(outputDir, 'autoscaled');
    rmSync(appDir, { recursive: true, force: true });
    await execa('npx', ['tsx', 'test/e2e/autoscaling-app.ts'], { cwd: repoRoot, env: { IMAGE: reference, OUTDIR: appDir } });
    await kubectl('create', 'namespace', hpaNamespace);
    await kubectl('label', 'namespace', hpaNamespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest');
    await kubectl('wait', '--for=create', '--timeout=60s', '-n', hpaNamespace, 'serviceaccount/default');
    try {
      await kubectl('apply', '-n', hpaNamespace, '-f', appDir);
      const objects = (await kubectl.json<any>('get', '-n', hpaNamespace, '-f', appDir)).items as any[];
      const app = objects.find((o) => o.kind === 'Deployment').metadata.name as string;
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler').metadata.name as string;
      const serviceObject = objects.find((o) => o.kind === 'Service');
      await kubectl('wait', '-n', hpaNamespace, `deployment/${app}`, '--for=condition=Available', '--timeout=180s');
      // metrics-server has the pod's CPU once it has scraped the kubelet twice.
      await expect
        .poll(() => kubectl('top', 'pods', '-n', hpaNamespace, '--no-headers').catch((e: Error) => e.message), { timeout: 120_000, interval: 2_000 })
        .toMatch(/\d+m\s+\d+Mi/);
      const url = `http://${serviceObject.spec.clusterIP}:${serviceObject.spec.ports[0].port}`;
      await expect
        .poll(() => request(`${url}/health`).then((r) => r.body.text(), (e: Error) => e.message), { timeout: 30_000, interval: 200 })
        .toBe('OK');
      const page = await (await request(`${url}/`)).body.text();

      const started = performance.now();
      const timeline: string[] = [];
      const sample = async () => {
        const deploymentObject = await kubectl.json<any>('get', 'deployment', '-n', hpaNamespace, app);
        const autoscaler = await kubectl.json<any>('get', 'hpa', '-n', hpaNamespace, hpa);
        const cpu = autoscaler.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
        const row = { replicas: deploymentObject.status.replicas ?? 0, ready: deploymentObject.status.readyReplicas ?? 0, cpu };
        timeline.push(`${secondsSince(started)} s: ${row.replicas} pods, ${row.ready} ready, CPU ${cpu ?? '?'} % of request`);
        return row;
      };
      const load = startLoad(`${url}/`, page, 8, 0);
      let report: LoadReport;
      try {
        await expect
          .poll(async () => { const row = await sample(); return row.ready >= 2 && row.ready === row.replicas; }, { timeout: 240_000, interval: 3_000 })
          .toBe(true);
        await sleep(10_000); // the new pods serve their share under load
        await sample();
      } finally {
        report = await load.stop();
      }
      const scaledOut = Math.max(...timeline.map((line) => Number(/: (\d+) pods/.exec(line)![1])));
      await expect
        .poll(async () => (await sample()).replicas, { timeout: 240_000, interval: 3_000 })
        .toBe(1);
      process.stderr.write(`[e2e] autoscaling: ${report.ok} requests ok, ${report.failed} failed over ${report.seconds} s; replicas over time:\n  ${timeline.join('\n  ')}\n`);
      expect(report.failed, report.failures.join('\n')).toBe(0);
      expect(report.ok).toBeGreaterThan(100);
      expect(scaledOut).toBeGreaterThanOrEqual(2);
    } finally {
      await kubectl('delete', 'namespace', hpaNamespace, '--ignore-not-found', '--wait=true', '--timeout=120s').catch(() => undefined);
    }
  }, SETUP_MS);

  it('metrics: a real Prometheus scrapes the pods their annotations name, and its PromQL sums and the pods\' JSON access logs match the requests sent', async () => {
    const { info, kubectl } = await cluster();
    const testStarted = Date.now();
    const { image: reference } = await image();
    const metricsNamespace = `${namespaceName}-metrics`;
    const appDir = path.join(outputDir, 'observed');
    const prometheusDir = path.join(outputDir, 'prometheus');
    rmSync(appDir, { recursive: true, force: true });
    rmSync(prometheusDir, { recursive: true, force: true });
    mkdirSync(prometheusDir, { recursive: true });
    await execa('npx', ['tsx', 'test/e2e/metrics-app.ts'], { cwd: repoRoot, env: { IMAGE: reference, OUTDIR: appDir } });
    await kubectl('create', 'namespace', metricsNamespace);
    await kubectl('label', 'namespace', metricsNamespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest');
    await kubectl('wait', '--for=create', '--timeout=60s', '-n', metricsNamespace, 'serviceaccount/default');
    // Debian's prometheus, unpacked by the set-up (scripts/prometheus.sh), run inside the cluster's network
    // namespace (where the pods' addresses route) and reached from here on the node's address, like the API.
    const prometheusBin = (await execa('bash', ['scripts/prometheus.sh'], { cwd: repoRoot })).stdout.trim();
    const prometheusUrl = `http://${info.nodeIP}:19090`;
    // Debian builds Prometheus without kubernetes_sd (its +ds source leaves the Kubernetes client out), so the
    // test discovers the pods the way kubernetes_sd's conventional configuration would, by their prometheus.io
    // annotations, and hands them over in a file_sd file, which Prometheus watches.
    const targetsFile = path.join(prometheusDir, 'targets.json');
    writeFileSync(targetsFile, '[]');
    writeFileSync(path.join(prometheusDir, 'prometheus.yml'), [
      'global: { scrape_interval: 2s, evaluation_interval: 2s }',
      'scrape_configs:',
      '  - job_name: kubernetes-pods',
      `    file_sd_configs: [{ files: [${JSON.stringify(targetsFile)}] }]`,
      '',
    ].join('\n'));
    const discoverPods = async () => {
      const pods = (await kubectl.json<any>('get', 'pods', '-n', metricsNamespace)).items as any[];
      const targets = pods
        .filter((pod) => pod.metadata.annotations?.['prometheus.io/scrape'] === 'true' && pod.status.podIP)
        .map((pod) => ({
          targets: [`${pod.status.podIP}:${pod.metadata.annotations['prometheus.io/port']}`],
          labels: { __metrics_path__: pod.metadata.annotations['prometheus.io/path'], pod: pod.metadata.name },
        }));
      writeFileSync(targetsFile, JSON.stringify(targets));
      return targets.length;
    };
    await execa(path.join(prometheusBin, 'promtool'), ['check', 'config', path.join(prometheusDir, 'prometheus.yml')]);
    const prometheus = execa('nsenter', [
      `--net=${info.netns}`, path.join(prometheusBin, 'prometheus'),
      `--config.file=${path.join(prometheusDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(prometheusDir, 'data')}`,
      `--web.listen-address=${info.nodeIP}:19090`,
    ], { reject: false, all: true, buffer: true });
    const query = async (promql: string) => {
      const response = await request(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.body.json()) as any;
      if (body.status !== 'success') throw new Error(`${promql}: ${JSON.stringify(body)}`);
      return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
    };
    try {
      await kubectl('apply', '-n', metricsNamespace, '-f', appDir);
      await kubectl('wait', '-n', metricsNamespace, 'deployment/observed', '--for=condition=Available', '--timeout=180s');
      const serviceObject = await kubectl.json<any>('get', 'service', '-n', metricsNamespace, 'observed');
      const url = `http://${serviceObject.spec.clusterIP}:8080`;
      const metricsUrl = `http://${serviceObject.spec.clusterIP}:9100/metrics`;
      await expect
        .poll(() => request(`${url}/health`).then((r) => r.body.text(), (e: Error) => e.message), { timeout: 30_000, interval: 200 })
        .toBe('OK');
      // Both pods discovered and scraped.
      expect(await discoverPods()).toBe(2);
      await expect
        .poll(() => query('sum(up{job="kubernetes-pods"})').then((r) => r[0]?.value[1], (e: Error) => e.message), { timeout: 60_000, interval: 1_000 })
        .toBe('2');
      // Requests the probes never make: GET / and a 404, on fresh connections spread over both pods.
      const pages = 300;
      const missing = 40;
      for (let i = 0; i < pages; i++) {
        const response = await request(`${url}/`, { reset: true });
        await response.body.text();
        expect(response.statusCode).toBe(200);
      }
      for (let i = 0; i < missing; i++) {
        const response = await request(`${url}/missing`, { reset: true });
        await response.body.text();
        expect(response.statusCode).toBe(404);
      }
      // /metrics is not served on the serving port: another 404 the sums must include.
      expect((await request(`${url}/metrics`, { reset: true })).statusCode).toBe(404);
      const sumOf = (promql: string) => query(promql).then((r) => Number(r[0]?.value[1]), (e: Error) => e.message);
      const pagesQuery = 'sum(asm_web_service_http_requests_total{route="/",code="200"})';
      const missingQuery = 'sum(asm_web_service_http_requests_total{route="other",code="404"})';
      await expect.poll(() => sumOf(pagesQuery), { timeout: 30_000, interval: 1_000 }).toBe(pages);
      await expect.poll(() => sumOf(missingQuery), { timeout: 30_000, interval: 1_000 }).toBe(missing + 1);
      // The growth within a window that holds the whole load, per pod, summed: exact, as the series is there
      // (at 0) from the pod's start. increase() extrapolates from the samples to the window's edges (Prometheus'
      // documented behaviour), so it is only held to never count less; its window is the same 5 minutes, which
      // hold the pods' whole life, so no request sent falls out of it however long the checks before this take
      // (a 1-minute one could). It fails for a server that counts less, and for a series Prometheus lacks (NaN).
      const growthQuery = 'sum(max_over_time(asm_web_service_http_requests_total{route="/",code="200"}[5m]) - min_over_time(asm_web_service_http_requests_total{route="/",code="200"}[5m]))';
      expect(await sumOf(growthQuery)).toBe(pages);
      const increase = await sumOf('sum(increase(asm_web_service_http_requests_total{route="/",code="200"}[5m]))');
      expect(increase).toBeGreaterThanOrEqual(pages);
      // The probes' /health requests are counted too, on every pod.
      const health = await query('asm_web_service_http_requests_total{route="/health",code="200"}');
      expect(health).toHaveLength(2);
      for (const series of health) expect(Number(series.value[1])).toBeGreaterThan(0);
      const build = await query('asm_web_service_build_info');
      expect(build.map((series) => series.metric.arch)).toEqual([info.platform.split('/')[1], info.platform.split('/')[1]]);
      const forNode = (await image()).platforms[info.platform];
      expect(build[0].metric.binary_bytes).toBe(String(forNode.binarySize));
      expect(build[0].metric.image_bytes).toBe(String(forNode.imageSize));
      // The access log (ACCESS_LOG=json): every line each pod wrote is a JSON object (kubectl logs shows stdout and
      // stderr as one stream, and the server writes to stderr only on failures); summed over the pods, the access
      // lines of GET / and of the 404s are the requests sent. The server flushes its lines once per event batch,
      // so the test waits for them.
      let logs: PodLog[] = [];
      const logCounts = async () => {
        logs = await podLogs(kubectl, metricsNamespace, 'app.kubernetes.io/instance=observed');
        const access = logs.flatMap((log) => log.access);
        return {
          pages: access.filter((line) => line.path === '/' && line.status === 200).length,
          notFound: access.filter((line) => line.status === 404).length,
        };
      };
      await expect.poll(logCounts, { timeout: 60_000, interval: 1_000 }).toEqual({ pages, notFound: missing + 1 });
      expect(logs).toHaveLength(2);
      const access = logs.flatMap((log) => log.access);
      expect(access.filter((line) => line.status === 404).map((line) => `${line.method} ${line.path}`).sort())
        .toEqual([...Array<string>(missing).fill('GET /missing'), 'GET /metrics'].sort());
      expect(access.filter((line) => line.path === '/' && line.status === 200).every((line) => line.method === 'GET')).toBe(true);
      for (const line of access) expectAccessLine(line, testStarted);
      for (const { pod, events } of logs) {
        expect(events.filter((line) => line.event === 'start'), `${pod}'s start events`).toHaveLength(1);
        for (const line of events) expectLogTime(line, testStarted);
      }
      const scrape = await (await request(metricsUrl)).body.text();
      process.stderr.write(
        `[e2e] metrics: ${pagesQuery} = ${await sumOf(pagesQuery)} (sent ${pages}); ${missingQuery} = ${await sumOf(missingQuery)} ` +
          `(sent ${missing + 1}); ${growthQuery} = ${await sumOf(growthQuery)}; sum(increase(...{route="/"}[5m])) = ${increase}\n` +
          `[e2e] access log: ${logs.map((log) => `${log.pod} ${log.access.length} access lines, ${log.events.length} events`).join('; ')}; ` +
          `a line of each path:\n${['/', '/missing', '/health', '/metrics'].map((path) => JSON.stringify(access.find((line) => line.path === path))).join('\n')}\n` +
          `${logs[0].events.map((line) => JSON.stringify(line)).join('\n')}\n[e2e] a scrape of ${metricsUrl}:\n${scrape}`,
      );
    } finally {
      prometheus.kill('SIGTERM');
      const ended = await prometheus;
      if (ended.exitCode !== 0 && ended.signal !== 'SIGTERM') process.stderr.write(`[e2e] prometheus: ${ended.all?.slice(-4000)}\n`);
      await kubectl('delete', 'namespace', metricsNamespace, '--ignore-not-found', '--wait=true', '--timeout=120s').catch(() => undefined);
    }
  }, SETUP_MS);

  it('kubectl delete -f dist removes everything it created', async () => {
    const { kubectl } = await cluster();
    const { podSelector } = await deployment();
    await kubectl('delete', '-n', namespaceName, '-f', distDir, '--wait=true', '--timeout=120s');
    await expect
      .poll(() => kubectl('get', 'deployments,replicasets,pods,services,poddisruptionbudgets,endpointslices',
        '-n', namespaceName, '-l', podSelector, '-o', 'name'), { timeout: 60_000, interval: 1_000 })
      .toBe('');
    // Nothing is left in the namespace but what Kubernetes itself puts in every namespace.
    expect(await kubectl('get', 'all', '-n', namespaceName, '-o', 'name')).toBe('');
  }, SETUP_MS);

  it.skipIf(keepCluster)('cluster:down leaves the host\'s iptables rules, routes, links, cgroups and runtime paths as they were before cluster:up', async () => {
    const { hostBefore } = await cluster();
    await postMortem();
    timings.clusterDownSeconds = await npmRun('cluster:down', 6 * 60);
    clusterRemoved = true;
    const after = await hostState();
    saveHostState('after-cluster-down', after);
    for (const key of Object.keys(hostBefore) as (keyof HostState)[]) {
      expect(after[key], `${key} after cluster:down`).toBe(hostBefore[key]);
    }
  }, SETUP_MS);
});

/** One pod's log as the access log writes it: the lines of responses and of lifecycle events, each parsed. */
interface PodLog {
  pod: string;
  access: Record<string, any>[];
  events: Record<string, any>[];
}

/** The log (`kubectl logs`) of each pod that `selector` selects, every line parsed as JSON (or the test fails). */
async function podLogs(kubectl: Kubectl, ns: string, selector: string): Promise<PodLog[]> {
  const pods = (await kubectl.json<any>('get', 'pods', '-n', ns, '-l', selector)).items as any[];
  return Promise.all(pods.map(async (pod) => {
    const name = pod.metadata.name as string;
    const text = await kubectl('logs', '-n', ns, name, '-c', 'server');
    const lines = (text === '' ? [] : text.split('\n')).map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`${name} logged a line that is not JSON: ${JSON.stringify(line)}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error(`${name} logged a line that is not a JSON object: ${line}`);
      }
      return parsed as Record<string, any>;
    });
    return { pod: name, access: lines.filter((line) => !('event' in line)), events: lines.filter((line) => 'event' in line) };
  }));
}

/** A log line's `time`: RFC 3339 in UTC (`Z`), between the test's start and now (the node shares this clock). */
function expectLogTime(line: Record<string, any>, notBefore: number): void {
  const where = JSON.stringify(line);
  expect(line.time, where).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const time = new Date(line.time).getTime();
  expect(time, where).toBeGreaterThanOrEqual(notBefore - 5_000);
  expect(time, where).toBeLessThanOrEqual(Date.now() + 5_000);
}

/** An access line has every field of the access log, each of its type. */
function expectAccessLine(line: Record<string, any>, notBefore: number): void {
  const where = JSON.stringify(line);
  expect(Object.keys(line), where).toEqual(expect.arrayContaining([
    'time', 'remote_addr', 'remote_port', 'method', 'path', 'version', 'status', 'bytes', 'duration_us',
  ]));
  expectLogTime(line, notBefore);
  expect(isIP(line.remote_addr), where).not.toBe(0);
  expect(Number.isInteger(line.remote_port) && line.remote_port > 0 && line.remote_port < 65536, where).toBe(true);
  expect(line.method, where).toMatch(/^[A-Z]+$/);
  expect(line.path, where).toMatch(/^\//);
  expect(line.version, where).toMatch(/^HTTP\/1\.[01]$/);
  expect(Number.isInteger(line.status) && line.status >= 100 && line.status <= 599, where).toBe(true);
  expect(Number.isInteger(line.bytes) && line.bytes > 0, where).toBe(true);
  expect(Number.isInteger(line.duration_us) && line.duration_us >= 0, where).toBe(true);
}

/** Names of the Deployment's pods that are not being deleted. */
async function podNames(): Promise<string[]> {
  const { kubectl } = await cluster();
  const { podSelector } = await deployment();
  const pods = await kubectl.json<any>('get', 'pods', '-n', namespaceName, '-l', podSelector);
  return pods.items.filter((pod: any) => !pod.metadata.deletionTimestamp).map((pod: any) => pod.metadata.name).sort();
}

/** Waits until none of `names` exists any more (terminated and removed). */
async function waitForPodsGone(names: string[], timeoutSeconds: number): Promise<void> {
  const { kubectl } = await cluster();
  await kubectl('wait', '-n', namespaceName, '--for=delete', ...names.map((name) => `pod/${name}`), `--timeout=${timeoutSeconds}s`);
}

/** Load on `url` (see startLoad), returned once it has had its first successful answers. */
async function startedLoad(url: string, expectedBody: string) {
  const load = startLoad(url, expectedBody);
  await vi.waitFor(() => expect(load.report.ok + load.report.failed).toBeGreaterThanOrEqual(20), { timeout: 10_000, interval: 50 });
  return load;
}

/** Writes a host state under test-output/e2e/host-state/LABEL/ (one file per dump), for a look after the run. */
function saveHostState(label: string, state: HostState): void {
  const dir = path.join(outputDir, 'host-state', label);
  mkdirSync(dir, { recursive: true });
  for (const [key, dump] of Object.entries(state)) writeFileSync(path.join(dir, key.replace(/ /g, '-')), `${dump}\n`);
}

/** When a check failed: what the cluster saw (the namespace's events, each component's log tail). */
async function postMortem(): Promise<void> {
  if (!anyCheckFailed) return;
  const { kubectl } = await cluster().catch(() => ({ kubectl: undefined as Kubectl | undefined }));
  if (kubectl) {
    const events = await kubectl('get', 'events', '-n', namespaceName, '--sort-by=.lastTimestamp').catch((e: Error) => e.message);
    process.stderr.write(`[e2e] events in ${namespaceName}:\n${events}\n`);
  }
  await execa('bash', [path.join(repoRoot, 'scripts/cluster/logs.sh')], { stdout: 'inherit', stderr: 'inherit', reject: false });
}

/** KEEP_CLUSTER=1: the cluster stays, the test's namespace goes. */
async function deleteNamespace(): Promise<void> {
  const { kubectl } = await cluster().catch(() => ({ kubectl: undefined as Kubectl | undefined }));
  await kubectl?.('delete', 'namespace', namespaceName, '--ignore-not-found', '--wait=true', '--timeout=120s').catch(() => undefined);
}
