// The set-up only adds what is missing: on a machine it has set up (as the test command's own first step leaves it),
// a run and a second run change no firewall rule, no service that starts at boot, no installed package and no
// binfmt_misc entry.
//
// The runs happen in a network namespace of the test's own: the set-up sees it as the host's, so a rule it added
// would land there and nowhere else, and the comparison sees the set-up's rules alone (other tests' Docker containers
// change the host's tables at any time). Packages, boot services and binfmt_misc entries are the machine's own.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/server.js';

const isRoot = process.getuid?.() === 0;
const sections = ['firewall', 'services', 'packages', 'binfmt'] as const;
type Snapshot = Record<(typeof sections)[number], string>;

/** Prints each section of a snapshot after a `## NAME` line. */
const snapshot = [
  // The tables of this network namespace, both families, without packet counters.
  'echo "## firewall"; for save in iptables-save ip6tables-save; do echo "# $save";',
  '  $save | sed -e "/^#/d" -e "s/\\[[0-9]*:[0-9]*\\]//"; done',
  // What starts at boot: systemd's wants links and SysV rc links (present whether or not systemd runs here).
  'echo "## services"; find /etc/systemd/system /etc/rc?.d -type l -printf "%p -> %l\\n" 2>/dev/null | sort',
  'echo "## packages"; dpkg-query -W -f "\\${Package}:\\${Architecture} \\${Version} \\${Status}\\n" | sort',
  'echo "## binfmt"; for entry in /proc/sys/fs/binfmt_misc/*; do',
  '  [ "${entry##*/}" = register ] || echo "${entry##*/}: $(head -n 1 "$entry")"; done',
].join('\n');

function parse(text: string): Snapshot {
  const parts = Object.fromEntries(text.split(/^## /m).filter(Boolean).map((part) => {
    const [name, ...lines] = part.split('\n');
    return [name, lines.join('\n').trim()];
  }));
  return Object.fromEntries(sections.map((name) => [name, parts[name] ?? ''])) as Snapshot;
}

describe.skipIf(!isRoot)('scripts/setup.sh only adds', () => {
  let before: Snapshot;
  let afterFirst: Snapshot;
  let afterSecond: Snapshot;
  let log: string;

  beforeAll(async () => {
    const script = [`snapshot() {\n${snapshot}\n}`, 'set -eo pipefail', 'snapshot', 'echo "=== run"',
      'bash scripts/setup.sh >&2', 'snapshot', 'echo "=== run"', 'bash scripts/setup.sh >&2', 'snapshot'].join('\n');
    const { stdout, stderr } = await execa('unshare', ['--net', 'bash', '-c', script], { cwd: repoRoot });
    log = stderr;
    [before, afterFirst, afterSecond] = stdout.split('=== run\n').map(parse);
  }, 600_000);

  test('both runs complete', () => {
    expect(log.match(/set-up complete/g), log).toHaveLength(2);
  });

  test.each(sections)('%s: as before the first run, after it and after the second', (section) => {
    expect(afterFirst[section], 'after the first run').toBe(before[section]);
    expect(afterSecond[section], 'after the second run').toBe(before[section]);
  });

  test('the snapshot sees what it compares: packages, binfmt entries and both firewall families', () => {
    expect(before.packages).toMatch(/^docker\.io:|^docker-ce:|^skopeo:/m);
    expect(before.binfmt).toMatch(/^qemu-(aarch64|x86_64): enabled$/m);
    expect(before.firewall).toContain('# iptables-save');
    expect(before.firewall).toContain('# ip6tables-save');
  });

  test('no NOTRACK rule exists after the runs', () => {
    expect(afterSecond.firewall).not.toMatch(/NOTRACK|--notrack/i);
  });
});

describe.skipIf(!isRoot)('scripts/setup.d/20-docker.sh on a machine with Docker CE', () => {
  test('with Docker CE\'s containerd.io installed and no engine, it stops with one line and installs nothing', async () => {
    // Docker CE as dpkg would report it: a package database where containerd.io is installed and Debian's docker.io
    // is not (DPKG_ADMINDIR, read by dpkg-query); no engine answering and no dockerd (hidden in a mount namespace
    // of the test's own). Debian's docker.io conflicts with it: installing it would replace Docker CE.
    const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-dpkg-'));
    try {
      mkdirSync(path.join(folder, 'updates'));
      const status = readFileSync('/var/lib/dpkg/status', 'utf8').split(/\n\n+/)
        .filter((stanza) => !/^Package: (docker\.io|containerd|runc)$/m.test(stanza));
      status.push('Package: containerd.io\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.7.27-1\n' +
        'Maintainer: Containerd team <help@containerd.io>\nDescription: An open and reliable container runtime');
      writeFileSync(path.join(folder, 'status'), `${status.join('\n\n')}\n\n`);
      const packagesBefore = (await execa('dpkg-query', ['-W'])).stdout;
      const hide = 'export PATH=/usr/bin:/usr/sbin:$PATH; for program in dockerd docker-init; do ' +
        'found=$(command -v $program) && mount --bind /dev/null "$found"; done; exec bash scripts/setup.d/20-docker.sh';
      const run = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', hide], {
        cwd: repoRoot, all: true, reject: false,
        env: { DPKG_ADMINDIR: folder, DOCKER_HOST: `unix://${folder}/no-docker.sock` },
      });
      expect(run.exitCode, run.all).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.all).toHaveLength(1);
      expect(lines[0]).toContain('Docker CE\'s containerd.io is installed but no engine: Debian\'s docker.io would replace it');
      expect((await execa('dpkg-query', ['-W'])).stdout, 'the real package database').toBe(packagesBefore);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
