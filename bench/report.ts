// Turns the benchmark's medians into the table printed on stdout and the list of the issue's targets.

export interface ServerSummary {
  name: string;
  rounds: number;
  /** Rounds whose every load run other processes left (nearly) alone; the load medians use those when any. */
  undisturbedRounds: number;
  keepaliveRps?: number;
  closeRps?: number;
  pipelinedRps?: number;
  /** Requests per second of CPU 0 busy time (server plus its softirq): what one core could serve, wrk aside. */
  keepaliveCapacity?: number;
  closeCapacity?: number;
  pipelinedCapacity?: number;
  p50Ms?: number;
  p99Ms?: number;
  rssIdleKiB?: number;
  rssConnectionsKiB?: number;
  connectionsHeld?: number;
  binaryBytes?: number;
  binaryWithLibrariesBytes?: number;
  responseBytes?: number;
  keepaliveServerCpuPercent?: number;
  closeServerCpuPercent?: number;
  pipelinedServerCpuPercent?: number;
  keepaliveServerSoftirqPercent?: number;
  keepaliveLoadCpuPercent?: number;
  closeLoadCpuPercent?: number;
  pipelinedLoadCpuPercent?: number;
}

/** wrk CPU at or above this: the req/s figure is (nearly) the load generator's limit, marked * in the table. */
export const LOAD_BOUND_PERCENT = 90;
const loadCpuOf: Partial<Record<keyof ServerSummary, keyof ServerSummary>> = {
  keepaliveRps: 'keepaliveLoadCpuPercent',
  closeRps: 'closeLoadCpuPercent',
  pipelinedRps: 'pipelinedLoadCpuPercent',
};

