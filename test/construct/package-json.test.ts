/**
 * package.json declares what the project's own TypeScript imports: every bare module specifier in a tracked .ts file
 * (read by TypeScript's own pre-processor) names a Node.js built-in or a package listed in dependencies,
 * devDependencies or peerDependencies, so a clean `npm ci` never depends on another package's transitive copy.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

/** The package a bare specifier loads from: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('package.json', () => {
  it('declares every package the TypeScript sources import', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies }));
    // test/construct/apps/ are apps of their own (cdk8s-apps.test.ts writes their package.json), not this project's code.
    const files = spawnSync('git', ['ls-files', '*.ts', ':!test/construct/apps/'], { cwd: REPO, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(files).toContain('lib/asm-web-service.ts');

    const undeclared: string[] = [];
    for (const file of files) {
      const { importedFiles } = ts.preProcessFile(readFileSync(join(REPO, file), 'utf8'), true, true);
      for (const { fileName: specifier } of importedFiles) {
        if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
        if (builtinModules.includes(specifier)) continue;
        if (!declared.has(packageOf(specifier))) undeclared.push(`${file}: ${specifier}`);
      }
    }
    expect(undeclared).toEqual([]);
  });
});
