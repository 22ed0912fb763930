// The two trees are the same program twice (README, house style): asm/x86_64/NAME.asm and asm/arm64/NAME.s hold
// the same routines in the same order, so a reader who knows one finds everything in the other. Routines are
// the global labels of code (not data, not NASM `.local` or GAS `.L`/numeric labels); the few that only one
// architecture needs are listed below with the reason, and each listed one must still be what differs. Also: the
// layout assertions of the entry files stop a build whose layout breaks what the code relies on.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  // The layouts the code relies on are asserted in main.asm / main.s: a copy with one broken must not build.
  it.each([
    {
      arch: 'amd64',
      file: 'main.asm',
      change: ['C_SENT          equ 20', 'C_SENT          equ 24'],
      message: 'one qword store at C_RESP sets C_RESP and C_SENT',
    },
    {
      arch: 'arm64',
      file: 'state.s',
      change: ['signal_fd:      .skip 4\ntimer_fd:       .skip 4\n', 'timer_fd:       .skip 4\nsignal_fd:      .skip 4\n'],
      message: 'pairs loaded at once: signal_fd and timer_fd',
    },
  ] as const)('$arch: a broken layout in $file fails the build, naming what relies on it', async ({ arch, file, change, message }) => {
    const tree = arch === 'amd64' ? x86Dir : armDir;
    const folder = mkdtempSync(path.join(tmpdir(), 'layout-'));
    try {
      const text = readFileSync(path.join(tree, file), 'utf8');
      expect(text).toContain(change[0]);
      writeFileSync(path.join(folder, file), text.replace(change[0], change[1]));
      // The changed file comes first on the include path (main.asm is the entry file itself); the page's
      // generated parts come from the build.
      const entry = file === 'main.asm' ? path.join(folder, file) : path.join(tree, 'main.s');
      const generated = path.join('build', `linux-${arch}`, 'gen');
      const assemble = () =>
        execa('sh', ['asm/assemble.sh', arch, entry, path.join(folder, 'out'), folder, generated], { cwd: repoRoot, reject: false, all: true });
      const result = await assemble();
      expect(result.exitCode).not.toBe(0);
      expect(result.all).toContain(message);
      // And unchanged, the same command builds.
      writeFileSync(path.join(folder, file), text);
      const intact = await assemble();
      expect(intact.all).toBe('');
      expect(intact.exitCode).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
