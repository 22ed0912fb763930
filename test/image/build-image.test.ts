// `npm run build:image` against the real engine and the real local registry: the index it pushes holds both
// platforms, build/image.json describes what was pushed, and pulling by the written digests gives the built images.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ImageManifest } from '../../scripts/build-image.js';
import {
  archs, buildTestImages, docker, dockerEnv, imageEntries, platformTag, removeTestImages, skopeoRaw, TestRegistry, type Arch,
} from './support.js';

const digest = /^sha256:[0-9a-f]{64}$/;
let registry: TestRegistry;
let manifest: ImageManifest;

beforeAll(async () => {
  registry = await TestRegistry.create();
  manifest = await buildTestImages(registry);
});

afterAll(async () => {
  if (manifest) await removeTestImages(manifest);
  await registry?.remove();
});

describe('build/image.json', () => {
  test('names the image by its index digest in the test repository', () => {
    expect(manifest.repository).toBe(`${registry.address}/asm-web-service-test`);
    expect(manifest.indexDigest).toMatch(digest);
    expect(manifest.image).toBe(`${manifest.repository}@${manifest.indexDigest}`);
    expect(Object.keys(manifest.platforms).sort()).toEqual(archs.map((arch) => `linux/${arch}`));
  });

  test.each(archs)('linux/%s: its sizes are the image\'s, as Docker reports them and as the layer holds them', async (arch: Arch) => {
    const recorded = manifest.platforms[`linux/${arch}`];
    expect(recorded.manifestDigest).toMatch(digest);
    const [id, size, architecture] = (await docker(['image', 'inspect', '--format', '{{.Id}} {{.Size}} {{.Architecture}}',
      platformTag(manifest, arch)])).split(' ');
    expect(id).toBe(recorded.imageId);
    expect(Number(size)).toBe(recorded.imageSize);
    expect(architecture).toBe(arch);
    const { entries } = await imageEntries(recorded.imageId);
    expect(entries.map((entry) => [entry.path, entry.size])).toEqual([['asm-web-service', recorded.binarySize]]);
  });
});

describe('the pushed index', () => {
  test('is a manifest list of every platform built, with the recorded manifest digests', async () => {
    const index = await skopeoRaw(manifest.image);
    expect(index.mediaType).toMatch(/manifest\.list\.v2\+json|image\.index\.v1\+json/);
    const entries = (index.manifests as { digest: string; platform: { os: string; architecture: string } }[])
      .map((entry) => [`${entry.platform.os}/${entry.platform.architecture}`, entry.digest]);
    expect(entries.sort()).toEqual(archs.map((arch) => [`linux/${arch}`, manifest.platforms[`linux/${arch}`].manifestDigest]));
  });

  test('is what the tag points to', async () => {
    const { stdout } = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false',
      `docker://${manifest.repository}:${manifest.tag}`], { env: dockerEnv });
    const { stdout: sha } = await execa('sha256sum', { input: stdout });
    expect(`sha256:${sha.split(' ')[0]}`).toBe(manifest.indexDigest);
  });

  test.each(archs)('linux/%s: each platform manifest carries the built image\'s config and one layer', async (arch: Arch) => {
    const recorded = manifest.platforms[`linux/${arch}`];
    const platformManifest = await skopeoRaw(`${manifest.repository}@${recorded.manifestDigest}`);
    expect(platformManifest.config.digest).toBe(recorded.imageId);
    expect(platformManifest.layers).toHaveLength(1);
  });
});

describe('pulling by the written digest', () => {
  test('docker pull of the index digest gives the amd64 image that was built', async () => {
    // Drop the test repository's local names first, so the pull has to resolve the digest through the registry.
    await execa('docker', ['rmi', platformTag(manifest, 'amd64')], { env: dockerEnv, reject: false });
    await execa('docker', ['rmi', manifest.image], { env: dockerEnv, reject: false });
    await docker(['pull', manifest.image]);
    expect(await docker(['image', 'inspect', '--format', '{{.Id}}', manifest.image]))
      .toBe(manifest.platforms['linux/amd64'].imageId);
  });

  test.each(archs)('linux/%s: a daemonless pull (skopeo copy) of the index digest gives the built image and binary', async (arch: Arch) => {
    const recorded = manifest.platforms[`linux/${arch}`];
    const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-pull-'));
    try {
      await execa('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--override-os', 'linux', '--override-arch', arch,
        `docker://${manifest.image}`, `dir:${folder}`], { env: dockerEnv });
      const pulled = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
      expect(pulled.config.digest).toBe(recorded.imageId);
      const config = JSON.parse(readFileSync(path.join(folder, pulled.config.digest.slice('sha256:'.length)), 'utf8'));
      expect(config.architecture).toBe(arch);
      const layer = path.join(folder, pulled.layers[0].digest.slice('sha256:'.length));
      const { stdout } = await execa('tar', ['-tvzf', layer]);
      const lines = stdout.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0].split(/\s+/)[2]).toBe(String(recorded.binarySize));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
