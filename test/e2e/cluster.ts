// Helpers of the end-to-end test: bring the local cluster up and down (scripts/cluster/), run kubectl against it,
// and put continuous HTTP load on a Service while counting every failed or reset request.
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { freePort, repoRoot } from '../support/server.js';

export { freePort, repoRoot } from '../support/server.js';

/** What scripts/cluster/up.sh writes when the cluster is ready (/var/lib/asm-k8s/cluster.json). */
export interface ClusterInfo {
  kubernetesVersion: string;
  kubectl: string;
  kubeconfig: string;
  node: string;
  nodeIP: string;
  /** The node's platform, e.g. linux/amd64: the image index entry its pods run. */
  platform: string;
  registry: string;
  logDir: string;
}

export const clusterInfoPath = '/var/lib/asm-k8s/cluster.json';

/** Seconds since `since` (a performance.now() value), one decimal. */
export function secondsSince(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}

/**
 * Runs an npm script of this repository with its output on our stderr (progress stays visible), in its own process
 * group. After `limitSeconds` the whole group is stopped (TERM, then KILL 10 s later) and the run fails: a hung
 * script's shell would otherwise keep the test runner's output pipe, and so the whole run, open forever.
 */
export async function npmRun(script: string, limitSeconds: number, env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  process.stderr.write(`[e2e] npm run ${script}\n`);
  const child = execa('npm', ['run', '--silent', script], {
    cwd: repoRoot,
    env,
    detached: true,
    stdin: 'ignore',
    stdout: ['inherit'],
    stderr: ['inherit'],
  });
  let timedOut = false;
  let kill: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };
  const terminate = setTimeout(() => {
    timedOut = true;
    signalGroup('SIGTERM');
    kill = setTimeout(() => signalGroup('SIGKILL'), 10_000);
  }, limitSeconds * 1000);
  try {
    await child;
  } catch (error) {
    if (timedOut) throw new Error(`npm run ${script} did not finish within ${limitSeconds} s; stopped it`);
    throw error;
  } finally {
    clearTimeout(terminate);
    clearTimeout(kill);
    if (timedOut) signalGroup('SIGKILL'); // whatever of the group outlived npm
  }
  const seconds = secondsSince(started);
  process.stderr.write(`[e2e] npm run ${script}: ${seconds} s\n`);
  return seconds;
}

export function readClusterInfo(): ClusterInfo {
  return JSON.parse(readFileSync(clusterInfoPath, 'utf8')) as ClusterInfo;
}

/** kubectl against the local cluster, as its admin; returns stdout, throws with stderr on failure. */
export function kubectlFor(cluster: ClusterInfo) {
  const run = async (args: string[], options: { input?: string } = {}) => {
    const result = await execa(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], {
      cwd: repoRoot,
      input: options.input,
    });
    return { stdout: result.stdout, stderr: result.stderr };
  };
  const kubectl = async (...args: string[]) => (await run(args)).stdout;
  kubectl.full = run;
  kubectl.json = async <T = any>(...args: string[]): Promise<T> => JSON.parse(await kubectl(...args, '-o', 'json')) as T;
  kubectl.spawn = (args: string[]): ResultPromise =>
    execa(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, ...args], { cwd: repoRoot, reject: false, buffer: false });
  return kubectl;
}
export type Kubectl = ReturnType<typeof kubectlFor>;


export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `kubectl port-forward` to a Service on a free loopback port; resolves once it forwards. */
export async function portForward(kubectl: Kubectl, namespace: string, target: string, remotePort: number) {
  const localPort = await freePort();
  const child = kubectl.spawn(['port-forward', '-n', namespace, '--address', '127.0.0.1', target, `${localPort}:${remotePort}`]);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port-forward did not start in 30 s: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Forwarding from')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void child.then(() => {
      clearTimeout(timer);
      reject(new Error(`port-forward exited: ${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${localPort}`,
    stop: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}

/** Counts of a load run. A failure is any request that did not end in the expected 200 and body. */
export interface LoadReport {
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  failures: string[];
  seconds: number;
}

/**
 * Continuous GET load on `url` until stop() is called: `workers` loops, half on keep-alive connections and half
 * opening a new connection per request (so each of those goes through kube-proxy's endpoint choice afresh).
 * Every response must be 200 with `expectedBody`; errors (refused, reset, timeout) count as failures.
 */
export function startLoad(url: string, expectedBody: string, workers = 4, pauseMs = 5) {
  const report: LoadReport = { ok: 0, failed: 0, failures: [], seconds: 0 };
  const started = performance.now();
  let running = true;
  const keepAlive = new Agent({ connections: workers, keepAliveTimeout: 10_000, headersTimeout: 5_000, bodyTimeout: 5_000 });
  const fresh = new Agent({ pipelining: 0, headersTimeout: 5_000, bodyTimeout: 5_000 });
  const fail = (why: string) => {
    report.failed += 1;
    if (report.failures.length < 10) report.failures.push(`${secondsSince(started)} s: ${why}`);
  };
  const loop = async (dispatcher: Agent, closeEach: boolean) => {
    while (running) {
      try {
        // reset: true sends `Connection: close`, so the next request opens a new connection.
        const response = await request(url, { dispatcher, reset: closeEach });
        const body = await response.body.text();
        if (response.statusCode === 200 && body === expectedBody) report.ok += 1;
        else fail(`status ${response.statusCode}, ${body.length} bytes`);
      } catch (error) {
        const err = error as NodeJS.ErrnoException;
        fail(`${err.code ?? err.name}: ${err.message}`);
      }
      await sleep(pauseMs);
    }
  };
  const loops = Array.from({ length: workers }, (_, index) => loop(index % 2 === 0 ? keepAlive : fresh, index % 2 === 1));
  return {
    report,
    stop: async (): Promise<LoadReport> => {
      running = false;
      await Promise.all(loops);
      await Promise.all([keepAlive.close(), fresh.close()]);
      report.seconds = secondsSince(started);
      return report;
    },
  };
}
