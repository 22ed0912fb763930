// System calls per request, counted by `strace -c` while wrk drives the server: where the kernel time goes, which
// the instruction count (user space only) does not show. A run under load minus a run without, divided by the
// responses wrk received. strace slows every call, so only the counts mean anything, not the timings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runWrk, type LoadMode } from './load.js';
import { RunningServer, freePort, type ServerSpec, type StartOptions } from './servers.js';

/** Calls per request of each system call (those above 0.01), most frequent first, and their sum. */
export interface SyscallProfile {
  total: number;
  perCall: Record<string, number>;
  requests: number;
}

/** Parses the table `strace -c` writes: `% time  seconds  usecs/call  calls  [errors]  syscall`. */
function parseSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (match && match[2] !== 'total') calls.set(match[2], Number(match[1]));
  }
  return calls;
}

async function traced(spec: ServerSpec, options: Omit<StartOptions, 'port'>, label: string, load?: { mode: LoadMode; cpu: number; serverCpu: number }) {
  const port = await freePort();
  const outFile = path.join(options.workDir, `strace.${spec.name}.${label}.txt`);
  const server = await RunningServer.start(spec, { ...options, port, singleProcess: true }, 0, {
    wrapper: ['strace', '-f', '-c', '-o', outFile, '--'],
    wrapperIsParent: true,
    readyTimeoutMs: 30_000,
  });
  let requests = 0;
  try {
    if (load) {
      const result = await runWrk(port, load.mode, { seconds: 2, connections: 50, cpu: load.cpu, serverCpu: load.serverCpu, serverPids: () => server.processes() });
      requests = result.requests;
    }
  } finally {
    await server.stop(30_000);
  }
  return { calls: parseSummary(readFileSync(outFile, 'utf8')), requests };
}

/** System calls per request for keep-alive and `Connection: close` load (50 connections, 2 s each). */
export async function syscallsPerRequest(
  spec: ServerSpec,
  options: Omit<StartOptions, 'port'>,
  cpus: { cpu: number; serverCpu: number },
): Promise<Record<'keepalive' | 'close', SyscallProfile>> {
  const baseline = await traced(spec, options, 'baseline');
  const profile = async (mode: 'keepalive' | 'close'): Promise<SyscallProfile> => {
    const { calls, requests } = await traced(spec, options, mode, { mode, ...cpus });
    if (requests === 0) throw new Error(`${spec.name} under strace answered no requests`);
    const perCall: Record<string, number> = {};
    let total = 0;
    for (const [name, count] of [...calls].sort((a, b) => b[1] - a[1])) {
      const perRequest = (count - (baseline.calls.get(name) ?? 0)) / requests;
      total += Math.max(perRequest, 0);
      if (perRequest >= 0.01) perCall[name] = Number(perRequest.toFixed(2));
    }
    return { total: Number(total.toFixed(2)), perCall, requests };
  };
  return { keepalive: await profile('keepalive'), close: await profile('close') };
}
