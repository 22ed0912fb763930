// scripts/registry.sh, the project's local registry, run for real on free loopback ports with state folders of the
// test's own: it starts as the caller with its state where it is told, marks its responses as the project's, reuses
// a project registry, leaves anyone else's server alone, runs a registry image, and, with no program at all,
// fetches Debian's program into the user's cache without installing the package.
import { execa, type Result } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { dockerEnv, freePort, repoRoot } from './support.js';

const script = path.join(repoRoot, 'scripts', 'registry.sh');
const isRoot = process.getuid?.() === 0;

/** Things a test made, undone after it in reverse order (registries stopped, folders and images removed). */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A free port and a state folder for one registry, stopped and removed after the test. */
async function registrySettings(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-registry-test-'));
  const env = { LOCAL_REGISTRY_PORT: String(await freePort()), LOCAL_REGISTRY_DIR: path.join(folder, 'state'), ...extra };
  cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
  cleanups.push(() => registry(env, 'stop'));
  return env;
}

function registry(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Result<{ all: true; reject: false }>> {
  return execa('bash', [script, ...args], { env: { ...dockerEnv, ...env }, all: true, reject: false });
}

/** Status and identity header of GET /v2/ on the port. */
async function apiRoot(port: string | undefined): Promise<{ status: number; owner: string | undefined }> {
  const response = await fetch(`http://127.0.0.1:${port}/v2/`);
  await response.arrayBuffer();
  return { status: response.status, owner: response.headers.get('asm-web-service-registry') ?? undefined };
}

/** The uid a process runs as, from /proc. */
function uidOf(pid: string): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

describe('scripts/registry.sh', () => {
  test('starts a registry as the caller, with its state in LOCAL_REGISTRY_DIR, marked as the project\'s; stop ends it', async () => {
    const env = await registrySettings();
    const started = await registry(env);
    expect(started.exitCode, started.all).toBe(0);
    expect(started.stdout).toBe(`127.0.0.1:${env.LOCAL_REGISTRY_PORT}`);
    expect(await apiRoot(env.LOCAL_REGISTRY_PORT)).toEqual({ status: 200, owner: env.LOCAL_REGISTRY_DIR });
    const pid = readFileSync(path.join(env.LOCAL_REGISTRY_DIR!, `registry-${env.LOCAL_REGISTRY_PORT}.pid`), 'utf8').trim();
    expect(uidOf(pid)).toBe(process.getuid?.());
    expect(existsSync(path.join(env.LOCAL_REGISTRY_DIR!, 'storage'))).toBe(true);

    const again = await registry(env);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stderr, 'the second call starts nothing').toBe('');

    expect((await registry(env, 'stop')).exitCode).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await expect(apiRoot(env.LOCAL_REGISTRY_PORT)).rejects.toThrow();
  });

  test('uses a project registry that another state folder (another user) started, and says whose it is', async () => {
    const first = await registrySettings();
    expect((await registry(first)).exitCode).toBe(0);
    const second = await registrySettings({ LOCAL_REGISTRY_PORT: first.LOCAL_REGISTRY_PORT });
    const reused = await registry(second);
    expect(reused.exitCode, reused.all).toBe(0);
    expect(reused.stderr).toContain(`another run started (${first.LOCAL_REGISTRY_DIR})`);
    expect(existsSync(path.join(second.LOCAL_REGISTRY_DIR!, `registry-${second.LOCAL_REGISTRY_PORT}.pid`))).toBe(false);
  });

  test.each([
    ['an open registry that is not the project\'s', 200],
    ['a registry that wants a login (Debian\'s packaged service)', 401],
  ])('leaves %s on the port alone, and stops with one line saying so', async (_what, status) => {
    // Answers like a registry's API root, without the project's mark.
    const server = http.createServer((_request, response) => {
      response.writeHead(status, { 'Docker-Distribution-Api-Version': 'registry/2.0' }).end('{}');
    });
    const env = await registrySettings();
    await new Promise<void>((resolve) => server.listen(Number(env.LOCAL_REGISTRY_PORT), '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));

    const refused = await registry(env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`127.0.0.1:${env.LOCAL_REGISTRY_PORT} answers (HTTP ${status}) but is not this project's registry`);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(await apiRoot(env.LOCAL_REGISTRY_PORT)).toEqual({ status, owner: undefined });
    expect(existsSync(path.join(env.LOCAL_REGISTRY_DIR!, `registry-${env.LOCAL_REGISTRY_PORT}.pid`))).toBe(false);
  });

  test.each(['0', '65536', '5000x', ' 5000', '-1'])('refuses LOCAL_REGISTRY_PORT=%j with one line, starting nothing', async (port) => {
    const env = await registrySettings({ LOCAL_REGISTRY_PORT: port });
    const refused = await registry(env);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`LOCAL_REGISTRY_PORT must be a port number (1-65535), got '${port}'`);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(env.LOCAL_REGISTRY_DIR!)).toBe(false);
  });

  test('runs a registry image (LOCAL_REGISTRY_IMAGE) as the caller\'s uid, published on loopback only', async () => {
    // A registry image made here from the program the script finds (no registry image can be pulled on CI machines),
    // on the Dockerfile's Debian base image, which the set-up provides.
    const found = (await registry({}, 'prepare')).stdout;
    expect(found).toMatch(/^program \//);
    const program = found.slice('program '.length);
    const base = /^ARG DEBIAN_IMAGE=(.+)$/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'))![1];
    const image = `asm-web-service-test-registry:${process.pid}`;
    const context = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-registry-image-'));
    cleanups.push(() => rmSync(context, { recursive: true, force: true }));
    await execa('cp', [program, path.join(context, 'registry')]);
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${base}\nCOPY registry /usr/local/bin/registry\n`);
    await execa('docker', ['build', '--quiet', '--tag', image, context], { env: dockerEnv });
    cleanups.push(() => execa('docker', ['rmi', image], { env: dockerEnv, reject: false }));

    const env = await registrySettings({ LOCAL_REGISTRY_IMAGE: image });
    const started = await registry(env);
    expect(started.exitCode, started.all).toBe(0);
    expect(await apiRoot(env.LOCAL_REGISTRY_PORT)).toEqual({ status: 200, owner: env.LOCAL_REGISTRY_DIR });
    const pidFile = readFileSync(path.join(env.LOCAL_REGISTRY_DIR!, `registry-${env.LOCAL_REGISTRY_PORT}.pid`), 'utf8').trim();
    expect(pidFile).toMatch(/^container:[0-9a-f]{64}$/);
    const container = pidFile.slice('container:'.length);
    const inspect = JSON.parse((await execa('docker', ['inspect', container], { env: dockerEnv })).stdout)[0];
    expect(inspect.Config.User).toBe(`${process.getuid?.()}:${process.getgid?.()}`);
    expect(inspect.HostConfig.PortBindings['5000/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: env.LOCAL_REGISTRY_PORT }]);

    expect((await registry(env, 'stop')).exitCode).toBe(0);
    expect((await execa('docker', ['inspect', container], { env: dockerEnv, reject: false })).exitCode).not.toBe(0);
  });

  test.skipIf(!isRoot)('with no registry program or image, fetches Debian\'s program into the user\'s cache and installs no package', async () => {
    // Hides the machine's programs in a mount namespace of the test's own (root needed for that alone).
    const cache = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-registry-cache-'));
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
    const env = await registrySettings({ XDG_CACHE_HOME: cache });
    const packageState = async () => (await execa('sh', ['-c', 'dpkg-query -W -f \'${Status}\' docker-registry || true'])).stdout;
    const before = await packageState();
    const hide = 'for program in docker-registry registry; do found=$(command -v $program) && mount --bind /dev/null "$found"; done; exec bash "$0"';
    const fetched = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', hide, script],
      { env: { ...dockerEnv, ...env }, all: true, reject: false });
    expect(fetched.exitCode, fetched.all).toBe(0);
    expect(fetched.stderr).toContain('fetching Debian\'s docker-registry program');
    const program = path.join(cache, 'asm-web-service', 'bin', 'docker-registry');
    expect((await execa(program, ['--version'])).stdout).toMatch(/distribution/);
    expect(await apiRoot(env.LOCAL_REGISTRY_PORT)).toEqual({ status: 200, owner: env.LOCAL_REGISTRY_DIR });
    expect(await packageState()).toBe(before);
  });
});
