// The command line (docs/server.md, "Command line and environment"): `health` is the self-probe only as the one
// argument; anything after it is a usage error like any other argument, exit 2, even with a server to probe.
import { afterAll, describe, expect, it } from 'vitest';
import { archs, runBinary, slowdown, startServer, stopAllServers } from '../support/server.js';

const usage = 'asm-web-service: unknown argument (usage: asm-web-service [health])\n';

describe.each(archs)('%s: arguments', (arch) => {
  afterAll(stopAllServers);

  it('health with a server to ask exits 0, and any argument after it is a usage error, exit 2', async () => {
    const server = await startServer(arch);
    const env = { PORT: String(server.port) };
    const probe = await runBinary(arch, ['health'], env, 10_000 * slowdown(arch));
    expect(probe.exitCode).toBe(0);
    for (const extra of [['extra'], ['health'], [''], ['extra', 'more']]) {
      const result = await runBinary(arch, ['health', ...extra], env, 10_000 * slowdown(arch));
      expect(result.exitCode, JSON.stringify(extra)).toBe(2);
      expect(result.stderr).toBe(usage);
      expect(result.stdout).toBe('');
    }
  });

  it('an argument that only starts like health, or two arguments without it, is a usage error', async () => {
    for (const args of [['healthy'], ['healt'], ['health\u00e9'], ['x', 'health']]) {
      const result = await runBinary(arch, args, { PORT: '1' }, 5000 * slowdown(arch));
      expect(result.exitCode, JSON.stringify(args)).toBe(2);
      expect(result.stderr).toBe(usage);
    }
  });
});
