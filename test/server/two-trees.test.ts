// The two trees are one program (issue 9, "the two trees"): a module defines the same routines in the same order
// in asm/x86_64/ and asm/arm64/, so that a reader of one finds everything in the other. Checked for the event loop
// and the connections; a routine that only one architecture needs is listed with its reason.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/server.js';

/** Routines only one tree has, and why. */
const onlyIn: Record<string, { arch: 'x86_64' | 'arm64'; why: string }> = {
  copy_bytes: { arch: 'arm64', why: 'x86_64 copies with rep movsb' },
};

/** The global labels of a source file in order (NASM `.local` and GAS `.L`/numeric labels are not routines). */
function routines(file: string): string[] {
  const text = readFileSync(path.join(repoRoot, 'asm', file), 'utf8');
  return [...text.matchAll(/^([a-z_][a-z_0-9]*):/gm)].map((match) => match[1]);
}

describe('the two trees', () => {
  const modules = ['loop', 'connection'];
  const sources = (module: string) => ({ x86_64: routines(`x86_64/${module}.asm`), arm64: routines(`arm64/${module}.s`) });

  it.each(modules)('%s: the same routines in the same order', (module) => {
    const { x86_64, arm64 } = sources(module);
    expect(x86_64.length).toBeGreaterThan(5);
    expect(arm64.filter((name) => onlyIn[name]?.arch !== 'arm64')).toEqual(x86_64.filter((name) => onlyIn[name]?.arch !== 'x86_64'));
  });

  it('each routine listed as one tree\'s is in that tree only', () => {
    for (const [name, { arch }] of Object.entries(onlyIn)) {
      const where = modules.flatMap((module) => Object.entries(sources(module)).filter(([, names]) => names.includes(name)).map(([tree]) => tree));
      expect(where, name).toEqual([arch]);
    }
  });
});
