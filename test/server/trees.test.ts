// The two trees are the same program twice (README, house style): asm/x86_64/NAME.asm and asm/arm64/NAME.s hold
// the same routines in the same order, so a reader who knows one finds everything in the other. Routines are
// the global labels of code (not data, not NASM `.local` or GAS `.L`/numeric labels); the few that only one
// architecture needs are listed below with the reason, and each listed one must still be what differs.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/server.js';

const x86Dir = path.join(repoRoot, 'asm', 'x86_64');
const armDir = path.join(repoRoot, 'asm', 'arm64');

/** Routines one architecture has and the other does not, per file, with why. */
const onlyIn: Record<string, { x86_64?: Record<string, string>; arm64?: Record<string, string> }> = {
  connection: {
    arm64: {
      copy_bytes: 'x86_64 copies with rep movsb, one instruction; aarch64 has none',
      begin_close_stopped: 'returns C = 1 after begin_close; the x86_64 begin_close returns CF = 1 itself',
    },
  },
};

/** The code labels of one file, in order: the section starts as .text (every module is included from it). */
function routineLabels(file: string, syntax: 'nasm' | 'gas'): string[] {
  const labels: string[] = [];
  const sections = ['text'];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(syntax === 'nasm' ? /;.*/ : /\/\/.*/, '');
    const directive = line.trim();
    if (syntax === 'nasm') {
      const section = /^(?:section|segment)\s+\.?(\w+)/.exec(directive);
      if (section) sections[sections.length - 1] = section[1];
    } else if (/^\.text\b/.test(directive)) {
      sections[sections.length - 1] = 'text';
    } else if (/^\.(?:bss|data|struct)\b/.test(directive) || /^\.section\s/.test(directive)) {
      sections[sections.length - 1] = /^\.section\s+\.text/.test(directive) ? 'text' : 'data';
    } else if (/^\.pushsection\s/.test(directive)) {
      sections.push(/^\.pushsection\s+\.text/.test(directive) ? 'text' : 'data');
    } else if (/^\.popsection\b/.test(directive)) {
      sections.pop();
    }
    const label = /^([A-Za-z_]\w*):/.exec(line);
    if (label && sections[sections.length - 1] === 'text') labels.push(label[1]);
  }
  return labels;
}

const modules = readdirSync(x86Dir)
  .filter((name) => name.endsWith('.asm'))
  .map((name) => name.slice(0, -'.asm'.length))
  .sort();

describe('the two trees', () => {
  it('have the same files', () => {
    const armModules = readdirSync(armDir)
      .filter((name) => name.endsWith('.s'))
      .map((name) => name.slice(0, -'.s'.length))
      .sort();
    expect(armModules).toEqual(modules);
  });

  it('finds the routines (the label parser works)', () => {
    const all = modules.flatMap((module) => routineLabels(path.join(x86Dir, `${module}.asm`), 'nasm'));
    expect(all).toEqual(expect.arrayContaining(['_start', 'serve', 'event_loop', 'on_readable', 'parse_request', 'format_date']));
    expect(all).not.toEqual(expect.arrayContaining(['conns', 'response_408', 'blocked_signals'])); // data, not code
  });

  it.each(modules)('%s: the same routines in the same order', (module) => {
    const x86 = routineLabels(path.join(x86Dir, `${module}.asm`), 'nasm');
    const arm = routineLabels(path.join(armDir, `${module}.s`), 'gas');
    const x86Only = onlyIn[module]?.x86_64 ?? {};
    const armOnly = onlyIn[module]?.arm64 ?? {};
    // Each listed difference is still there, in that tree only.
    for (const name of Object.keys(x86Only)) expect({ name, x86: x86.includes(name), arm: arm.includes(name) }).toEqual({ name, x86: true, arm: false });
    for (const name of Object.keys(armOnly)) expect({ name, x86: x86.includes(name), arm: arm.includes(name) }).toEqual({ name, x86: false, arm: true });
    expect(arm.filter((name) => !(name in armOnly))).toEqual(x86.filter((name) => !(name in x86Only)));
  });
});
