// User-space instructions per request, counted by valgrind's callgrind (perf has no hardware counters in most
// VMs): total instructions of a run that serves N requests, minus a run that serves none, divided by N.
// Machine noise does not change these counts, so they compare builds of the server across runs and machines.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sendSequentialRequests } from './client.js';
import { RunningServer, freePort, type ServerSpec, type StartOptions } from './servers.js';

export interface InstructionCounts {
  /** Instructions per request on kept-alive connections (sequential requests, one per read). */
  keepalivePerRequest: number;
  /** Instructions per request when every request has its own connection (`Connection: close`). */
  closePerRequest: number;
  /** Instructions of start-up, one probe connection and shut-down (the baseline subtracted). */
  baseline: number;
  keepaliveRequests: number;
  closeRequests: number;
}

type Workload = (port: number) => Promise<number>;

/** countInstructionsOnce, tried a second time if the first run fails (a busy machine can stall a start). */
async function countInstructions(...args: Parameters<typeof countInstructionsOnce>) {
  try {
    return await countInstructionsOnce(...args);
  } catch {
    return countInstructionsOnce(...args);
  }
}

/** Runs the server under callgrind, applies the workload, stops it and returns the total instruction count. */
async function countInstructionsOnce(spec: ServerSpec, options: Omit<StartOptions, 'port'>, label: string, workload: Workload, keepDir?: string) {
  const port = await freePort();
  const outFile = path.join(options.workDir, `callgrind.${spec.name}.${label}.out`);
  // Servers that drop root (h2o, nginx) write the profile at exit as nobody: let them.
  writeFileSync(outFile, '');
  chmodSync(outFile, 0o666);
  const valgrind = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${outFile}`, '--vgdb=no', '--quiet'];
  const server = await RunningServer.start(spec, { ...options, port, singleProcess: true }, 0, { wrapper: valgrind, readyTimeoutMs: 60_000 });
  try {
    await workload(port);
  } finally {
    await server.stop(60_000);
  }
  const profile = readFileSync(outFile, 'utf8');
  const totals = /^totals:\s+(\d+)/m.exec(profile) ?? /^summary:\s+(\d+)/m.exec(profile);
  if (!totals) throw new Error(`${outFile}: no instruction total`);
  if (keepDir) {
    mkdirSync(keepDir, { recursive: true });
    copyFileSync(outFile, path.join(keepDir, path.basename(outFile)));
  }
  return Number(totals[1]);
}

/**
 * Instructions per request of one server, keep-alive and close, from three callgrind runs. With keepDir, the
 * profiles are copied there for `callgrind_annotate` (per-routine counts).
 */
export async function instructionsPerRequest(
  spec: ServerSpec,
  options: Omit<StartOptions, 'port'>,
  keepDir?: string,
  requests = { keepaliveConnections: 4, keepalivePerConnection: 500, close: 500 },
): Promise<InstructionCounts> {
  const expect = (wanted: number) => (got: number) => {
    if (got !== wanted) throw new Error(`${spec.name} under callgrind: ${got} of ${wanted} responses were 200`);
    return got;
  };
  const keepaliveRequests = requests.keepaliveConnections * requests.keepalivePerConnection;
  const baseline = await countInstructions(spec, options, 'baseline', async () => 0, keepDir);
  const keepalive = await countInstructions(spec, options, 'keepalive', (port) =>
    sendSequentialRequests(port, {
      connections: requests.keepaliveConnections,
      perConnection: requests.keepalivePerConnection,
      close: false,
      parallel: 1,
    }).then(expect(keepaliveRequests)),
    keepDir,
  );
  const close = await countInstructions(spec, options, 'close', (port) =>
    sendSequentialRequests(port, { connections: requests.close, perConnection: 1, close: true, parallel: 1 }).then(
      expect(requests.close),
    ),
    keepDir,
  );
  return {
    keepalivePerRequest: (keepalive - baseline) / keepaliveRequests,
    closePerRequest: (close - baseline) / requests.close,
    baseline,
    keepaliveRequests,
    closeRequests: requests.close,
  };
}
