// Helpers for the image tests: Debian's Docker client with BuildKit, the image build script run into a test
// repository, a look inside an image's layers, free ports, and a small raw-socket HTTP client for the smoke checks.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageManifest } from '../../scripts/build-image.js';

export type Arch = 'amd64' | 'arm64';
/** Both platforms; IMAGE_ARCHS=amd64 narrows a local run (CI always runs both). */
export const archs: Arch[] = (process.env.IMAGE_ARCHS || 'amd64,arm64').split(',')
  .map((name) => name.trim()).filter((name): name is Arch => name === 'amd64' || name === 'arm64');

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Debian's client first: /usr/local/bin/docker on these machines has no buildx, so BuildKit builds fail with it.
 * DOCKER_CLI_EXPERIMENTAL for `docker manifest`; COMPOSE_DOCKER_CLI_BUILD so docker-compose v1 builds with BuildKit.
 */
export const dockerEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `/usr/bin:/usr/sbin:${process.env.PATH ?? ''}`,
  DOCKER_BUILDKIT: '1',
  DOCKER_CLI_EXPERIMENTAL: 'enabled',
  COMPOSE_DOCKER_CLI_BUILD: '1',
};

const options = { env: dockerEnv, cwd: repoRoot, all: true };

export async function docker(args: string[]): Promise<string> {
  return (await execa('docker', args, options)).stdout.trim();
}

export async function skopeoRaw(reference: string, extra: string[] = []): Promise<Record<string, any>> {
  const { stdout } = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', ...extra, `docker://${reference}`], options);
  return JSON.parse(stdout) as Record<string, any>;
}

/** Where the tests push: a repository of their own in the local registry, so they never touch a user's image. */
export const testImageName = 'asm-web-service-test';
export const testTag = 'test';
const testImageJson = path.join(repoRoot, 'build', 'test-image', 'image.json');

/** Runs `npm run build:image`'s script into the test repository and returns what it wrote to its image.json. */
export async function buildTestImages(): Promise<ImageManifest> {
  // This Node (24) runs tsx: with /usr/bin first on PATH, `tsx` would find the machine's older node.
  await execa(process.execPath, [path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/build-image.ts'], {
    ...options,
    env: { ...dockerEnv, IMAGE_NAME: testImageName, TAG: testTag, IMAGE_JSON: testImageJson, REGISTRY: '',
      PLATFORMS: archs.map((arch) => `linux/${arch}`).join(',') },
  });
  return JSON.parse(readFileSync(testImageJson, 'utf8')) as ImageManifest;
}

export function platformTag(manifest: ImageManifest, arch: Arch): string {
  return `${manifest.repository}:${manifest.tag}-${arch}`;
}

export interface LayerEntry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  size: number;
}

/** Every entry of every layer of a local image, read from `docker save` (what a registry would hold). */
export async function imageEntries(image: string): Promise<{ layers: number; entries: LayerEntry[] }> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-save-'));
  try {
    await execa('sh', ['-c', `docker save "$1" | tar -x -C "$2"`, 'save', image, folder], options);
    const saved = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    const entries: LayerEntry[] = [];
    for (const layer of saved[0].Layers) {
      const { stdout } = await execa('tar', ['--numeric-owner', '-tvf', path.join(folder, layer)], options);
      for (const line of stdout.split('\n').filter(Boolean)) {
        // -rwxr-xr-x 0/0 1808 2026-11-28 20:29 asm-web-service
        const [mode, owner, size, , , ...name] = line.split(/\s+/);
        entries.push({ path: name.join(' '), type: mode[0], mode, uid: Number(owner.split('/')[0]), size: Number(size) });
      }
    }
    return { layers: saved[0].Layers.length, entries };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A port nobody listens on right now, never 8080 (a person may be using it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => (port === 8080 ? freePort().then(resolve, reject) : resolve(port)));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() is true or the time is up; returns whether it became true. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

export async function containerHealth(container: string): Promise<string> {
  return docker(['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', container]);
}

export interface Response {
  head: string;
  body: Buffer;
}

/** One TCP connection that reads whole responses (by Content-Length) and tells whether the server closed it. */
export class Connection {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => { this.buffered = Buffer.concat([this.buffered, chunk]); this.wake?.(); });
    const end = () => { this.ended = true; this.wake?.(); };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  get closedByServer(): boolean {
    return this.ended;
  }

  send(request: string): void {
    this.socket.write(request);
  }

  /** The next response; HEAD responses have no body whatever their Content-Length says. */
  async read(isHead = false, timeoutMs = 5000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const headEnd = this.buffered.indexOf('\r\n\r\n');
      if (headEnd >= 0) {
        const head = this.buffered.subarray(0, headEnd + 4).toString('latin1');
        const length = isHead ? 0 : Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)?.[1] ?? 0);
        if (this.buffered.length >= headEnd + 4 + length) {
          const body = this.buffered.subarray(headEnd + 4, headEnd + 4 + length);
          this.buffered = this.buffered.subarray(headEnd + 4 + length);
          return { head, body };
        }
      }
      if (this.ended) throw new Error(`connection closed before a whole response; got ${JSON.stringify(this.buffered.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error('no whole response in time');
      await new Promise<void>((resolve) => { this.wake = resolve; setTimeout(resolve, 50); });
    }
  }

  /** Waits a little for the server to close the connection; true if it did. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await sleep(20);
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection. */
export async function fetchRaw(port: number, request: string, isHead = false): Promise<Response> {
  const connection = await Connection.open(port);
  try {
    connection.send(request);
    return await connection.read(isHead);
  } finally {
    connection.close();
  }
}

export function get(target: string, extraHeaders = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`;
}

