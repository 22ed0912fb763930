// A throw-away Linux user for tests that must run something as a non-root user: made with useradd (root only),
// with a home of its own under a temporary folder, and removed with everything it owned by remove().
import { execa } from 'execa';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class ThrowawayUser {
  private constructor(readonly name: string, readonly uid: number, readonly home: string, private readonly folder: string) {}

  /** Makes the user `name`, a member of `groups` besides its own group. */
  static async create(name: string, groups: string[] = []): Promise<ThrowawayUser> {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-user-'));
    chmodSync(folder, 0o755);
    const home = path.join(folder, 'home');
    await execa('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', '--user-group',
      ...(groups.length ? ['--groups', groups.join(',')] : []), name]);
    const uid = Number((await execa('id', ['-u', name])).stdout);
    return new ThrowawayUser(name, uid, home, folder);
  }

  /**
   * Runs `command` as the user in `cwd` with only the environment a login would give (HOME, USER, LOGNAME, PATH,
   * LANG) plus `env`: nothing of root's (HOME, XDG_*, npm's) leaks in. Never rejects; look at the exit code.
   */
  run(command: string[], cwd: string, env: Record<string, string> = {}) {
    const variables = { HOME: this.home, USER: this.name, LOGNAME: this.name, PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8', ...env };
    return execa('runuser', ['-u', this.name, '--', 'env', '-i',
      ...Object.entries(variables).map(([key, value]) => `${key}=${value}`), ...command], { cwd, all: true, reject: false });
  }

  /** Removes the user, its group and its home (its processes must have ended). */
  async remove(): Promise<void> {
    await execa('userdel', ['--remove', this.name], { reject: false });
    rmSync(this.folder, { recursive: true, force: true });
  }
}
