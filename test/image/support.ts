// Helpers for the image tests: Debian's Docker client with BuildKit, the image build script run into a test
// repository, a look inside an image's layers, and the smoke checks (on the server suite's raw-socket client and
// golden responses, test/support/).
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageManifest } from '../../scripts/build-image.js';
import { RawConnection, golden, normaliseDates, type ParsedResponse } from '../support/http.js';
import { freePort, repoRoot, type Arch } from '../support/server.js';

export { freePort, repoRoot } from '../support/server.js';

export type { Arch } from '../support/server.js';
/** Both platforms; IMAGE_ARCHS=amd64 narrows a local run (CI always runs both). */
export const archs: Arch[] = (process.env.IMAGE_ARCHS || 'amd64,arm64').split(',')
  .map((name) => name.trim()).filter((name): name is Arch => name === 'amd64' || name === 'arm64');

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

/** Where the tests push: a repository of their own in a registry of their own, so they never touch a user's. */
export const testImageName = 'asm-web-service-test';
export const testTag = 'test';

/**
 * The project's registry (scripts/registry.sh) run for one test file: on a free loopback port, with its state in a
 * folder of its own, so it never meets the user's registry on 127.0.0.1:5000 nor its stored images.
 */
export class TestRegistry {
  private constructor(readonly port: number, readonly folder: string) {}

  static async create(): Promise<TestRegistry> {
    return new TestRegistry(await freePort(), mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-registry-')));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The settings scripts/registry.sh and build-image.ts read. */
  get env(): NodeJS.ProcessEnv {
    return { LOCAL_REGISTRY_PORT: String(this.port), LOCAL_REGISTRY_DIR: this.folder };
  }

  /** Stops the registry that scripts/registry.sh started for this folder and removes the folder. */
  async remove(): Promise<void> {
    await execa('bash', [path.join(repoRoot, 'scripts/registry.sh'), 'stop'], { ...options, env: { ...dockerEnv, ...this.env } });
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** Runs `npm run build:image`'s script into the test repository of `registry` and returns what it wrote. */
export async function buildTestImages(registry: TestRegistry): Promise<ImageManifest> {
  const imageJson = path.join(registry.folder, 'image.json');
  // This Node (24) runs tsx: with /usr/bin first on PATH, `tsx` would find the machine's older node.
  await execa(process.execPath, [path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/build-image.ts'], {
    ...options,
    env: { ...dockerEnv, ...registry.env, IMAGE_NAME: testImageName, TAG: testTag, IMAGE_JSON: imageJson, REGISTRY: '',
      PLATFORMS: archs.map((arch) => `linux/${arch}`).join(',') },
  });
  return JSON.parse(readFileSync(imageJson, 'utf8')) as ImageManifest;
}

/** Drops the names the build and the tests gave the test images (their names hold the test registry's port). */
export async function removeTestImages(manifest: ImageManifest): Promise<void> {
  const names = [manifest.image, ...archs.map((arch) => platformTag(manifest, arch))];
  await execa('docker', ['rmi', ...names], { ...options, reject: false });
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

export async function containerHealth(container: string): Promise<string> {
  return docker(['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', container]);
}

/** One request on a fresh connection, and its response (an answer to HEAD when `isHead`). */
export async function fetchRaw(port: number, request: string, isHead = false): Promise<ParsedResponse> {
  const connection = await RawConnection.open(port);
  try {
    await connection.write(request);
    const [response] = await connection.waitForResponses(1, 5000, () => isHead);
    if (!response) throw new Error(`no whole response; got ${JSON.stringify(connection.received().toString('latin1'))}`);
    return response;
  } finally {
    connection.destroy();
  }
}

export function get(target: string, extraHeaders = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`;
}

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
 * The smoke suite every running image must pass: both routes, HEAD, 404 and keep-alive, byte for byte against the
 * server suite's golden responses (test/server/golden/), each Date value checked and normalised (normaliseDates).
 * Returns the page so callers can check its fields.
 */
export async function smokeChecks(
  port: number,
  arch: Arch,
  expect: (actual: unknown, expected: unknown, what: string) => void,
): Promise<string> {
  const connection = await RawConnection.open(port);
  const pageHead = golden('page-head', { arch }).toString('latin1');
  const text = (received: Buffer) => normaliseDates(received).toString('latin1');
  // The n-th response on the connection, after sending `request`; the second request is the HEAD one.
  const next = async (request: string, count: number): Promise<ParsedResponse> => {
    await connection.write(request);
    const responses = await connection.waitForResponses(count, 5000, (index) => index === 1);
    if (responses.length < count) throw new Error(`no response ${count}; got ${JSON.stringify(connection.received().toString('latin1'))}`);
    return responses[count - 1];
  };
  try {
    // keep-alive: four requests, one after another, on one connection; it stays open after them.
    const page = await next(get('/'), 1);
    expect(text(page.head), pageHead, 'GET / head');
    expect(page.body.toString('utf8').startsWith('<!DOCTYPE html>'), true, 'GET / body is the page');

    const head = await next(`HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 2);
    expect(text(head.raw), pageHead, 'HEAD / head equals GET / head');

    const health = await next(get('/health'), 3);
    expect(text(health.raw), golden('health').toString('latin1'), 'GET /health');

    const missing = await next(get('/no-such-page'), 4);
    expect(text(missing.raw), golden('404').toString('latin1'), 'GET /no-such-page');

    expect(await connection.waitForEnd(200), 'open', 'connection still open after keep-alive requests');

    // Connection: close is honoured: the server says so and closes.
    const last = await next(get('/health', 'Connection: close\r\n'), 5);
    expect(text(last.raw), golden('health', { close: true }).toString('latin1'), 'GET /health with Connection: close');
    expect(await connection.waitForEnd(3000), 'fin', 'connection closed after Connection: close');
    return page.body.toString('utf8');
  } finally {
    connection.destroy();
  }
}
