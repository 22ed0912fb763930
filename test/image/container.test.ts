// The image of each platform, run by the real Docker engine (arm64 emulated with qemu through binfmt_misc):
// exactly one file, numeric non-root user, read-only root and no capabilities, the HTTP smoke suite, a page that
// states the binary's and the image's true sizes, a healthcheck that turns healthy, and a clean exit on SIGTERM.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { ImageManifest } from '../../scripts/build-image.js';
import {
  archs, buildTestImages, containerHealth, docker, freePort, imageEntries, pageField, platformTag, removeTestImages,
  repoRoot, sizeField, smokeChecks, TestRegistry, type Arch,
} from './support.js';

let registry: TestRegistry;
let manifest: ImageManifest;
const started: string[] = [];

beforeAll(async () => {
  registry = await TestRegistry.create();
  manifest = await buildTestImages(registry);
});

afterAll(async () => {
  for (const container of started) await docker(['rm', '-f', container]).catch(() => undefined);
  if (manifest) await removeTestImages(manifest);
  await registry?.remove();
});

/** /proc/<pid>/status of the container's first process, as the host kernel sees it. */
function processStatus(pid: string): Record<string, string> {
  const status: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const [key, ...value] = line.split(':');
    if (key) status[key] = value.join(':').trim();
  }
  return status;
}

describe.each(archs)('linux/%s image', (arch: Arch) => {
  let image: string;
  let container: string;
  let port: number;

  beforeAll(async () => {
    image = platformTag(manifest, arch);
    port = await freePort();
    // Hardened as in production; DRAIN_SECONDS=0 so the server exits as soon as SIGTERM arrives.
    container = await docker(['run', '-d', '--platform', `linux/${arch}`, '--read-only', '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges', '-e', 'DRAIN_SECONDS=0', '-p', `127.0.0.1:${port}:8080`, image]);
    started.push(container);
    await vi.waitFor(async () => expect(await docker(['logs', container])).toContain('listening on http://[::]:8080'),
      { timeout: 20_000, interval: 200 });
  });

  test('holds exactly one file: the static binary, executable, owned by root', async () => {
    const { layers, entries } = await imageEntries(image);
    expect(layers).toBe(1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ path: 'asm-web-service', type: '-', mode: '-rwxr-xr-x', uid: 0 });
    expect(entries[0].size).toBe(manifest.platforms[`linux/${arch}`].binarySize);
  });

  test('is configured as the issue asks: numeric user, port, exec entrypoint, self-probe, OCI labels', async () => {
    const config = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', image]));
    expect(config.User).toBe('65532:65532');
    expect(Object.keys(config.ExposedPorts)).toEqual(['8080/tcp']);
    expect(config.Entrypoint).toEqual(['/asm-web-service']);
    expect(config.Cmd).toBeNull();
    expect(config.Healthcheck.Test).toEqual(['CMD', '/asm-web-service', 'health']);
    const labels = config.Labels as Record<string, string>;
    const packageJson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(labels['org.opencontainers.image.version']).toBe(packageJson.version);
    expect(labels['org.opencontainers.image.licenses']).toBe(packageJson.license);
    expect(labels['org.opencontainers.image.source']).toBe(packageJson.repository.url);
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    expect(labels['org.opencontainers.image.title']).toBe('asm-web-service');
    expect(labels['org.opencontainers.image.description']).toMatch(/assembly/);
  });

  test('runs as uid/gid 65532 with no capabilities, no privilege gain and a read-only root', async () => {
    const pid = await docker(['inspect', '--format', '{{.State.Pid}}', container]);
    const status = processStatus(pid);
    expect(status.Uid.split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
    expect(status.Gid.split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status[set], set).toBe('0000000000000000');
    expect(status.NoNewPrivs).toBe('1');
    const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((line) => line.split(' ')[4] === '/');
    expect(root?.split(' ')[5].split(',')).toContain('ro');
  });

  test('passes the HTTP smoke suite: routes, HEAD, 404, keep-alive', async () => {
    await smokeChecks(port, arch, (actual, expected, what) => expect(actual, what).toEqual(expected));
  });

  test('its page states this platform, the binary\'s size in the image and the image\'s size as Docker reports it', async () => {
    const page = await smokeChecks(port, arch, (actual, expected, what) => expect(actual, what).toEqual(expected));
    const [binary] = (await imageEntries(image)).entries;
    const imageSize = Number(await docker(['image', 'inspect', '--format', '{{.Size}}', image]));
    expect(pageField(page, 'platform')).toBe(`linux/${arch}`);
    expect(sizeField(pageField(page, 'binary-size'), 'KiB')).toBe(binary.size);
    expect(sizeField(pageField(page, 'image-size'), 'MiB')).toBe(imageSize);
  });

  test('becomes healthy through its HEALTHCHECK (the binary\'s self-probe)', async () => {
    await expect.poll(() => containerHealth(container), { timeout: 30_000, interval: 500 }).toBe('healthy');
  });

  test('stops on SIGTERM as PID 1: it exits 0 on its own, before `docker stop` would resort to SIGKILL', async () => {
    // A server that ignored SIGTERM would be killed after the grace period and exit 137; timing is the bench's job.
    await docker(['stop', '--time', '30', container]);
    const [exitCode, oomKilled] = (await docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', container])).split(' ');
    expect(exitCode).toBe('0');
    expect(oomKilled).toBe('false');
  });
});
