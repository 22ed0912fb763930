// Starts and stops the assembly server for tests: one binary per architecture (arm64 runs under
// qemu-aarch64-static), each on a free loopback-reachable port, with a handle to signal, kill and observe it.
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Arch = 'amd64' | 'arm64';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The emulator the arm64 programs of the tests run under. */
export const qemuAarch64 = '/usr/bin/qemu-aarch64-static';

/**
 * Architectures under test: both by default; SERVER_ARCHS=amd64 (comma-separated) narrows a local run.
 * A missing binary is a failure, not a skip, so CI can never pass without testing both.
 */
export const archs: Arch[] = (process.env.SERVER_ARCHS ?? 'amd64,arm64')
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is Arch => name === 'amd64' || name === 'arm64');

/** Emulated runs are several times slower; timing assertions and workloads scale by this. */
export function slowdown(arch: Arch): number {
  return arch === 'arm64' ? 4 : 1;
}

export function binaryPath(arch: Arch): string {
  return path.join(repoRoot, 'build', `linux-${arch}`, 'asm-web-service');
}

/** The page exactly as the build filled it in (build/linux-<arch>/gen/page.html). */
export function builtPage(arch: Arch): Buffer {
  return readFileSync(path.join(repoRoot, 'build', `linux-${arch}`, 'gen', 'page.html'));
}

export function binarySize(arch: Arch): number {
  return statSync(binaryPath(arch)).size;
}

/** The command line that runs the binary natively or under the emulator. */
export type ListenAddress = '[::]' | '0.0.0.0';

/** The server's one startup line (docs/server.md): `[::]` with a dual-stack listener, `0.0.0.0` without IPv6. */
export function startupLine(port: number | string, address: ListenAddress = '[::]'): string {
  return `asm-web-service: listening on http://${address}:${port}\n`;
}

/** test/support/NAME.c, built once (and again when the source changes) into build/test-support/NAME. */
export async function supportProgram(name: string): Promise<string> {
  const source = path.join(repoRoot, 'test', 'support', `${name}.c`);
  const program = path.join(repoRoot, 'build', 'test-support', name);
  if (!existsSync(program) || statSync(program).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(path.dirname(program), { recursive: true });
    await execa('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', program, source]);
  }
  return program;
}

/**
 * test/support/without-ipv6.c: a prefix that runs the server as on a kernel without IPv6 (socket(AF_INET6)
 * fails with EAFNOSUPPORT).
 */
export function withoutIpv6(): Promise<string> {
  return supportProgram('without-ipv6');
}

