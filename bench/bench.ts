// `npm run bench`: this server against nginx, h2o and lighttpd from Debian (issue 6). Each server runs alone,
// pinned to CPU 0, serving the same page bytes with one worker; wrk runs pinned to CPU 1. Several rounds; prints
// the medians and our ratio to each peer, writes them as JSON, counts instructions (callgrind) and system calls
// (strace) per request, and measures how WORKERS=2 spreads connections. A benchmark, not a test: it never fails on a figure.
//
// Issue 10 added what a pod pays: server CPU per request at paced loads (keep-alive and Connection: close at fixed
// offered rates, bench/paced.ts), beside a C floor (bench/floor.c) that only reads and writes; the idle cost
// (CPU and wake-ups per minute with no connection and with 1,000 idle keep-alive connections); and memory under a
// slowloris (16,000 half heads) in a memory cgroup of the benchmark's own, kernel socket memory included. As root
// the whole run happens in a network namespace it creates and removes (its TIME_WAIT and conntrack stay there).
//
//   npm run bench [-- --smoke]     --smoke: every part, tiny and short (a minute), to check the harness
//
// Environment (all optional):
//   BENCH_PARTS=saturated,paced,idle,slowloris,profile,workers   which parts to run (default: all)
//   BENCH_PACED_SECONDS=5  BENCH_IDLE_SECONDS=20  BENCH_SLOW_CONNECTIONS=16000
//   BENCH_SLOW_HEAD=half|long                          the slowloris' heads: 28 bytes, or 7,000 (the worst case)
//   BENCH_ROUNDS=3  BENCH_SECONDS=3  BENCH_CONNECTIONS=50  BENCH_IDLE_CONNECTIONS=10000
//   BENCH_RETRIES=2                                    extra runs of a load mode that other processes disturbed
//   BENCH_SERVERS=asm-web-service,nginx,h2o,lighttpd   which servers (default: all)
//   BENCH_BASELINE_BINARY=<an older build>             it joins every part, as "asm-web-service (baseline)"
//   BENCH_ACCESS_LOG=1                                 today's build with ACCESS_LOG=json joins every part too
//   BENCH_PROFILE=all|ours|none                        whose instructions and system calls to count (default: all)
//   BENCH_SKIP_SETUP=1  BENCH_SKIP_BUILD=1             do not run bench/setup.sh or asm/build.sh
//   BENCH_PRIORITY=1                                   raise this session's scheduling group (busy shared machine)
//   BENCH_OUT=bench/results/latest.json                where the JSON goes
//   BENCH_KEEP_WORKDIR=1                               keep the generated configs and profiles (debugging)
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { instructionsPerRequest, type InstructionCounts } from './callgrind.js';
import { fetchRaw, splitResponse } from './client.js';
import { syscallsPerRequest, type SyscallProfile } from './syscalls.js';
import { runWrk, runWrkUndisturbed, PIPELINE_DEPTH, type LoadMode, type LoadResult } from './load.js';
import { openFileLimits, rssByMapping, rssKiB, socketCount, writeCounters, cpuSeconds } from './proc.js';
import { checkPodTargets, checkTargets, formatIdleAndSlowloris, formatPaced, formatTable, formatTargets, LOAD_BOUND_PERCENT, ratios, summarisePaced, type ServerSummary } from './report.js';
import { RunningServer, fileSize, accessLogServer, floorServer, freePort, ourServer, peers, type ServerSpec, type StartOptions } from './servers.js';
import { MemoryCgroup, measureIdle, measurePaced, measureSlowloris, PACED_RATES, type PacedResult } from './paced.js';

const repo = path.resolve(import.meta.dirname, '..');
const SERVER_CPU = 0;
const LOAD_CPU = 1;
/** A load run in which other processes took more of a core than this is repeated (up to BENCH_RETRIES times). */
const MAX_DISTURBANCE_PERCENT = 10;

