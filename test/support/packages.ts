/**
 * The construct library's packages for the tests that use them as an app would: `npm run package` (jsii and
 * jsii-pacmak, into build/packages/) when lib/ changed since the last build, and a Python virtual environment in
 * build/python-venv/ with the PyPI packages a Python cdk8s app needs and the wheel from build/packages/python/.
 * Both are idempotent and quick when nothing changed, so every test file may call them.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './server.js';

export const packagesDir = join(repoRoot, 'build/packages');
const bin = join(repoRoot, 'node_modules/.bin');
/** The project's version-keyed cache (scripts/cluster/versions.sh); pip keeps its downloads there too. */
const cacheRoot = process.env.CLUSTER_CACHE_ROOT ?? '/var/cache/asm-web-service';

/** PATH with the project's Node.js and tools first, as `npm run` sets it; the jsii runtimes spawn this `node`. */
export const toolPath = `${bin}:${process.env.PATH}`;

/** The PyPI packages of a Python cdk8s app on cdk8s-plus-28, pinned. */
export const PYTHON_REQUIREMENTS = ['cdk8s==2.70.115', 'cdk8s-plus-28==2.5.6', 'constructs==10.8.1'];

export function run(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, PATH: toolPath, PIP_CACHE_DIR: join(cacheRoot, 'pip'), ...env },
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ...result, output: `${result.stdout}\n${result.stderr}${result.error ? `\n${result.error}` : ''}` };
}

function check(result: ReturnType<typeof run>, what: string): void {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.output}`);
}

/** A digest of what the packages are built from: lib/'s sources, package.json and README. */
function libSourceDigest(): string {
  const hash = createHash('sha256');
  const lib = join(repoRoot, 'lib');
  for (const name of readdirSync(lib).filter((file) => /\.ts$|^package\.json$|^README\.md$/.test(file)).sort()) {
    hash.update(`${name}\0`).update(readFileSync(join(lib, name))).update('\0');
  }
  return hash.digest('hex');
}

/** Runs `npm run package` unless build/packages/ was built from the current lib/. */
export function ensurePackages(): void {
  const stamp = join(packagesDir, '.built-from');
  const digest = libSourceDigest();
  const complete = existsSync(npmTarball()) && existsSync(join(packagesDir, 'python'));
  if (complete && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  check(run('npm', ['run', 'package'], repoRoot), 'npm run package');
  writeFileSync(stamp, digest);
}

/** The npm tarball jsii-pacmak wrote. */
export function npmTarball(): string {
  const version = JSON.parse(readFileSync(join(repoRoot, 'lib/package.json'), 'utf8')).version;
  return join(packagesDir, 'js', `asm-web-service@${version}.jsii.tgz`);
}

/**
 * build/python-venv with PYTHON_REQUIREMENTS and the built wheel; returns its python. The requirements are
 * installed once (a stamp file records them); the wheel is reinstalled every time, as it changes with lib/.
 */
export function ensurePythonVenv(): string {
  const venv = join(repoRoot, 'build/python-venv');
  const python = join(venv, 'bin/python');
  const stamp = join(venv, '.requirements');
  if (!existsSync(python)) {
    mkdirSync(join(repoRoot, 'build'), { recursive: true });
    check(run('python3', ['-m', 'venv', venv], repoRoot), 'python3 -m venv');
  }
  const wanted = PYTHON_REQUIREMENTS.join('\n');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== wanted) {
    check(run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PYTHON_REQUIREMENTS], repoRoot), 'pip install');
    writeFileSync(stamp, wanted);
  }
  const wheels = readdirSync(join(packagesDir, 'python')).filter((file) => file.endsWith('.whl'));
  if (wheels.length !== 1) throw new Error(`expected one wheel in build/packages/python, found ${wheels.join(', ') || 'none'}`);
  check(
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall',
      join(packagesDir, 'python', wheels[0])], repoRoot),
    'pip install of the wheel',
  );
  return python;
}