export function commandFor(arch: Arch, args: string[] = []): [string, string[]] {
  const binary = binaryPath(arch);
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: build it with 'sh asm/build.sh ${arch}'`);
  }
  return arch === 'arm64' ? [qemuAarch64, [binary, ...args]] : [binary, args];
}

/** A port nobody listens on right now (the kernel picks it; never 8080). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '0.0.0.0', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => (port === 8080 ? freePort().then(resolve, reject) : resolve(port)));
    });
  });
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited, for shutdown timing. */
  at: number;
}

export interface ServerHandle {
  arch: Arch;
  port: number;
  pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the first process exits (never rejects). */
  exited: Promise<ServerExit>;
  /** Sends a signal to the first process only, as a container runtime does to PID 1. */
  signal(name: NodeJS.Signals): number;
  /** SIGKILLs the whole process group (workers included) and waits for the exit. */
  stop(): Promise<void>;
  /** Open descriptors of a process of this server (default: the first one). */
  fdCount(pid?: number): number;
  /** Process ids of the workers the first process started (its direct children). */
  workerPids(): number[];
}

export interface StartOptions {
  /** Environment for the server; PORT is added unless given. Nothing else is inherited. */
  env?: Record<string, string>;
  args?: string[];
  /** A command the server runs under, e.g. ['prlimit', '--nofile=64:64', '--'] (it must exec, keeping the pid). */
  prefix?: string[];
  /** The listening address the startup line names: `[::]` (dual-stack, the default) or `0.0.0.0` (no IPv6). */
  address?: ListenAddress;
}

const running = new Set<ServerHandle>();

/** Stops every server a test file left running; call from afterAll. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop()));
}

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) found.push(...text.split(/\s+/).map(Number));
    } catch {
      // the task ended while we looked
    }
  }
  return found;
}

/**
 * Starts the server and resolves once its startup line is on stdout. Retries with another port when the one
 * picked was taken in between (other engineers share this machine).
 */
export async function startServer(arch: Arch, options: StartOptions = {}): Promise<ServerHandle> {
  for (let attempt = 1; ; attempt++) {
    const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
    try {
      return await startOnce(arch, port, options);
    } catch (error) {
      const portTaken = error instanceof PortTakenError;
      if (!portTaken || options.env?.PORT || attempt >= 5) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(arch: Arch, port: number, options: StartOptions): Promise<ServerHandle> {
  const [binaryFile, binaryArgs] = commandFor(arch, options.args ?? []);
  const [file, args] = options.prefix?.length
    ? [options.prefix[0], [...options.prefix.slice(1), binaryFile, ...binaryArgs]]
    : [binaryFile, binaryArgs];
  const subprocess: ResultPromise = execa(file, args, {
    env: { PORT: String(port), ...options.env },
    extendEnv: false,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    // Own process group, so stop() also reaches forked workers; signals for tests go to the pid only.
    killDescendants: true,
    forceKillAfterDelay: false,
  });
  const pid = subprocess.pid;
  if (pid === undefined) throw new Error(`could not spawn ${file}`);
  let stdoutText = '';
  let stderrText = '';
  subprocess.stdout?.setEncoding('utf8');
  subprocess.stderr?.setEncoding('utf8');
  subprocess.stdout?.on('data', (chunk: string) => (stdoutText += chunk));
  subprocess.stderr?.on('data', (chunk: string) => (stderrText += chunk));
  const exited = new Promise<ServerExit>((resolve) => {
    subprocess.nodeChildProcess.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  subprocess.catch(() => {}); // the exit promise above is the one tests use

  const handle: ServerHandle = {
    arch,
    port,
    pid,
    stdout: () => stdoutText,
    stderr: () => stderrText,
    exited,
    signal(name) {
      process.kill(pid, name);
      return performance.now();
    },
    async stop() {
      running.delete(handle);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    },
    fdCount(which = pid) {
      return readdirSync(`/proc/${which}/fd`).length;
    },
    workerPids: () => childrenOf(pid),
  };
  running.add(handle);

  // With ACCESS_LOG=json, stdout has JSON lines only: the start event names the URL instead.
  const expectedLine =
    options.env?.ACCESS_LOG === 'json' ? `,"url":"http://${options.address ?? '[::]'}:${port}"` : startupLine(port, options.address);
  const deadline = 10_000 * slowdown(arch);
  const outcome = await new Promise<'ready' | ServerExit | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), deadline);
    const check = () => {
      if (stdoutText.includes(expectedLine)) {
        clearTimeout(timer);
        resolve('ready');
      }
    };
    subprocess.stdout?.on('data', check);
    check();
    exited.then((exit) => {
      clearTimeout(timer);
      resolve(stdoutText.includes(expectedLine) ? 'ready' : exit);
    });
  });
  if (outcome === 'ready') return handle;
  await handle.stop();
  if (outcome !== 'timeout' && stderrText.includes(`port ${port} is already in use`)) {
    throw new PortTakenError(stderrText);
  }
  throw new Error(
    `${arch} server did not print its startup line (${outcome === 'timeout' ? 'timeout' : `exit ${outcome.code}`}); ` +
      `stdout: ${JSON.stringify(stdoutText)}, stderr: ${JSON.stringify(stderrText)}`,
  );
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Runs the binary to completion (errors, the health probe) with exactly the given environment. */
export async function runBinary(
  arch: Arch,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<RunResult> {
  const [file, fullArgs] = commandFor(arch, args);
  const started = performance.now();
  const result = await execa(file, fullArgs, {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
    stripFinalNewline: false,
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    durationMs: performance.now() - started,
  };
}

/** A process that is gone or a zombie waiting to be reaped no longer serves. */
export function processAlive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until check() is true, polling; returns false if it never became true before the deadline. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return true;
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A value once two reads `everyMs` apart agree (and, if given, it is accepted), or the last read at the deadline. */
export async function steadyValue(read: () => number, timeoutMs: number, everyMs = 100, accept: (value: number) => boolean = () => true): Promise<number> {
  let last = NaN;
  await eventually(() => {
    const now = read();
    const steady = now === last && accept(now);
    last = now;
    return steady;
  }, timeoutMs, everyMs);
  return last;
}

/** The server's descriptor count once it holds still for `everyMs` (connections of earlier probes closing). */
export function steadyFdCount(server: ServerHandle, timeoutMs: number, everyMs = 100): Promise<number> {
  return steadyValue(() => server.fdCount(), timeoutMs, everyMs);
}