const env = (name: string, fallback: number, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}`);
  return value;
};
const smoke = process.argv.includes('--smoke');
const config = {
  smoke,
  parts: (process.env.BENCH_PARTS ?? 'saturated,paced,idle,slowloris,profile,workers').split(',').map((s) => s.trim()),
  rounds: env('BENCH_ROUNDS', smoke ? 1 : 3),
  seconds: env('BENCH_SECONDS', smoke ? 1 : 3),
  pacedSeconds: env('BENCH_PACED_SECONDS', smoke ? 1 : 5),
  /** Smoke runs offer a tenth of each paced rate. */
  pacedScale: smoke ? 0.1 : 1,
  idleSeconds: env('BENCH_IDLE_SECONDS', smoke ? 2 : 20),
  slowConnections: env('BENCH_SLOW_CONNECTIONS', smoke ? 500 : 16_000),
  slowHead: process.env.BENCH_SLOW_HEAD ?? 'half',
  connections: env('BENCH_CONNECTIONS', 50),
  idleConnections: env('BENCH_IDLE_CONNECTIONS', smoke ? 500 : 10_000),
  retries: env('BENCH_RETRIES', 2, 0),
  servers: process.env.BENCH_SERVERS?.split(',').map((s) => s.trim()),
  profile: process.env.BENCH_PROFILE ?? (smoke ? 'none' : 'all'),
  out: path.resolve(repo, process.env.BENCH_OUT ?? (smoke ? 'build/bench/smoke.json' : 'bench/results/latest.json')),
};
if (!['half', 'long'].includes(config.slowHead)) throw new Error(`BENCH_SLOW_HEAD must be half or long, not ${config.slowHead}`);

const warnings: string[] = [];
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const warn = (message: string) => {
  warnings.push(message);
  log(`warning: ${message}`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Median of the finite values; undefined when there are none. */
const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? undefined : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const run = promisify(execFile);
/** What a command prints on stdout and stderr (nginx -v prints on stderr), whatever its exit status. */
const output = (file: string, args: string[]) => {
  const result = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
};

interface RoundResult {
  round: number;
  port: number;
  processes: number;
  responseBytes: number;
  rssIdleKiB: number;
  /** Resident KiB per mapping of the first process, idle and with the idle connections open. */
  rssIdleByMapping: Record<string, number>;
  idleConnections: { opened: number; failed: number; heldByServer: number; stillOpen: number; rssKiB: number; rssByMapping: Record<string, number> };
  load: Record<LoadMode, LoadResult>;
}

/** Opens `count` idle connections from a helper process, and returns the server's RSS while they are held. */
async function measureWithIdleConnections(server: RunningServer, count: number) {
  const socketsBefore = server.processes().reduce((sum, pid) => sum + socketCount(pid), 0);
  const holder = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'hold-connections.ts'), String(server.port), String(count)], {
    cwd: repo,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: holder.stdout! });
  const nextLine = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    holder.once('exit', (code) => reject(new Error(`hold-connections exited with ${code}`)));
  });
  try {
    const { opened, failed } = JSON.parse(await nextLine()) as { opened: number; failed: number };
    // Established connections may still wait in the accept queue: wait until the server's socket count settles.
    let held = 0;
    let lastChange = Date.now();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      const now = server.processes().reduce((sum, pid) => sum + socketCount(pid), 0) - socketsBefore;
      if (now !== held) lastChange = Date.now();
      held = now;
      if (held >= opened || Date.now() - lastChange > 1000) break;
      await sleep(200);
    }
    await sleep(300); // let the server finish whatever bookkeeping follows an accept
    const rss = server.processes().reduce((sum, pid) => sum + rssKiB(pid), 0);
    const byMapping = rssByMapping(server.pid);
    holder.stdin!.write('report\n');
    const { open } = JSON.parse(await nextLine()) as { open: number };
    return { opened, failed, heldByServer: held, stillOpen: open, rssKiB: rss, rssByMapping: byMapping };
  } finally {
    holder.kill();
    lines.close();
  }
}

/**
 * Starts the server, checks it serves exactly the page (an older build of ours, its own page: the same length, its
 * build-time fields differ), and returns it with the size of its whole response.
 */
async function startChecked(spec: ServerSpec, options: StartOptions, page: Buffer, ownPage = false) {
  const server = await RunningServer.start(spec, options, SERVER_CPU);
  try {
    await sleep(300); // workers fork and settle after the port opens
    const raw = await fetchRaw(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const { head, body } = splitResponse(raw);
    if (!head.startsWith('HTTP/1.1 200 ') || (ownPage ? body.length !== page.length : !body.equals(page))) {
      throw new Error(`${spec.name} does not serve the page bytes: ${head.split('\r\n')[0]}, ${body.length} of ${page.length} bytes`);
    }
    await sleep(200);
    return { server, responseBytes: raw.length };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * One round of one server. First with its default capacity (1024 connections): idle memory after one request.
 * Then configured for the idle connections: memory with them open, and the three load modes.
 */
async function measureRound(spec: ServerSpec, round: number, base: Omit<StartOptions, 'port'>, page: Buffer, ownPage = false): Promise<RoundResult> {
  const idle = await startChecked(spec, { ...base, port: await freePort() }, page, ownPage);
  let rssIdleKiB: number;
  let rssIdleByMapping: Record<string, number>;
  try {
    rssIdleKiB = idle.server.processes().reduce((sum, pid) => sum + rssKiB(pid), 0);
    rssIdleByMapping = rssByMapping(idle.server.pid);
  } finally {
    await idle.server.stop();
  }

  const capacity = config.idleConnections + 1000;
  const { server, responseBytes } = await startChecked(spec, { ...base, port: await freePort(), capacity }, page, ownPage);
  try {
    const processes = server.processes();
    const idleConnections = await measureWithIdleConnections(server, config.idleConnections);
    if (idleConnections.heldByServer < idleConnections.opened || idleConnections.stillOpen < idleConnections.opened) {
      warn(`${spec.name} round ${round}: opened ${idleConnections.opened} idle connections, server held ${idleConnections.heldByServer}, ${idleConnections.stillOpen} still open at the measurement`);
    }
    await sleep(500); // the closed idle connections drain before the load starts
    const wrkOptions = { connections: config.connections, cpu: LOAD_CPU, serverCpu: SERVER_CPU, serverPids: () => server.processes() };
    await runWrk(server.port, 'keepalive', { ...wrkOptions, seconds: 1 }); // warm-up: caches, lazily allocated buffers
    const load = {} as Record<LoadMode, LoadResult>;
    // Close last: it leaves tens of thousands of sockets in TIME_WAIT behind.
    for (const mode of ['keepalive', 'pipelined', 'close'] as const) {
      load[mode] = await runWrkUndisturbed(server.port, mode, {
        ...wrkOptions,
        seconds: config.seconds,
        retries: config.retries,
        maxDisturbance: MAX_DISTURBANCE_PERCENT,
      });
      if (load[mode].errors > 0) warn(`${spec.name} round ${round} ${mode}: wrk counted ${load[mode].errors} errors`);
      if (load[mode].disturbancePercent > MAX_DISTURBANCE_PERCENT) {
        warn(`${spec.name} round ${round} ${mode}: other processes took ${load[mode].disturbancePercent.toFixed(0)} % of a core (best of ${load[mode].attempts} runs)`);
      }
    }
    return { round, port: server.port, processes: processes.length, responseBytes, rssIdleKiB, rssIdleByMapping, idleConnections, load };
  } finally {
    await server.stop();
  }
}

/** Bytes of the executable plus every shared library it loads (ldd), for the dynamically linked peers. */
function sizeWithLibraries(binary: string): number | undefined {
  const own = fileSize(binary);
  if (own === undefined) return undefined;
  const ldd = output('ldd', [binary]);
  const libraries = new Set<string>();
  for (const match of ldd.matchAll(/(\/\S+) \(0x/g)) libraries.add(realpathSync(match[1]));
  return [...libraries].reduce((sum, lib) => sum + (fileSize(lib) ?? 0), own);
}

/** Requests per second of CPU 0 busy time: the server's cost, whether or not wrk was the limit. */
const capacity = (load: LoadResult) => {
  const busy = load.cores[SERVER_CPU].busy;
  return busy > 5 ? load.requestsPerSecond / (busy / 100) : NaN;
};

function summarise(spec: ServerSpec, results: RoundResult[]): ServerSummary {
  const m = (pick: (r: RoundResult) => number) => median(results.map(pick));
  // Load figures: the median of the rounds other processes left alone, when there is one; else of all rounds.
  const undisturbed = (mode: LoadMode) => {
    const quiet = results.filter((r) => r.load[mode].disturbancePercent <= MAX_DISTURBANCE_PERCENT);
    return quiet.length > 0 ? quiet : results;
  };
  const ml = (mode: LoadMode, pick: (load: LoadResult) => number) => median(undisturbed(mode).map((r) => pick(r.load[mode])));
  const dynamic = !/statically linked|not a dynamic executable/.test(output('ldd', [spec.binary]));
  return {
    name: spec.name,
    rounds: results.length,
    undisturbedRounds: Math.min(...(['keepalive', 'pipelined', 'close'] as const).map((mode) => results.filter((r) => r.load[mode].disturbancePercent <= MAX_DISTURBANCE_PERCENT).length)),
    keepaliveRps: ml('keepalive', (l) => l.requestsPerSecond),
    closeRps: ml('close', (l) => l.requestsPerSecond),
    pipelinedRps: ml('pipelined', (l) => l.requestsPerSecond),
    keepaliveCapacity: ml('keepalive', capacity),
    closeCapacity: ml('close', capacity),
    pipelinedCapacity: ml('pipelined', capacity),
    p50Ms: ml('keepalive', (l) => l.p50Ms),
    p99Ms: ml('keepalive', (l) => l.p99Ms),
    rssIdleKiB: m((r) => r.rssIdleKiB),
    rssConnectionsKiB: m((r) => r.idleConnections.rssKiB),
    connectionsHeld: m((r) => r.idleConnections.heldByServer),
    binaryBytes: fileSize(spec.binary),
    binaryWithLibrariesBytes: dynamic ? sizeWithLibraries(spec.binary) : fileSize(spec.binary),
    responseBytes: m((r) => r.responseBytes),
    keepaliveServerCpuPercent: ml('keepalive', (l) => l.serverCpuPercent),
    closeServerCpuPercent: ml('close', (l) => l.serverCpuPercent),
    pipelinedServerCpuPercent: ml('pipelined', (l) => l.serverCpuPercent),
    keepaliveServerSoftirqPercent: ml('keepalive', (l) => l.cores[SERVER_CPU].softirq),
    keepaliveLoadCpuPercent: ml('keepalive', (l) => l.loadCpuPercent),
    closeLoadCpuPercent: ml('close', (l) => l.loadCpuPercent),
    pipelinedLoadCpuPercent: ml('pipelined', (l) => l.loadCpuPercent),
  };
}

/** With WORKERS=2: connections per worker (ss), and requests per worker from the bytes each wrote (/proc/PID/io). */
async function measureWorkerSpread(spec: ServerSpec, base: Omit<StartOptions, 'port'>, responseBytes: number) {
  const workers = 2;
  const port = await freePort();
  const server = await RunningServer.start(spec, { ...base, port, workers }, SERVER_CPU);
  try {
    const pids = await server.waitForProcesses(workers);
    if (pids.length !== workers) throw new Error(`WORKERS=${workers} started ${pids.length} processes`);
    const modes: Record<string, unknown> = {};
    for (const mode of ['keepalive', 'close'] as const) {
      const before = pids.map((pid) => ({ io: writeCounters(pid), cpu: cpuSeconds(pid) }));
      const load = runWrk(port, mode, { seconds: config.seconds, connections: config.connections, cpu: LOAD_CPU, serverCpu: SERVER_CPU, serverPids: () => pids });
      await sleep((config.seconds * 1000) / 2);
      const ss = await run('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`]);
      const result = await load;
      const connections = pids.map((pid) => ss.stdout.split('\n').filter((line) => line.includes(`pid=${pid},`)).length);
      const perWorker = pids.map((pid, i) => {
        const bytes = writeCounters(pid).bytes - before[i].io.bytes;
        return {
          pid,
          connectionsMidRun: connections[i],
          requests: Math.round(bytes / responseBytes),
          cpuSeconds: Number((cpuSeconds(pid) - before[i].cpu).toFixed(2)),
        };
      });
      const counted = perWorker.reduce((sum, w) => sum + w.requests, 0);
      // write/writev/sendfile bytes are counted by the kernel, send/sendto/sendmsg are not.
      const requestsCounted = counted > 0.5 * result.requests;
      if (!requestsCounted) warn(`WORKERS=2 ${mode}: the workers' write counters saw ${counted} of ${result.requests} responses (send*/sendmsg are not counted); the spread below uses CPU time`);
      const shares = requestsCounted ? perWorker.map((w) => w.requests) : perWorker.map((w) => w.cpuSeconds);
      const total = shares.reduce((a, b) => a + b, 0);
      modes[mode] = {
        requestsPerSecond: Math.round(result.requestsPerSecond),
        perWorker,
        sharePercent: shares.map((s) => Number(((100 * s) / total).toFixed(1))),
        shareBasis: requestsCounted ? 'requests' : 'cpu seconds',
        maxOverMin: Number((Math.max(...shares) / Math.max(Math.min(...shares), 1e-9)).toFixed(2)),
      };
    }
    return { workers, ...modes };
  } finally {
    await server.stop();
  }
}