/** The response heads of docs/server.md, byte for byte. */
export const expectedHeads = {
  page: (length: number, connection = 'keep-alive') =>
    `HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n` +
    `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n` +
    `X-Content-Type-Options: nosniff\r\nContent-Type: text/html; charset=utf-8\r\nConnection: ${connection}\r\n\r\n`,
  health: (connection = 'keep-alive') =>
    `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: no-store\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nConnection: ${connection}\r\n\r\n`,
  notFound: (connection = 'keep-alive') =>
    `HTTP/1.1 404 Not Found\r\nContent-Length: 11\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: ${connection}\r\n\r\n`,
};

/** The text of the page's <dd id="NAME"> field, padding trimmed. */
export function pageField(page: string, id: string): string | undefined {
  return new RegExp(`<dd id="${id}">([^<]*)</dd>`).exec(page)?.[1].trim();
}

/**
 * Reads a size field as asm/build.sh writes it ("7808 bytes (7.62 KiB)", "7808 bytes (0.007 MiB)") and checks the
 * rounded figure against the bytes; returns the bytes, or undefined if the field is malformed or inconsistent.
 * (awk's printf rounds exact halves to even, so 7.625 is 7.62: allow half a unit of the last digit.)
 */
export function sizeField(text: string | undefined, unit: 'KiB' | 'MiB'): number | undefined {
  const decimals = unit === 'KiB' ? 2 : 3;
  const match = new RegExp(`^(\\d+) bytes \\((\\d+\\.\\d{${decimals}}) ${unit}\\)$`).exec(text ?? '');
  if (!match) return undefined;
  const bytes = Number(match[1]);
  const exact = bytes / (unit === 'KiB' ? 1024 : 1048576);
  return Math.abs(Number(match[2]) - exact) <= 0.5 * 10 ** -decimals + 1e-12 ? bytes : undefined;
}

/**
 * The smoke suite every running image must pass: both routes with exact heads, HEAD, 404, keep-alive.
 * Returns the page so callers can check its fields.
 */
export async function smokeChecks(port: number, expect: (actual: unknown, expected: unknown, what: string) => void): Promise<string> {
  const connection = await Connection.open(port);
  try {
    // keep-alive: four requests, one after another, on one connection; it stays open after them.
    connection.send(get('/'));
    const page = await connection.read();
    expect(page.head, expectedHeads.page(page.body.length), 'GET / head');
    expect(page.body.toString('utf8').startsWith('<!DOCTYPE html>'), true, 'GET / body is the page');

    connection.send(`HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const head = await connection.read(true);
    expect(head.head, expectedHeads.page(page.body.length), 'HEAD / head equals GET / head');

    connection.send(get('/health'));
    const health = await connection.read();
    expect(health.head + health.body.toString('latin1'), `${expectedHeads.health()}OK`, 'GET /health');

    connection.send(get('/no-such-page'));
    const missing = await connection.read();
    expect(missing.head + missing.body.toString('latin1'), `${expectedHeads.notFound()}Not Found\r\n`, 'GET /no-such-page');

    expect(await connection.closedWithin(200), false, 'connection still open after keep-alive requests');

    // Connection: close is honoured: the server says so and closes.
    connection.send(get('/health', 'Connection: close\r\n'));
    const last = await connection.read();
    expect(last.head, expectedHeads.health('close'), 'GET /health with Connection: close');
    expect(await connection.closedWithin(3000), true, 'connection closed after Connection: close');
    return page.body.toString('utf8');
  } finally {
    connection.close();
  }
}