interface Row {
  label: string;
  key: keyof ServerSummary;
  format: (value: number) => string;
  /** Which way is better, for the reader of the ratio columns. */
  better: 'higher' | 'lower' | '';
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => `${value.toFixed(value < 10 ? 3 : 1)} ms`;
const kib = (value: number) => (value >= 10240 ? `${(value / 1024).toFixed(1)} MiB` : `${integer(value)} KiB`);
const bytes = (value: number) => (value >= 1 << 20 ? `${(value / (1 << 20)).toFixed(2)} MiB` : `${integer(value)} B`);
const percent = (value: number) => `${value.toFixed(0)} %`;

export const rows: Row[] = [
  { label: 'keep-alive req/s', key: 'keepaliveRps', format: integer, better: 'higher' },
  { label: 'Connection: close req/s', key: 'closeRps', format: integer, better: 'higher' },
  { label: `pipelined req/s`, key: 'pipelinedRps', format: integer, better: 'higher' },
  { label: 'keep-alive req per CPU-0 second', key: 'keepaliveCapacity', format: integer, better: 'higher' },
  { label: 'close req per CPU-0 second', key: 'closeCapacity', format: integer, better: 'higher' },
  { label: 'pipelined req per CPU-0 second', key: 'pipelinedCapacity', format: integer, better: 'higher' },
  { label: 'p50 latency (keep-alive)', key: 'p50Ms', format: ms, better: 'lower' },
  { label: 'p99 latency (keep-alive)', key: 'p99Ms', format: ms, better: 'lower' },
  { label: 'RSS idle', key: 'rssIdleKiB', format: kib, better: 'lower' },
  { label: 'RSS, idle connections open', key: 'rssConnectionsKiB', format: kib, better: 'lower' },
  { label: '  connections the server held', key: 'connectionsHeld', format: integer, better: '' },
  { label: 'binary size', key: 'binaryBytes', format: bytes, better: 'lower' },
  { label: '  with shared libraries', key: 'binaryWithLibrariesBytes', format: bytes, better: 'lower' },
  { label: 'response size (GET /)', key: 'responseBytes', format: integer, better: '' },
  { label: 'server CPU, keep-alive', key: 'keepaliveServerCpuPercent', format: percent, better: '' },
  { label: 'server CPU, close', key: 'closeServerCpuPercent', format: percent, better: '' },
  { label: 'server CPU, pipelined', key: 'pipelinedServerCpuPercent', format: percent, better: '' },
  { label: 'server core softirq, keep-alive', key: 'keepaliveServerSoftirqPercent', format: percent, better: '' },
  { label: 'wrk CPU, keep-alive', key: 'keepaliveLoadCpuPercent', format: percent, better: '' },
  { label: 'wrk CPU, close', key: 'closeLoadCpuPercent', format: percent, better: '' },
  { label: 'wrk CPU, pipelined', key: 'pipelinedLoadCpuPercent', format: percent, better: '' },
  { label: 'rounds undisturbed (load)', key: 'undisturbedRounds', format: integer, better: '' },
];

/** ours / peer for every row that has a direction; undefined where either side is missing. */
export function ratios(ours: ServerSummary, peer: ServerSummary): Record<string, number | undefined> {
  const result: Record<string, number | undefined> = {};
  for (const row of rows) {
    if (row.better === '') continue;
    const a = ours[row.key] as number | undefined;
    const b = peer[row.key] as number | undefined;
    result[row.key] = a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  }
  return result;
}

/** The table: one column per server, then one ratio column (ours ÷ peer) per peer when ours was measured. */
export function formatTable(servers: ServerSummary[], ours: ServerSummary | undefined): string {
  const peers = servers.filter((s) => s !== ours);
  const header = ['', ...servers.map((s) => s.name), ...(ours ? peers.map((p) => `÷ ${p.name}`) : []), ''];
  const lines: string[][] = [header];
  for (const row of rows) {
    const cells = servers.map((s) => {
      const value = s[row.key] as number | undefined;
      const loadKey = loadCpuOf[row.key];
      const loadBound = loadKey !== undefined && ((s[loadKey] as number | undefined) ?? 0) >= LOAD_BOUND_PERCENT;
      return value === undefined ? '-' : `${row.format(value)}${loadBound ? '*' : ' '}`;
    });
    const ratioCells = ours
      ? peers.map((p) => {
          if (row.better === '') return '';
          const ratio = ratios(ours, p)[row.key];
          return ratio === undefined ? '-' : `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}×`;
        })
      : [];
    lines.push([row.label, ...cells, ...ratioCells, row.better && ours ? `(${row.better} is better)` : '']);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  return lines
    .map((line) => line.map((cell, i) => (i === 0 || i === line.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

export interface Target {
  target: string;
  actual: string;
  met: boolean | undefined;
}

/** The issue's targets against the medians (undefined: a figure is missing). */
export function checkTargets(ours: ServerSummary | undefined, peers: ServerSummary[], arm64BinaryBytes: number | undefined): Target[] {
  const peer = (name: string) => peers.find((p) => p.name === name);
  const ratioOf = (key: keyof ServerSummary, peerName: string) => {
    const a = ours?.[key] as number | undefined;
    const b = peer(peerName)?.[key] as number | undefined;
    return a !== undefined && b !== undefined ? a / b : undefined;
  };
  // Judged on req/s as the issue states it; the per-CPU-0-second ratio beside it is what the server alone achieves
  // when wrk, not the server, is the limit.
  const relative = (key: keyof ServerSummary, capacityKey: keyof ServerSummary, peerName: string, factor: number, label: string): Target => {
    const ratio = ratioOf(key, peerName);
    const capacityRatio = ratioOf(capacityKey, peerName);
    return {
      target: `${label} ≥ ${factor.toFixed(2)} × ${peerName}`,
      actual:
        ratio === undefined
          ? 'not measured'
          : `${ratio.toFixed(2)} ×${capacityRatio === undefined ? '' : `  (per CPU-0 second: ${capacityRatio.toFixed(2)} ×)`}`,
      met: ratio === undefined ? undefined : ratio >= factor,
    };
  };
  const absolute = (value: number | undefined, limit: number, label: string, format: (v: number) => string): Target => ({
    target: `${label} ≤ ${format(limit)}`,
    actual: value === undefined ? 'not measured' : format(value),
    met: value === undefined ? undefined : value <= limit,
  });
  return [
    relative('keepaliveRps', 'keepaliveCapacity', 'h2o', 1.15, 'keep-alive req/s'),
    relative('keepaliveRps', 'keepaliveCapacity', 'nginx', 1.3, 'keep-alive req/s'),
    relative('closeRps', 'closeCapacity', 'h2o', 1.0, 'close req/s'),
    relative('pipelinedRps', 'pipelinedCapacity', 'h2o', 1.0, 'pipelined req/s'),
    absolute(ours?.rssIdleKiB, 16, 'RSS idle', kib),
    absolute(ours?.rssConnectionsKiB, 2048, 'RSS with idle connections', kib),
    absolute(ours?.binaryBytes, 4096, 'binary linux/amd64', bytes),
    absolute(arm64BinaryBytes, 4096, 'binary linux/arm64', bytes),
  ];
}

export function formatTargets(targets: Target[]): string {
  return targets
    .map((t) => `  ${t.met === undefined ? '?   ' : t.met ? 'met ' : 'MISS'}  ${t.target.padEnd(40)} ${t.actual}`)
    .join('\n');
}

/** Medians over rounds of one server's paced results, per "mode rate" (e.g. "keepalive 1000"). */
export interface PacedMedian {
  mode: string;
  offeredRate: number;
  achievedRate: number;
  serverCpuUsPerRequest: number;
  serverSoftirqUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  contextSwitchesPerRequest: number;
  loadCpuPercent: number;
  errors: number;
}

interface PacedRun {
  mode: string;
  offeredRate: number;
  requestsPerSecond: number;
  serverCpuUsPerRequest: number;
  serverSoftirqUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  contextSwitchesPerRequest: number;
  loadCpuPercent: number;
  errors: number;
}

const medianOf = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Per server, per "mode rate": the medians of its rounds. */
export function summarisePaced(paced: Map<string, PacedRun[][]>): Record<string, Record<string, PacedMedian>> {
  const out: Record<string, Record<string, PacedMedian>> = {};
  for (const [name, rounds] of paced) {
    const byKey = new Map<string, PacedRun[]>();
    for (const run of rounds.flat()) byKey.set(`${run.mode} ${run.offeredRate}`, [...(byKey.get(`${run.mode} ${run.offeredRate}`) ?? []), run]);
    out[name] = {};
    for (const [key, runs] of byKey) {
      const m = (pick: (r: PacedRun) => number) => medianOf(runs.map(pick));
      out[name][key] = {
        mode: runs[0].mode,
        offeredRate: runs[0].offeredRate,
        achievedRate: m((r) => r.requestsPerSecond),
        serverCpuUsPerRequest: m((r) => r.serverCpuUsPerRequest),
        serverSoftirqUsPerRequest: m((r) => r.serverSoftirqUsPerRequest),
        p50Ms: m((r) => r.p50Ms),
        p99Ms: m((r) => r.p99Ms),
        p999Ms: m((r) => r.p999Ms),
        contextSwitchesPerRequest: m((r) => r.contextSwitchesPerRequest),
        loadCpuPercent: m((r) => r.loadCpuPercent),
        errors: runs.reduce((sum, r) => sum + r.errors, 0),
      };
    }
  }
  return out;
}

const cell = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits));

/** The paced table: one row per mode and offered rate, one column group per server. */
export function formatPaced(medians: Record<string, Record<string, PacedMedian>>, names: string[]): string[] {
  const keys = [...new Set(names.flatMap((n) => Object.keys(medians[n] ?? {})))];
  if (keys.length === 0) return [];
  const lines = [
    'Paced loads (wrk paces each connection 10 ms after every response; medians of the rounds). Per server:',
    'achieved req/s, server CPU µs per request (utime + stime), its core\'s softirq µs per request, p99 / p99.9 ms, context switches per request.',
    '',
    `| load | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
  ];
  for (const key of keys) {
    const [mode, rate] = key.split(' ');
    const label = `${mode === 'keepalive' ? 'keep-alive' : 'close'} ${Number(rate).toLocaleString('en-US')}/s`;
    const cells = names.map((n) => {
      const m = medians[n]?.[key];
      if (!m) return '—';
      return `${Math.round(m.achievedRate).toLocaleString('en-US')}/s, **${cell(m.serverCpuUsPerRequest, 1)} µs** + ${cell(m.serverSoftirqUsPerRequest, 1)} si, ${cell(m.p99Ms, 2)} / ${cell(m.p999Ms, 2)} ms, ${cell(m.contextSwitchesPerRequest, 2)} cs`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

interface IdleResult { seconds: number; none: { cpuMsPerMinute: number; wakeupsPerMinute: number }; connections: number; withConnections: { cpuMsPerMinute: number; wakeupsPerMinute: number } }
interface SlowResult { opened: number; stillOpen: number; rssKiB: number; cgroupPeak: { memoryBytes: number; socketBytes: number; totalBytes: number }; probeMedianMs: number; probeWorstMs: number; probePath: string }
const ok = <T>(value: unknown): value is T => typeof value === 'object' && value !== null && !('error' in value);

/** The idle and slowloris tables. */
export function formatIdleAndSlowloris(idle: Record<string, unknown>, slowloris: Record<string, unknown>, slowHead = 'half'): string[] {
  const lines: string[] = [];
  const idleNames = Object.keys(idle);
  if (idleNames.length) {
    lines.push('Idle (CPU ms and wake-ups per minute; wake-ups are the server processes\' context switches):', '', '| server | no connection | 1,000 idle keep-alive connections |', '|---|---|---|');
    for (const name of idleNames) {
      const r = idle[name];
      lines.push(ok<IdleResult>(r)
        ? `| ${name} | ${cell(r.none.cpuMsPerMinute, 1)} ms, ${cell(r.none.wakeupsPerMinute, 1)} wake-ups | ${cell(r.withConnections.cpuMsPerMinute, 1)} ms, ${cell(r.withConnections.wakeupsPerMinute, 1)} wake-ups (${r.connections} held) |`
        : `| ${name} | failed: ${(r as { error: string }).error} | |`);
    }
    lines.push('');
  }
  const slowNames = Object.keys(slowloris);
  if (slowNames.length) {
    const holding = slowHead === 'long' ? '7,000 bytes of a request head' : 'half a request head';
    lines.push(`Slowloris (connections each holding ${holding}; the server alone in a memory cgroup):`, '', '| server | held | RSS | cgroup peak: memory + socket buffers = total | a request meanwhile: median / worst |', '|---|---|---|---|---|');
    for (const name of slowNames) {
      const r = slowloris[name];
      const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;
      lines.push(ok<SlowResult>(r)
        ? `| ${name} | ${r.stillOpen} of ${r.opened} | ${(r.rssKiB / 1024).toFixed(1)} MiB | ${mib(r.cgroupPeak.memoryBytes)} + ${mib(r.cgroupPeak.socketBytes)} = ${mib(r.cgroupPeak.totalBytes)} | ${r.probePath} ${cell(r.probeMedianMs, 2)} / ${cell(r.probeWorstMs, 2)} ms |`
        : `| ${name} | failed: ${(r as { error: string }).error} | | | |`);
    }
    lines.push('');
  }
  return lines;
}

/** Issue 10's targets, each met or missed with the figures that decide it. */
export function checkPodTargets(
  ours: string,
  floor: string | undefined,
  paced: Record<string, Record<string, PacedMedian>>,
  summaries: ServerSummary[],
  idle: Record<string, unknown>,
  slowloris: Record<string, unknown>,
): { target: string; met: boolean; detail: string }[] {
  const targets: { target: string; met: boolean; detail: string }[] = [];
  // Peers are the other servers: not the floor, nor a build or variant of ours ("asm-web-service (...)").
  const peerNames = summaries.map((s) => s.name).filter((n) => n !== floor && !n.startsWith(ours));
  const peerPaced = Object.keys(paced).filter((n) => n !== floor && !n.startsWith(ours));
  for (const key of Object.keys(paced[ours] ?? {})) {
    const mine = paced[ours][key];
    const best = Math.min(...peerPaced.map((n) => paced[n][key]?.serverCpuUsPerRequest ?? Infinity));
    const bestP99 = Math.min(...peerPaced.map((n) => paced[n][key]?.p99Ms ?? Infinity));
    const floorCpu = floor ? paced[floor]?.[key]?.serverCpuUsPerRequest : undefined;
    const peerMeasured = Number.isFinite(best);
    if (peerMeasured) targets.push({ target: `${key}: CPU/request ≤ 0.8 × best peer`, met: mine.serverCpuUsPerRequest <= 0.8 * best, detail: `${cell(mine.serverCpuUsPerRequest, 1)} µs vs ${cell(best, 1)} µs (${cell(mine.serverCpuUsPerRequest / best, 2)}×)` });
    if (floorCpu !== undefined) targets.push({ target: `${key}: CPU/request ≤ 1.1 × C floor`, met: mine.serverCpuUsPerRequest <= 1.1 * floorCpu, detail: `${cell(mine.serverCpuUsPerRequest, 1)} µs vs ${cell(floorCpu, 1)} µs (${cell(mine.serverCpuUsPerRequest / floorCpu, 2)}×)` });
    if (peerMeasured) targets.push({ target: `${key}: p99 ≤ best peer's`, met: mine.p99Ms <= bestP99, detail: `${cell(mine.p99Ms, 3)} ms vs ${cell(bestP99, 3)} ms` });
  }
  const me = summaries.find((s) => s.name === ours);
  const peers = summaries.filter((s) => peerNames.includes(s.name));
  if (me && peers.length && me.keepaliveRps !== undefined) {
    for (const [key, factor] of [['keepaliveRps', 1], ['closeRps', 1], ['pipelinedRps', 5]] as const) {
      const best = Math.max(...peers.map((p) => p[key] ?? 0));
      targets.push({ target: `saturated ${key.replace('Rps', '')} req/s ≥ ${factor === 1 ? '' : `${factor} × `}best peer's`, met: (me[key] ?? 0) >= factor * best, detail: `${Math.round(me[key] ?? 0)} vs ${Math.round(best)} (${cell((me[key] ?? 0) / best, 2)}×)` });
    }
  }
  const myIdle = idle[ours];
  if (ok<IdleResult>(myIdle)) targets.push({ target: 'idle, no connection: 0 wake-ups per minute', met: myIdle.none.wakeupsPerMinute === 0, detail: `${cell(myIdle.none.wakeupsPerMinute, 1)} per minute` });
  const mySlow = slowloris[ours];
  if (ok<SlowResult>(mySlow)) {
    targets.push({ target: `slowloris (${mySlow.opened}): RSS ≤ 8 MiB`, met: mySlow.rssKiB <= 8192, detail: `${(mySlow.rssKiB / 1024).toFixed(1)} MiB` });
    targets.push({ target: 'slowloris: /health within 10 ms', met: mySlow.probeWorstMs <= 10, detail: `worst ${cell(mySlow.probeWorstMs, 2)} ms` });
    const before = Object.entries(slowloris).find(([n]) => n.includes('baseline'))?.[1];
    if (ok<SlowResult>(before)) targets.push({ target: 'slowloris: cgroup peak ≤ half the baseline build\'s', met: mySlow.cgroupPeak.totalBytes <= before.cgroupPeak.totalBytes / 2, detail: `${(mySlow.cgroupPeak.totalBytes / (1 << 20)).toFixed(1)} MiB vs ${(before.cgroupPeak.totalBytes / (1 << 20)).toFixed(1)} MiB` });
  }
  return targets;
}
