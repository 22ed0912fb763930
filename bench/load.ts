// Drives load with wrk pinned to one CPU and reads back its JSON result line (printed by bench/wrk.lua), together
// with how busy the server's processes and each CPU were meanwhile.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { contextSwitches, coreBusyPercent, cpuCoreTimes, cpuSeconds } from './proc.js';

const run = promisify(execFile);
const wrkScript = path.join(import.meta.dirname, 'wrk.lua');

export type LoadMode = 'keepalive' | 'close' | 'pipelined';

/** Requests per write in pipelined mode. */
export const PIPELINE_DEPTH = 16;

export interface LoadResult {
  requestsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Server CPU (utime + stime of all its processes) per request, in µs: what a pod pays. */
  serverCpuUsPerRequest: number;
  /** Softirq time of the server's core per request, in µs: the kernel's TCP delivery work, apart. */
  serverSoftirqUsPerRequest: number;
  /** Voluntary and involuntary context switches of the server's processes per request. */
  contextSwitchesPerRequest: number;
  /** Socket errors and non-2xx/3xx responses wrk counted; any of them makes the figure suspect. */
  errors: number;
  /** CPU used by the server's processes, in percent of one core. */
  serverCpuPercent: number;
  /** CPU used by wrk, in percent of one core: near 100 the figure is the load generator's limit, not the server's. */
  loadCpuPercent: number;
  /** Busy and softirq percent of each CPU over the run (server core, wrk core): other work shows up here. */
  cores: { busy: number; softirq: number }[];
  /**
   * Percent of a core that other processes took during the run, the larger of the server's core (busy minus softirq
   * minus the server) and wrk's (busy minus softirq minus wrk). Above a few percent the figure is disturbed.
   */
  disturbancePercent: number;
  /** Runs made to get this one (others were more disturbed). */
  attempts: number;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  errors: Record<string, number>;
}

/**
 * Runs wrk against 127.0.0.1:port for `seconds` with `connections` connections, one thread, pinned to `cpu`.
 * With `delayMs` every connection waits that long after each response (wrk.lua's delay()): a paced load.
 */
export async function runWrk(
  port: number,
  mode: LoadMode,
  options: { seconds: number; connections: number; cpu: number; serverCpu: number; serverPids: () => number[]; delayMs?: number },
): Promise<LoadResult> {
  const depth = mode === 'pipelined' ? PIPELINE_DEPTH : 1;
  const scriptArgs = [String(depth), mode === 'close' ? 'close' : 'keep-alive', String(options.delayMs ?? 0)];
  const pidsBefore = options.serverPids();
  const cpuBefore = pidsBefore.map(cpuSeconds);
  const switchesBefore = pidsBefore.map(contextSwitches);
  const coresBefore = cpuCoreTimes();
  // bash's `times` then prints the CPU time wrk used (its children's line): the load generator's own load.
  const { stdout } = await run(
    'bash',
    ['-c', '"$@"; status=$?; times; exit $status', 'wrk', 'taskset', '-c', String(options.cpu),
      'wrk', '-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s',
      '-s', wrkScript, `http://127.0.0.1:${port}/`, '--', ...scriptArgs],
    { timeout: (options.seconds + 30) * 1000 },
  );
  const cores = coreBusyPercent(coresBefore, cpuCoreTimes());
  const serverCpu = pidsBefore.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpuBefore[i], 0);
  const switches = pidsBefore.reduce((sum, pid, i) => sum + contextSwitches(pid) - switchesBefore[i], 0);
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const result = JSON.parse(line.slice('BENCH_RESULT '.length)) as WrkJson;
  const seconds = result.duration_us / 1e6;
  const times = [...stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  const wrkCpu = times.length >= 4 ? times[2] + times[3] : NaN;
  return {
    requestsPerSecond: result.requests / seconds,
    requests: result.requests,
    p50Ms: result.p50_us / 1000,
    // wrk 4.1's percentile() answers 0 when its corrected histogram does not add up (seen with pipelining).
    p99Ms: result.p99_us >= result.p50_us ? result.p99_us / 1000 : NaN,
    p999Ms: result.p999_us >= result.p99_us ? result.p999_us / 1000 : NaN,
    serverCpuUsPerRequest: (1e6 * serverCpu) / result.requests,
    serverSoftirqUsPerRequest: (cores[options.serverCpu].softirq / 100) * seconds * 1e6 / result.requests,
    contextSwitchesPerRequest: switches / result.requests,
    errors: Object.values(result.errors).reduce((a, b) => a + b, 0),
    serverCpuPercent: (100 * serverCpu) / seconds,
    loadCpuPercent: (100 * wrkCpu) / seconds,
    cores,
    disturbancePercent: Math.max(
      cores[options.serverCpu].busy - cores[options.serverCpu].softirq - (100 * serverCpu) / seconds,
      cores[options.cpu].busy - cores[options.cpu].softirq - (100 * wrkCpu) / seconds,
      0,
    ),
    attempts: 1,
  };
}

/**
 * runWrk, repeated up to `retries` more times while other processes disturb it by more than `maxDisturbance`
 * percent (a shared machine's builds and tests come and go); returns the least disturbed run.
 */
export async function runWrkUndisturbed(
  port: number,
  mode: LoadMode,
  options: Parameters<typeof runWrk>[2] & { retries: number; maxDisturbance: number },
): Promise<LoadResult> {
  let best: LoadResult | undefined;
  for (let attempt = 1; attempt <= options.retries + 1; attempt++) {
    // Other sessions' builds and tests come in bursts: start when both cores look idle, within limits.
    await waitForQuiet([options.serverCpu, options.cpu], options.maxDisturbance, attempt === 1 ? 3_000 : 10_000);
    const result = await runWrk(port, mode, options);
    if (!best || result.disturbancePercent < best.disturbancePercent) best = { ...result, attempts: attempt };
    else best.attempts = attempt;
    if (best.disturbancePercent <= options.maxDisturbance) break;
  }
  return best!;
}

/**
 * Waits until each of `cpus` was less than `maxBusyPercent` busy over half a second (the server under test is idle
 * meanwhile, so that is other processes), or until `timeoutMs` passed. Returns whether it got quiet.
 */
export async function waitForQuiet(cpus: number[], maxBusyPercent: number, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  const deadline = started + Math.min(timeoutMs, quietWaitBudget.remainingMs);
  try {
    for (;;) {
      const before = cpuCoreTimes();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const busy = coreBusyPercent(before, cpuCoreTimes());
      if (cpus.every((cpu) => busy[cpu].busy < maxBusyPercent)) return true;
      if (Date.now() > deadline) return false;
    }
  } finally {
    quietWaitBudget.remainingMs = Math.max(0, quietWaitBudget.remainingMs - (Date.now() - started));
  }
}

/** Total time all waits for quiet cores may take in one benchmark run, so a machine that never calms down still finishes. */
export const quietWaitBudget = { remainingMs: 120_000 };
