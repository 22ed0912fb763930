// The servers under test: this project's binary and the Debian peers (nginx, h2o, lighttpd), each started from a
// config under bench/configs/ on a loopback port, pinned to one CPU, and stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitForPort } from './client.js';
import { parentPid as statParent, processTree } from './proc.js';

const configDir = path.join(import.meta.dirname, 'configs');

export interface StartOptions {
  port: number;
  /** Scratch folder: generated configs and the peers' temp files. */
  workDir: string;
  /** Folder holding index.html, the page bytes every server serves. */
  pageDir: string;
  /** Open-file limit the peers may raise themselves to (the hard RLIMIT_NOFILE). */
  fileLimit: number;
  /** Connections a peer is configured to hold (default 1024, the usual default, which sets its idle memory). */
  capacity?: number;
  /** Worker processes of our server (peers always run one). */
  workers?: number;
  /** More environment for our server (variants such as ACCESS_LOG or METRICS_PORT). */
  env?: Record<string, string>;
  /** One process only (nginx without its master), for instruction counting. */
  singleProcess?: boolean;
}

export interface ServerSpec {
  name: string;
  /** The executable, for its size. */
  binary: string;
  /** Program and arguments that run the server in the foreground. */
  command(options: StartOptions): { file: string; args: string[]; env?: Record<string, string> };
  /** A file for its stdout, instead of a pipe the benchmark reads (the access log's variant, as a runtime's log). */
  stdoutFile?(options: StartOptions): string;
}

/** Writes bench/configs/NAME.conf with its @PLACEHOLDERS@ filled into the work folder and returns its path. */
function renderConfig(name: string, options: StartOptions, extra: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    TMP: options.workDir,
    ROOT: options.pageDir,
    PORT: String(options.port),
    NOFILE: String(options.fileLimit),
    CONNECTIONS: String(options.capacity ?? 1024),
    ...extra,
  };
  const text = readFileSync(path.join(configDir, `${name}.conf`), 'utf8').replace(/@([A-Z]+)@/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`${name}.conf: unknown placeholder ${whole}`);
    return values[key];
  });
  const out = path.join(options.workDir, `${name}-${options.port}.conf`);
  writeFileSync(out, text);
  return out;
}

export function ourServer(binary: string): ServerSpec {
  return {
    name: 'asm-web-service',
    binary,
    command: (options) => ({
      file: binary,
      args: [],
      // DRAIN_SECONDS=0: no shutdown grace, so each stop is immediate. HEADER_TIMEOUT_SECONDS as the peers' 60 s,
      // so that the slowloris figure holds every connection.
      env: {
        PORT: String(options.port),
        WORKERS: String(options.workers ?? 1),
        DRAIN_SECONDS: '0',
        HEADER_TIMEOUT_SECONDS: '60',
        ...(options.capacity ? { MAX_CONNECTIONS: String(Math.min(options.capacity, 16300)) } : {}),
        ...options.env,
      },
    }),
  };
}

/**
 * Our server with ACCESS_LOG=json, its stdout a file in the work folder: what the log costs the server (a
 * container runtime reads a pipe and writes a file; a file written by the server itself is the dearer of the two).
 */
export function accessLogServer(binary: string): ServerSpec {
  const plain = ourServer(binary);
  return {
    ...plain,
    name: 'asm-web-service (access log)',
    command: (options) => {
      const command = plain.command(options);
      return { ...command, env: { ...command.env, ACCESS_LOG: 'json' } };
    },
    stdoutFile: (options) => path.join(options.workDir, `access-log-${options.port}.jsonl`),
  };
}

/** bench/floor.c, built by bench/setup.sh: reads, answers with the page, nothing else (the kernel's cost). */
export function floorServer(binary: string): ServerSpec {
  return {
    name: 'floor',
    binary,
    command: (options) => ({ file: binary, args: [String(options.port), path.join(options.pageDir, 'index.html')] }),
  };
}

