// The set-up only adds what is missing: on a machine it has set up (as the test command's own first step leaves it),
// a run and a second run change no firewall rule, no service that starts at boot, no installed package and no
// binfmt_misc entry.
//
// The runs happen in a network namespace of the test's own: the set-up sees it as the host's, so a rule it added
// would land there and nowhere else, and the comparison sees the set-up's rules alone (other tests' Docker containers
// change the host's tables at any time). Packages, boot services and binfmt_misc entries are the machine's own.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/server.js';
import { ThrowawayUser } from '../support/user.js';

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

/**
 * A copy of the machine's dpkg database in `admin` (for DPKG_ADMINDIR and apt's Dir::State::status) in which the
 * packages `drop` are not installed and the package `installed` (name, version) is.
 */
async function fakeDpkgDatabase(admin: string, drop: string[], installed: [string, string]): Promise<void> {
  mkdirSync(path.join(admin, 'updates'), { recursive: true });
  const architecture = (await execa('dpkg', ['--print-architecture'])).stdout;
  const names = new Set([...drop, installed[0]]);
  const stanzas = readFileSync('/var/lib/dpkg/status', 'utf8').split(/\n\n+/)
    .filter((stanza) => stanza && !names.has(/^Package: (.+)$/m.exec(stanza)?.[1] ?? ''));
  stanzas.push(`Package: ${installed[0]}\nStatus: install ok installed\nArchitecture: ${architecture}\n` +
    `Version: ${installed[1]}\nMaintainer: none\nDescription: made by the test`);
  writeFileSync(path.join(admin, 'status'), `${stanzas.join('\n\n')}\n\n`);
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
      await fakeDpkgDatabase(folder, ['docker.io', 'containerd', 'runc'], ['containerd.io', '1.7.27-1']);
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

describe.skipIf(!isRoot)('ensure_packages (scripts/lib.sh)', () => {
  test('never removes an installed package to install one: it stops with one line naming what would go', async () => {
    // apt-get for real, on a copy of the package database and lists and with /bin/false as dpkg, so nothing it did
    // could reach the machine: the database has Debian's docker.io installed, and podman-docker conflicts with it.
    const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-apt-'));
    try {
      for (const dir of ['lists/partial', 'cache/archives/partial']) mkdirSync(path.join(folder, dir), { recursive: true });
      const version = /^Version: (.+)$/m.exec((await execa('apt-cache', ['show', 'docker.io'])).stdout)![1];
      await fakeDpkgDatabase(path.join(folder, 'admin'), [], ['docker.io', version]);
      await execa('sh', ['-c', 'cp /var/lib/apt/lists/*_Packages* /var/lib/apt/lists/*Release "$0/lists/"', folder]);
      writeFileSync(path.join(folder, 'apt.conf'), [
        `Dir::State::status "${folder}/admin/status";`, `Dir::State::lists "${folder}/lists/";`,
        `Dir::Cache "${folder}/cache/";`, 'Dir::Bin::dpkg "/bin/false";', ''].join('\n'));
      const packagesBefore = (await execa('dpkg-query', ['-W'])).stdout;

      const run = await execa('bash', ['-c', '. scripts/lib.sh; ensure_packages podman-docker'], {
        cwd: repoRoot, all: true, reject: false,
        env: { APT_CONFIG: path.join(folder, 'apt.conf'), DPKG_ADMINDIR: path.join(folder, 'admin') },
      });
      expect(run.exitCode, run.all).toBe(1);
      const ours = run.stderr.split('\n').filter((line) => line.includes('[setup]'));
      // Its progress line, then the verdict (apt's own "E:" line sits between them).
      expect(ours, run.all).toHaveLength(2);
      expect(ours[1]).toContain('installing podman-docker would remove docker.io, so the set-up stops');
      expect(readdirSync(path.join(folder, 'cache', 'archives')).filter((name) => name.endsWith('.deb')), 'nothing downloaded').toEqual([]);
      expect((await execa('dpkg-query', ['-W'])).stdout, 'the real package database').toBe(packagesBefore);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!isRoot)('scripts/setup.sh as a user who may not use Docker', () => {
  test('stops with one line: add the user to the docker group', async () => {
    const user = await ThrowawayUser.create(`asmwsnd${process.pid}`);
    try {
      const run = await user.run(['bash', 'scripts/setup.d/20-docker.sh'], repoRoot);
      expect(run.exitCode, run.all).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.all).toHaveLength(1);
      expect(lines[0]).toContain(`${user.name} may not use the Docker engine: add the user to the docker group`);
    } finally {
      await user.remove();
    }
  });
});
