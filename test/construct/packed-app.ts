/**
 * A separate cdk8s app that uses this package as a user's app does: the npm tarball of `npm run package` (jsii's
 * build of lib/, in build/packages/js), installed with the app's own dependencies into a temporary folder, then
 * type-checked and run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensurePackages, npmTarball } from '../support/packages.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO, 'node_modules/.bin');

/** Runs a command with this repository's node_modules/.bin first on PATH; `output` is stdout and stderr. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { ...result, output: `${result.stdout}\n${result.stderr}` };
}

/** This repository's devDependencies: the versions it tests with. */
export function ourDevDependencies(): Record<string, string> {
  return JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies;
}

/** The npm tarball of `npm run package` (built first when lib/ changed since the last build). */
export function packThisPackage(): string {
  ensurePackages();
  return npmTarball();
}

/**
 * Writes an app (package.json with the tarball as `asm-web-service` plus `dependencies`, and `files`) into
 * `scratch/name` and installs it; returns its folder.
 */
export function installApp(
  scratch: string, name: string, tarball: string, dependencies: Record<string, string>, files: Record<string, string>,
): string {
  const app = join(scratch, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name,
    private: true,
    type: 'module',
    dependencies: { 'asm-web-service': `file:${tarball}`, ...dependencies },
    devDependencies: { '@types/node': ourDevDependencies()['@types/node'] },
  }, null, 2));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(app, file), text);
  // npm's cache already holds most packages from this repository's own install; the registry is the fallback.
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  expect(install.status, install.output).toBe(0);
  return app;
}

/** The compiler options of the consumer apps: strict NodeNext, no output. */
export const CONSUMER_TSCONFIG = {
  compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
};

/** Type-checks one file of an app on its own; returns tsc's result. */
export function typeCheck(app: string, file: string) {
  return run(join(BIN, 'tsc'), ['--noEmit', '--strict', '--skipLibCheck', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', file], app);
}

/** Every object of a synthesized manifest file. */
export function manifestObjects(path: string): any[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => doc.toJS());
}
