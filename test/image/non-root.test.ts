// `npm run build:image` as a user who is not root, only in the docker group: a throw-away user made for this test
// (and removed after it) builds and pushes both platforms, and the project's registry runs as that user with its
// state in the user's cache directory. Making a user needs root, so the test runs where the tests run as root (CI).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ImageManifest } from '../../scripts/build-image.js';
import { ThrowawayUser } from '../support/user.js';
import { archs, dockerEnv, freePort, removeTestImages, repoRoot, testImageName, testTag } from './support.js';

const isRoot = process.getuid?.() === 0;
let user: ThrowawayUser | undefined;
let port: number;
let build: Awaited<ReturnType<ThrowawayUser['run']>>;
let manifest: ImageManifest | undefined;

/** The settings of the build, on top of the user's login environment. */
function buildEnv(): Record<string, string> {
  return {
    PATH: dockerEnv.PATH!,
    // Not the default 127.0.0.1:5000, which may be in use by a registry the cluster started.
    LOCAL_REGISTRY_PORT: String(port),
    IMAGE_NAME: testImageName, TAG: testTag, IMAGE_JSON: path.join(user!.home, 'image.json'),
    PLATFORMS: archs.map((arch) => `linux/${arch}`).join(','),
    // The checkout is root's here (a user's own needs no such setting), so git must be told to read it.
    GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'safe.directory', GIT_CONFIG_VALUE_0: '*',
  };
}

/** Every file and folder under `root`, as [path, owner uid]. */
function owners(root: string): [string, number][] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((name): [string, number] => [name, statSync(path.join(root, name)).uid]);
}

describe.skipIf(!isRoot)('npm run build:image as a non-root user in the docker group', () => {
  const stateDir = () => path.join(user!.home, '.cache', 'asm-web-service', 'registry');

  beforeAll(async () => {
    port = await freePort();
    user = await ThrowawayUser.create(`asmws${process.pid}`, ['docker']);
    // This Node (24) runs tsx, as `npm run` would by putting node_modules/.bin first on PATH.
    build = await user.run([process.execPath, path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      'scripts/build-image.ts'], repoRoot, buildEnv());
    if (build.exitCode === 0) manifest = JSON.parse(readFileSync(path.join(user.home, 'image.json'), 'utf8')) as ImageManifest;
  });

  afterAll(async () => {
    if (!user) return;
    await user.run(['bash', 'scripts/registry.sh', 'stop'], repoRoot, buildEnv());
    if (manifest) await removeTestImages(manifest);
    await user.remove();
  });

  test('the user is not root and not in any group but its own and docker', async () => {
    expect(user!.uid).not.toBe(0);
    expect((await user!.run(['id', '-Gn'], repoRoot)).stdout.split(' ').sort()).toEqual(['docker', user!.name].sort());
  });

  test('builds and pushes every platform and writes the index digest to its image.json', () => {
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain(`started `);
    expect(build.stderr).toContain(`on 127.0.0.1:${port} (state: ${stateDir()})`);
    expect(manifest?.repository).toBe(`127.0.0.1:${port}/${testImageName}`);
    expect(Object.keys(manifest?.platforms ?? {}).sort()).toEqual(archs.map((arch) => `linux/${arch}`));
    expect(build.stdout.trim()).toBe(manifest?.image);
  });

  test('the registry runs as the user, keeps its state in the user\'s cache, and holds what was pushed', async () => {
    const pid = readFileSync(path.join(stateDir(), `registry-${port}.pid`), 'utf8').trim();
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(user!.uid));
    const storage = path.join(stateDir(), 'storage');
    const files = owners(storage);
    expect(files.map(([name]) => name)).toContain(path.join('docker/registry/v2/repositories', testImageName));
    expect(files.filter(([, owner]) => owner !== user!.uid)).toEqual([]);
    const response = await fetch(`http://127.0.0.1:${port}/v2/${testImageName}/manifests/${manifest!.indexDigest}`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('asm-web-service-registry')).toBe(stateDir());
    expect(response.headers.get('docker-content-digest')).toBe(manifest!.indexDigest);
  });
});