export const nginx: ServerSpec = {
  name: 'nginx',
  binary: '/usr/sbin/nginx',
  command: (options) => {
    const config = renderConfig('nginx', options, { MASTER: options.singleProcess ? 'off' : 'on' });
    return { file: 'nginx', args: ['-p', options.workDir, '-c', config, '-e', 'stderr'] };
  },
};

export const h2o: ServerSpec = {
  name: 'h2o',
  binary: '/usr/bin/h2o',
  command: (options) => ({ file: 'h2o', args: ['-c', renderConfig('h2o', options)] }),
};

export const lighttpd: ServerSpec = {
  name: 'lighttpd',
  binary: '/usr/sbin/lighttpd',
  command: (options) => ({ file: 'lighttpd', args: ['-D', '-f', renderConfig('lighttpd', options)] }),
};

export const peers = [nginx, h2o, lighttpd];

export class RunningServer {
  /** Servers started and not yet stopped, for the benchmark's interrupt handler. */
  static readonly running = new Set<RunningServer>();
  private output = '';
  private exitStatus: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly spec: ServerSpec,
    readonly port: number,
    private readonly child: ChildProcess,
    /** The wrapper (strace) is the server's parent: signals go to its children, and it exits after them. */
    private readonly wrapperIsParent: boolean,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000); // the tail is enough to explain a failure
    };
    child.stdout?.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = `${spec.name} exited (${signal ?? `code ${code}`}): ${this.output.trim()}`;
        resolve();
      }),
    );
  }

  /**
   * Starts the server pinned to `cpu` (taskset execs, so the pid is the server's), optionally under `wrapper`:
   * valgrind runs the server in its own process, strace as its child (`wrapperIsParent`). Resolves once the
   * port accepts connections.
   */
  static async start(
    spec: ServerSpec,
    options: StartOptions,
    cpu: number,
    { wrapper = [] as string[], wrapperIsParent = false, readyTimeoutMs = 15_000 } = {},
  ) {
    const { file, args, env } = spec.command(options);
    const stdoutFile = spec.stdoutFile ? openSync(spec.stdoutFile(options), 'w') : undefined;
    const child = spawn('taskset', ['-c', String(cpu), ...wrapper, file, ...args], {
      cwd: options.workDir,
      // A minimal environment: npm's hundred npm_* variables would sit on the server's stack and count as RSS.
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
      stdio: ['ignore', stdoutFile ?? 'pipe', 'pipe'],
    });
    if (stdoutFile !== undefined) closeSync(stdoutFile);
    const server = new RunningServer(spec, options.port, child, wrapperIsParent);
    RunningServer.running.add(server);
    try {
      await waitForPort(options.port, readyTimeoutMs, () => server.exitStatus);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The server's processes (master and workers) right now. */
  processes(): number[] {
    const tree = processTree(this.pid);
    return this.wrapperIsParent ? tree.slice(1) : tree;
  }

  /** Waits until the server has `count` processes (workers fork after the port is open). */
  async waitForProcesses(count: number, timeoutMs = 5000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let pids = this.processes();
    while (pids.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pids = this.processes();
    }
    return pids;
  }

  /** SIGKILL to every process of the tree at once (interrupted benchmark). */
  kill(): void {
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL to every process of the tree if it has not exited within timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    RunningServer.running.delete(this);
    if (this.exitStatus !== undefined) return;
    const tree = processTree(this.pid);
    if (this.wrapperIsParent) {
      for (const pid of processTree(this.pid).slice(1)) {
        try {
          if (statParent(pid) === this.pid) process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    } else {
      this.child.kill('SIGTERM');
    }
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
    ]);
    if (timedOut) {
      for (const pid of tree) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await this.exited;
    }
    // Workers of a multi-process server may outlive the master by a moment; wait for them too.
    for (const pid of tree.slice(1)) {
      for (let i = 0; i < 100 && processTree(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A free loopback port: the test suites' helper (never 8080, which a person may be using). */
export { freePort } from '../test/support/server.js';

/** Size in bytes of a file, or undefined when it does not exist. */
export function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