/**
 * As root, runs the benchmark again inside a network namespace of its own (loopback only) and removes it after, so
 * the close rounds' TIME_WAIT sockets and conntrack entries never reach the host's. nsenter changes only the
 * network namespace (`ip netns exec` would remount /sys and hide the cgroup mounts). True in the outer process.
 */
function runInOwnNetworkNamespace(): boolean {
  if (process.env.BENCH_NETNS || process.getuid?.() !== 0) return false;
  const name = `asmws-bench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const inner = spawnSync('nsenter', [`--net=/run/netns/${name}`, process.execPath, '--import', 'tsx', import.meta.filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_NETNS: name, BENCH_SKIP_SETUP: '1' },
    });
    process.exitCode = inner.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'delete', name]);
  }
  return true;
}

async function main() {
  const started = Date.now();
  if (!process.env.BENCH_SKIP_SETUP) execFileSync('bash', [path.join(repo, 'bench/setup.sh')], { stdio: 'inherit' });
  if (runInOwnNetworkNamespace()) return;
  const parts = new Set(config.parts);
  // The benchmark process and its helpers stay off the server's CPU.
  execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' });
  // Servers and wrk (our children) outrank other work of this session; harmless where not permitted.
  try {
    execFileSync('renice', ['-n', '-10', '-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    warn('could not raise the priority (renice -10)');
  }
  // With autogroup scheduling, other sessions get their share whatever our nice value: only raising this
  // session's group helps on a busy shared machine, and it slows everyone else, so only when asked.
  const autogroup = '/proc/self/autogroup';
  const groupNice = existsSync(autogroup) ? /nice (-?\d+)/.exec(readFileSync(autogroup, 'utf8'))?.[1] : undefined;
  if (process.env.BENCH_PRIORITY && groupNice !== undefined) {
    try {
      writeFileSync(autogroup, '-10');
      process.once('exit', () => writeFileSync(autogroup, groupNice));
    } catch {
      warn('could not raise the scheduling group priority (BENCH_PRIORITY)');
    }
  }

  // Ten thousand client sockets plus as many server sockets: raise the open-file limit where we may.
  const needed = config.idleConnections + 1000;
  let limits = openFileLimits();
  if (limits.hard < needed) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${needed}`], { stdio: 'ignore' });
    } catch {
      // no CAP_SYS_RESOURCE: stay within the hard limit
    }
    limits = openFileLimits();
  }
  if (limits.soft < needed && limits.soft < limits.hard) {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limits.hard}:${limits.hard}`], { stdio: 'ignore' });
    limits = openFileLimits();
  }
  if (limits.soft < needed) {
    warn(`open-file limit is ${limits.soft}: idle connections reduced from ${config.idleConnections}`);
    config.idleConnections = Math.max(100, limits.soft - 1000);
  }
  const fileLimit = Math.min(limits.hard, 1 << 20);

  const ourBinary = path.join(repo, 'build/linux-amd64/asm-web-service');
  if (!process.env.BENCH_SKIP_BUILD) {
    try {
      execFileSync('sh', [path.join(repo, 'asm/build.sh'), 'amd64'], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
    } catch {
      warn('sh asm/build.sh amd64 failed' + (existsSync(ourBinary) ? '; using the existing binary' : ''));
    }
  }
  const wanted = (name: string) => !config.servers || config.servers.includes(name);
  const ours = existsSync(ourBinary) && wanted('asm-web-service') ? ourServer(ourBinary) : undefined;
  if (!ours && wanted('asm-web-service')) warn(`${path.relative(repo, ourBinary)} does not exist: only the peers are measured`);
  const floorBinary = path.join(repo, 'build/bench/floor');
  const floor = wanted('floor') && existsSync(floorBinary) ? floorServer(floorBinary) : undefined;
  if (!floor && wanted('floor')) warn(`${path.relative(repo, floorBinary)} does not exist (bench/setup.sh builds it): the floor is not measured`);
  // An older build of ours (BENCH_BASELINE_BINARY) joins every part, beside today's: what a change cost or saved
  // (its page differs in the build's fields, so only the page's length is compared).
  const baselineBinary = process.env.BENCH_BASELINE_BINARY;
  const baseline = baselineBinary ? { ...ourServer(baselineBinary), name: 'asm-web-service (baseline)' } : undefined;
  // BENCH_ACCESS_LOG=1: today's build with ACCESS_LOG=json joins every part too (what the access log costs).
  const withLog = ours && process.env.BENCH_ACCESS_LOG === '1' ? accessLogServer(ourBinary) : undefined;
  const servers = [
    ...(ours ? [ours] : []),
    ...(withLog ? [withLog] : []),
    ...(baseline ? [baseline] : []),
    ...(floor ? [floor] : []),
    ...peers.filter((p) => wanted(p.name)),
  ];

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'asm-bench-'));
  chmodSync(workDir, 0o755); // the peers' workers run as nobody and must read the page
  const pageDir = path.join(workDir, 'www');
  mkdirSync(pageDir, { mode: 0o755 });
  const base = { workDir, pageDir, fileLimit };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const server of RunningServer.running) server.kill();
      rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  }

  try {
    // The page bytes every server serves: our server's own GET / body (else the build's filled page).
    let page: Buffer;
    let ourResponseBytes: number | undefined;
    if (ours) {
      const server = await RunningServer.start(ours, { ...base, port: await freePort() }, SERVER_CPU);
      try {
        const raw = await fetchRaw(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        page = splitResponse(raw).body;
        ourResponseBytes = raw.length;
      } finally {
        await server.stop();
      }
    } else {
      const filled = path.join(repo, 'build/linux-amd64/gen/page.html');
      page = readFileSync(existsSync(filled) ? filled : path.join(repo, 'asm/page.html'));
    }
    writeFileSync(path.join(pageDir, 'index.html'), page, { mode: 0o644 });
    log(`page: ${page.length} bytes; ${config.rounds} rounds × ${servers.length} servers, ${config.seconds} s per load mode, ${config.connections} connections, ${config.idleConnections} idle connections`);

    const results = new Map<string, RoundResult[]>(servers.map((s) => [s.name, []]));
    const failures: Record<string, string[]> = {};
    for (let round = 1; round <= (parts.has('saturated') ? config.rounds : 0); round++) {
      // Rotate the order so no server always runs first (or right after another's TIME_WAIT pile).
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]);
      for (const spec of order) {
        log(`round ${round}/${config.rounds}: ${spec.name}`);
        try {
          const result = await measureRound(spec, round, base, page, spec === baseline);
          results.get(spec.name)!.push(result);
          const l = result.load;
          log(`  keep-alive ${Math.round(l.keepalive.requestsPerSecond)}/s, pipelined ${Math.round(l.pipelined.requestsPerSecond)}/s, close ${Math.round(l.close.requestsPerSecond)}/s, RSS ${result.rssIdleKiB} KiB idle, ${result.idleConnections.rssKiB} KiB with ${result.idleConnections.heldByServer} connections`);
        } catch (error) {
          const message = (error as Error).message;
          (failures[spec.name] ??= []).push(`round ${round}: ${message}`);
          warn(`${spec.name} round ${round} failed: ${message}`);
        }
      }
    }

    let workerSpread: unknown;
    if (ours && ourResponseBytes && parts.has('workers')) {
      log('WORKERS=2 spread');
      try {
        workerSpread = await measureWorkerSpread(ours, base, ourResponseBytes);
      } catch (error) {
        warn(`WORKERS=2 spread failed: ${(error as Error).message}`);
      }
    }

    const instructions: Record<string, InstructionCounts | { error: string }> = {};
    const syscalls: Record<string, Awaited<ReturnType<typeof syscallsPerRequest>> | { error: string }> = {};
    const profiled = config.profile === 'none' || !parts.has('profile') ? [] : config.profile === 'ours' ? servers.filter((spec) => spec === ours || spec === withLog || spec === baseline) : servers.filter((spec) => spec !== floor);
    for (const spec of profiled) {
      log(`callgrind and strace: ${spec.name}`);
      try {
        // Our profiles stay in build/bench/ for `callgrind_annotate` (instructions per routine).
        instructions[spec.name] = await instructionsPerRequest(spec, base, spec === ours ? path.join(repo, 'build/bench') : undefined);
      } catch (error) {
        instructions[spec.name] = { error: (error as Error).message };
        warn(`callgrind ${spec.name} failed: ${(error as Error).message}`);
      }
      try {
        syscalls[spec.name] = await syscallsPerRequest(spec, base, { cpu: LOAD_CPU, serverCpu: SERVER_CPU });
      } catch (error) {
        syscalls[spec.name] = { error: (error as Error).message };
        warn(`strace ${spec.name} failed: ${(error as Error).message}`);
      }
    }

    // What a pod pays: paced loads (interleaved rounds), idle, slowloris.
    const paced = new Map<string, PacedResult[][]>(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= (parts.has('paced') ? config.rounds : 0); round++) {
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]);
      for (const spec of order) {
        log(`paced round ${round}/${config.rounds}: ${spec.name}`);
        try {
          const { server } = await startChecked(spec, { ...base, port: await freePort() }, page, spec === baseline);
          try {
            const result = await measurePaced(server, { seconds: config.pacedSeconds, cpu: LOAD_CPU, serverCpu: SERVER_CPU, retries: config.retries, maxDisturbance: MAX_DISTURBANCE_PERCENT, scale: config.pacedScale });
            paced.get(spec.name)!.push(result);
            log(`  ${result.map((r) => `${r.mode} ${r.offeredRate}: ${Math.round(r.requestsPerSecond)}/s ${r.serverCpuUsPerRequest.toFixed(1)} µs`).join(', ')}`);
            for (const r of result) if (r.errors > 0) warn(`${spec.name} paced ${r.mode} ${r.offeredRate}: wrk counted ${r.errors} errors`);
          } finally {
            await server.stop();
          }
        } catch (error) {
          (failures[spec.name] ??= []).push(`paced round ${round}: ${(error as Error).message}`);
          warn(`${spec.name} paced round ${round} failed: ${(error as Error).message}`);
        }
      }
    }
    const memoryServers = servers;
    const idle: Record<string, unknown> = {};
    const slowloris: Record<string, unknown> = {};
    for (const spec of parts.has('idle') ? memoryServers : []) {
      log(`idle: ${spec.name}`);
      try {
        const { server } = await startChecked(spec, { ...base, port: await freePort(), capacity: 2048 }, page, spec === baseline);
        try {
          idle[spec.name] = await measureIdle(server, config.idleSeconds, 1000);
        } finally {
          await server.stop();
        }
      } catch (error) {
        idle[spec.name] = { error: (error as Error).message };
        warn(`idle ${spec.name} failed: ${(error as Error).message}`);
      }
    }
    for (const spec of parts.has('slowloris') ? memoryServers : []) {
      log(`slowloris (${config.slowConnections} ${config.slowHead} heads): ${spec.name}`);
      const cgroup = new MemoryCgroup(`asmws-bench-${process.pid}-${Object.keys(slowloris).length}`);
      try {
        const options = { ...base, port: await freePort(), capacity: config.slowConnections + 1000 };
        const server = await RunningServer.start(spec, options, SERVER_CPU, { wrapper: cgroup.wrapper() });
        try {
          const probe = spec === ours || spec === withLog || spec === baseline ? '/health' : '/';
          slowloris[spec.name] = { probePath: probe, ...(await measureSlowloris(server, cgroup, config.slowConnections, probe, config.slowHead === 'long' ? 'long-head' : 'half-head')) };
        } finally {
          await server.stop();
        }
      } catch (error) {
        slowloris[spec.name] = { error: (error as Error).message };
        warn(`slowloris ${spec.name} failed: ${(error as Error).message}`);
      } finally {
        await cgroup.remove().catch((error: Error) => warn(error.message));
      }
    }
    const pacedMedians = summarisePaced(paced);

    // Report.
    const summaries = servers.map((spec) => summarise(spec, results.get(spec.name)!));
    const ourSummary = ours ? summaries[0] : undefined;
    const peerSummaries = summaries.filter((s) => s !== ourSummary);
    const arm64Bytes = fileSize(path.join(repo, 'build/linux-arm64/asm-web-service'));
    const targets = checkTargets(ourSummary, peerSummaries, arm64Bytes);

    const lines: string[] = [];
    lines.push('', `Medians of ${config.rounds} rounds (load figures: of the rounds other processes left alone, when any); servers pinned to CPU ${SERVER_CPU}, wrk (1 thread, ${config.connections} connections, ${config.seconds} s) to CPU ${LOAD_CPU}; pipelined = ${PIPELINE_DEPTH} requests per write; ${config.idleConnections} idle connections.`, '');
    lines.push(formatTable(summaries, ourSummary), `* wrk used ≥ ${LOAD_BOUND_PERCENT} % of its core: the figure is the load generator's limit as much as the server's.`, '');
    const perRequest = Object.entries(instructions).map(([name, counts]) =>
      'error' in counts ? `  ${name.padEnd(16)} failed: ${counts.error}` : `  ${name.padEnd(16)} ${Math.round(counts.keepalivePerRequest).toLocaleString('en-US').padStart(9)} keep-alive   ${Math.round(counts.closePerRequest).toLocaleString('en-US').padStart(9)} close`);
    const ourRounds = ours ? results.get(ours.name)! : [];
    if (ourRounds.length) {
      const last = ourRounds[ourRounds.length - 1];
      const describe = (byMapping: Record<string, number>) =>
        Object.entries(byMapping).map(([name, kib]) => `${name === ourBinary ? 'binary' : name} ${kib}`).join(', ');
      lines.push(`${ours!.name} resident KiB by mapping (last round): idle: ${describe(last.rssIdleByMapping)}; with ${last.idleConnections.heldByServer} connections: ${describe(last.idleConnections.rssByMapping)}`, '');
    }
    if (perRequest.length) lines.push('User-space instructions per request (callgrind; run with N requests minus run with none, ÷ N):', ...perRequest, '');
    const describeCalls = (profile: SyscallProfile) =>
      `${profile.total.toFixed(2).padStart(5)} (${Object.entries(profile.perCall).slice(0, 6).map(([name, n]) => `${name} ${n}`).join(', ')})`;
    const perRequestCalls = Object.entries(syscalls).map(([name, profile]) =>
      'error' in profile ? `  ${name.padEnd(16)} failed: ${profile.error}` : `  ${name.padEnd(16)} keep-alive ${describeCalls(profile.keepalive)}\n  ${''.padEnd(16)} close      ${describeCalls(profile.close)}`);
    if (perRequestCalls.length) lines.push('System calls per request (strace -c under wrk, 50 connections; load run minus idle run, ÷ responses):', ...perRequestCalls, '');
    if (workerSpread) {
      const spread = workerSpread as Record<string, { requestsPerSecond: number; sharePercent: number[]; shareBasis: string; maxOverMin: number; perWorker: { connectionsMidRun: number }[] }>;
      lines.push('WORKERS=2 spread (both workers on CPU 0):');
      for (const mode of ['keepalive', 'close']) {
        const s = spread[mode];
        if (!s) continue;
        const connections = mode === 'keepalive' ? `; connections ${s.perWorker.map((w) => w.connectionsMidRun).join(' / ')}` : '';
        lines.push(`  ${mode.padEnd(10)} ${s.requestsPerSecond.toLocaleString('en-US')} req/s; ${s.shareBasis} per worker ${s.sharePercent.map((p) => `${p} %`).join(' / ')} (max/min ${s.maxOverMin})${connections}`);
      }
      lines.push('');
    }
    if (ours && parts.has('saturated')) lines.push('Targets (issue 6):', formatTargets(targets), '');
    lines.push(...formatPaced(pacedMedians, servers.map((s) => s.name)), ...formatIdleAndSlowloris(idle, slowloris, config.slowHead));
    // The slowloris targets are for half heads; a long-head run (the memory limit's worst case) is not judged by them.
    const judgedSlowloris = config.slowHead === 'half' ? slowloris : {};
    const podTargets = ours ? checkPodTargets(ours.name, floor?.name, pacedMedians, summaries, idle, judgedSlowloris) : [];
    if (podTargets.length) lines.push('Targets (issue 10):', ...podTargets.map((t) => `  ${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.detail}`), '');
    if (warnings.length) lines.push(`${warnings.length} warning(s), see the log above and "warnings" in the JSON.`);
    lines.push(`JSON: ${path.relative(repo, config.out)}; took ${Math.round((Date.now() - started) / 1000)} s.`);
    process.stdout.write(lines.join('\n') + '\n');

    const git = (args: string[]) => output('git', ['-C', repo, ...args]);
    const json = {
      date: new Date().toISOString(),
      commit: git(['rev-parse', 'HEAD']),
      dirty: git(['status', '--porcelain', '--', 'asm']) !== '',
      machine: {
        kernel: os.release(),
        cpu: os.cpus()[0]?.model,
        cpus: os.cpus().length,
        loadAverage: os.loadavg(),
      },
      versions: {
        nginx: output('nginx', ['-v']),
        h2o: output('h2o', ['--version']).split('\n')[0],
        lighttpd: output('lighttpd', ['-v']).split('\n')[0],
        wrk: output('wrk', ['-v']).split('\n')[0],
      },
      settings: { ...config, out: path.relative(repo, config.out), pipelineDepth: PIPELINE_DEPTH, serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, pageBytes: page.length },
      medians: Object.fromEntries(summaries.map((s) => [s.name, s])),
      ratios: ourSummary ? Object.fromEntries(peerSummaries.map((p) => [p.name, ratios(ourSummary, p)])) : {},
      instructionsPerRequest: instructions,
      syscallsPerRequest: syscalls,
      workerSpread,
      targets,
      paced: { delayMs: 10, rates: PACED_RATES, medians: pacedMedians, rounds: Object.fromEntries(paced) },
      idle,
      slowloris,
      podTargets,
      rounds: Object.fromEntries(results),
      failures,
      warnings,
    };
    mkdirSync(path.dirname(config.out), { recursive: true });
    writeFileSync(config.out, JSON.stringify(json, null, 2) + '\n');
  } finally {
    if (process.env.BENCH_KEEP_WORKDIR) log(`work folder kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  // A figure never makes the benchmark fail; only a broken harness does.
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1; // the harness itself broke (a poor figure never does this)
});
