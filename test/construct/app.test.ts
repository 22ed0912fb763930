/**
 * Tests of the app (main.ts and cdk8s.yaml): `cdk8s synth` writes a valid manifest for the image in IMAGE or in
 * build/image.json, and with neither it fails with one line that says what to do. Runs the real cdk8s CLI and
 * main.ts in child processes; output goes to temporary folders, never to the repository's dist/ or build/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubernetesSchemaValidator, openApiSpecDir } from './kubernetes-openapi.js';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'node_modules/.bin');
const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'1234abcd'.repeat(8)}`;
const OTHER_IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'9876fedc'.repeat(8)}`;
const NO_IMAGE_LINE =
  'synth failed: no image to deploy: run `npm run build:image` (writes build/image.json) or set IMAGE=REPOSITORY@sha256:<digest>';

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'asm-web-service-app-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs a command with node_modules/.bin first on PATH and IMAGE only when given. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, PATH: `${BIN}:${process.env.PATH}` };
  delete baseEnv.IMAGE;
  delete baseEnv.IMAGE_JSON;
  delete baseEnv.CDK8S_OUTDIR;
  return spawnSync(command, args, { cwd, env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: 60_000 });
}

/** A fresh folder shaped like a checkout's root, optionally with a build/image.json. */
function workdir(name: string, imageJson?: unknown): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'build'), { recursive: true });
  if (imageJson !== undefined) writeFileSync(join(dir, 'build', 'image.json'), JSON.stringify(imageJson));
  return dir;
}

function manifestIn(outdir: string): any[] {
  return parseAllDocuments(readFileSync(join(outdir, 'asm-web-service.k8s.yaml'), 'utf8')).map((doc) => doc.toJS());
}

function imageOf(objects: any[]): string {
  return objects.find((object) => object.kind === 'Deployment').spec.template.spec.containers[0].image;
}

describe('cdk8s synth', () => {
  it('writes a schema-valid manifest for the image in IMAGE', () => {
    // GIVEN the project's cdk8s.yaml, WHEN `cdk8s synth` runs with IMAGE set (output to a scratch folder)
    const outdir = join(scratch, 'cli-dist');
    const result = run(join(BIN, 'cdk8s'), ['synth', '--no-check-upgrade', '--output', outdir], REPO, { IMAGE });
    // THEN it succeeds, and the manifest has the three objects, the image, and passes the Kubernetes schema
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const objects = manifestIn(outdir);
    expect(objects.map((object) => object.kind)).toEqual(['Deployment', 'Service', 'PodDisruptionBudget']);
    expect(imageOf(objects)).toBe(IMAGE);
    expect(new KubernetesSchemaValidator(openApiSpecDir()).validate(objects)).toEqual([]);
  });

  it('leaves a git checkout clean', () => {
    // GIVEN a git repository holding what this checkout tracks under dist/, its .gitignore and cdk8s.yaml
    const checkout = join(scratch, 'checkout');
    mkdirSync(checkout);
    const git = (...args: string[]) => {
      const result = run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], checkout);
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };
    const tracked = run('git', ['ls-files', '--', '.gitignore', 'cdk8s.yaml', 'dist'], REPO).stdout.split('\n').filter(Boolean);
    expect(tracked).toContain('cdk8s.yaml');
    for (const file of tracked) {
      mkdirSync(join(checkout, file, '..'), { recursive: true });
      writeFileSync(join(checkout, file), readFileSync(join(REPO, file)));
    }
    git('init', '--quiet');
    git('add', '--all');
    git('commit', '--quiet', '--message', 'tracked files');
    // WHEN `cdk8s synth` runs there with its cdk8s.yaml (the project's app, by absolute path)
    const result = run(join(BIN, 'cdk8s'), ['synth', '--no-check-upgrade', '--app', `${join(BIN, 'tsx')} ${join(REPO, 'main.ts')}`], checkout, { IMAGE });
    expect(result.status, result.stderr).toBe(0);
    // THEN the manifest is in dist/ and git sees no change
    expect(imageOf(manifestIn(join(checkout, 'dist')))).toBe(IMAGE);
    expect(git('status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('fails when the app fails', () => {
    const result = run(join(BIN, 'cdk8s'), ['synth', '--no-check-upgrade', '--output', join(scratch, 'cli-bad')], REPO, {
      IMAGE: 'asm-web-service:latest',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`synth failed: 'image' must be pinned by digest`);
  });
});

describe('main.ts', () => {
  const mainTs = join(REPO, 'main.ts');

  it('reads the image from build/image.json', () => {
    const dir = workdir('from-json', { image: IMAGE, platforms: { 'linux/amd64': {}, 'linux/arm64': {} } });
    const result = run(join(BIN, 'tsx'), [mainTs], dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(imageOf(manifestIn(join(dir, 'dist')))).toBe(IMAGE);
  });

  it('reads the file IMAGE_JSON names, like npm run build:image', () => {
    const dir = workdir('image-json-env');
    writeFileSync(join(dir, 'elsewhere.json'), JSON.stringify({ image: OTHER_IMAGE, platforms: {} }));
    const result = run(join(BIN, 'tsx'), [mainTs], dir, { IMAGE_JSON: 'elsewhere.json' });
    expect(result.status).toBe(0);
    expect(imageOf(manifestIn(join(dir, 'dist')))).toBe(OTHER_IMAGE);
  });

  it('prefers IMAGE over build/image.json', () => {
    const dir = workdir('both', { image: IMAGE, platforms: {} });
    const result = run(join(BIN, 'tsx'), [mainTs], dir, { IMAGE: OTHER_IMAGE });
    expect(result.status).toBe(0);
    expect(imageOf(manifestIn(join(dir, 'dist')))).toBe(OTHER_IMAGE);
  });

  it('fails with one line when there is neither IMAGE nor build/image.json', () => {
    const result = run(join(BIN, 'tsx'), [mainTs], workdir('neither'));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`${NO_IMAGE_LINE}\n`);
    expect(result.stdout).toBe('');
  });

  it('fails with one line when build/image.json has no image', () => {
    const result = run(join(BIN, 'tsx'), [mainTs], workdir('no-image-field', { platforms: {} }));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'synth failed: build/image.json has no "image" string: run `npm run build:image` again or set IMAGE=REPOSITORY@sha256:<digest>\n',
    );
  });

  it('fails with one line when IMAGE is not pinned by digest', () => {
    const result = run(join(BIN, 'tsx'), [mainTs], workdir('tagged'), { IMAGE: 'asm-web-service:1.0' });
    expect(result.status).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`'image' must be pinned by digest as REPOSITORY@sha256:<64 lowercase hex digits>`);
    expect(result.stderr).toContain('got "asm-web-service:1.0"');
  });
});
