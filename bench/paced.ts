// What a pod pays (issue 10): server CPU per request at paced loads, the cost of being idle, and memory under a
// slowloris. Each function measures one running server; bench.ts runs them for every server in the same run,
// interleaved, and reports medians.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fetchRaw } from './client.js';
import { runWrkUndisturbed, type LoadResult } from './load.js';
import { contextSwitches, cpuSeconds, rssKiB } from './proc.js';
import type { RunningServer } from './servers.js';

const repo = path.resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each paced connection waits this long after a response: `rate × DELAY / 1000` connections offer `rate`. */
export const PACE_DELAY_MS = 10;
/** Offered rates (requests/s) per mode: low, middle and high loads this 2-core machine can pace without saturating. */
export const PACED_RATES = { keepalive: [1_000, 10_000, 30_000], close: [1_000, 5_000, 10_000] } as const;
export type PacedMode = keyof typeof PACED_RATES;

export interface PacedResult extends LoadResult {
  mode: PacedMode;
  offeredRate: number;
  connections: number;
}

/** Every paced rate of both modes against one server. */
export async function measurePaced(
  server: RunningServer,
  options: { seconds: number; cpu: number; serverCpu: number; retries: number; maxDisturbance: number; scale?: number },
): Promise<PacedResult[]> {
  const results: PacedResult[] = [];
  for (const mode of ['keepalive', 'close'] as const) {
    for (const fullRate of PACED_RATES[mode]) {
      const offeredRate = Math.round(fullRate * (options.scale ?? 1));
      const connections = Math.max(1, Math.round((offeredRate * PACE_DELAY_MS) / 1000));
      const load = await runWrkUndisturbed(server.port, mode, {
        ...options,
        connections,
        delayMs: PACE_DELAY_MS,
        serverPids: () => server.processes(),
      });
      results.push({ ...load, mode, offeredRate: fullRate, connections });
    }
  }
  return results;
}

/**
 * Opens `count` connections of `kind` (see hold-connections.ts) from a helper process; resolves once they are up.
 * `release()` closes them and tells how many the server had not closed meanwhile.
 */
export async function holdConnections(port: number, count: number, kind: 'idle' | 'keep-alive' | 'half-head' | 'long-head') {
  const holder = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'hold-connections.ts'), String(port), String(count), '200', kind], {
    cwd: repo,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: holder.stdout! });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      holder.once('exit', (code) => reject(new Error(`hold-connections exited with ${code}`)));
    });
  const { opened, failed } = JSON.parse(await nextLine()) as { opened: number; failed: number };
  return {
    opened,
    failed,
    async release(): Promise<number> {
      try {
        holder.stdin!.write('report\n');
        return (JSON.parse(await nextLine()) as { open: number }).open;
      } finally {
        holder.kill();
        lines.close();
      }
    },
  };
}

export interface IdleFigures {
  /** Server CPU milliseconds per minute. */
  cpuMsPerMinute: number;
  /** Context switches of the server's processes per minute: each is a wake-up (a sleep ended). */
  wakeupsPerMinute: number;
}

/** CPU and wake-ups of the server over `seconds` during which nobody talks to it. */
async function idleWindow(server: RunningServer, seconds: number): Promise<IdleFigures> {
  const pids = server.processes();
  const cpuBefore = pids.map(cpuSeconds);
  const switchesBefore = pids.map(contextSwitches);
  await sleep(seconds * 1000);
  const cpu = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpuBefore[i], 0);
  const switches = pids.reduce((sum, pid, i) => sum + contextSwitches(pid) - switchesBefore[i], 0);
  return { cpuMsPerMinute: (cpu * 1000 * 60) / seconds, wakeupsPerMinute: (switches * 60) / seconds };
}

/** Idle with no connection, then with `connections` idle keep-alive connections (each served one request). */
export async function measureIdle(server: RunningServer, seconds: number, connections: number) {
  await sleep(1000); // the start-up check's connection is gone and its timers have run out
  const none = await idleWindow(server, seconds);
  const held = await holdConnections(server.port, connections, 'keep-alive');
  try {
    await sleep(500);
    const withConnections = await idleWindow(server, seconds);
    return { seconds, none, connections: held.opened, withConnections };
  } finally {
    await held.release();
  }
}

/** A memory cgroup of the benchmark's own (v1 memory controller or v2), created for one server and removed after. */
export class MemoryCgroup {
  readonly dir: string;
  private readonly v2: boolean;

  constructor(name: string) {
    this.v2 = statfsSync('/sys/fs/cgroup').type === 0x63677270; // CGROUP2_SUPER_MAGIC
    this.dir = this.v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/memory/${name}`;
    mkdirSync(this.dir);
    // cgroup v1 charges socket buffers only once a TCP limit is set (v2 always does): set one far above use.
    if (!this.v2) writeFileSync(path.join(this.dir, 'memory.kmem.tcp.limit_in_bytes'), String(8 << 30));
  }

  /** A wrapper for RunningServer.start that moves the server into the cgroup before it execs. */
  wrapper(): string[] {
    return ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.dir];
  }

  /** Peak bytes since creation: user and kernel memory, and (v1) the socket buffers apart. */
  peak(): { memoryBytes: number; socketBytes: number; totalBytes: number } {
    const read = (file: string) => Number(readFileSync(path.join(this.dir, file), 'utf8').trim());
    if (this.v2) {
      const peak = existsSync(path.join(this.dir, 'memory.peak')) ? read('memory.peak') : read('memory.current');
      const stat = readFileSync(path.join(this.dir, 'memory.stat'), 'utf8');
      const sock = Number(/^sock (\d+)$/m.exec(stat)?.[1] ?? 0);
      return { memoryBytes: peak - sock, socketBytes: sock, totalBytes: peak };
    }
    const memory = read('memory.max_usage_in_bytes');
    const sockets = read('memory.kmem.tcp.max_usage_in_bytes');
    return { memoryBytes: memory, socketBytes: sockets, totalBytes: memory + sockets };
  }

  /** Removes the cgroup once its processes are gone (retried: exits are reaped a moment later). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`could not remove ${this.dir}`);
  }
}

/**
 * Memory with `count` slowloris connections open (each holding half a request head, or 7,000 bytes of one: see
 * hold-connections.ts) against a server already running in `cgroup`, and how fast a request on another connection
 * is answered meanwhile (median and worst of 5).
 */
export async function measureSlowloris(server: RunningServer, cgroup: MemoryCgroup, count: number, probePath: string, head: 'half-head' | 'long-head') {
  const held = await holdConnections(server.port, count, head);
  try {
    await sleep(1000); // the last heads are read and the server settles
    const rss = server.processes().reduce((sum, pid) => sum + rssKiB(pid), 0);
    const probeMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = process.hrtime.bigint();
      const raw = await fetchRaw(server.port, `GET ${probePath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      probeMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!raw.toString('latin1').startsWith('HTTP/1.1 200')) throw new Error(`${probePath} under slowloris: ${raw.toString('latin1').split('\r\n')[0]}`);
    }
    const peak = cgroup.peak();
    const stillOpen = await held.release();
    probeMs.sort((a, b) => a - b);
    return { opened: held.opened, failed: held.failed, stillOpen, rssKiB: rss, cgroupPeak: peak, probeMedianMs: probeMs[2], probeWorstMs: probeMs[4] };
  } catch (error) {
    await held.release().catch(() => 0);
    throw error;
  }
}
