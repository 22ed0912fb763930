// Accepting under failure and beyond MAX_CONNECTIONS: the contract's "never left in the backlog". The spare descriptor that the server gives
// up when descriptors run out must be an open file of its own (closing a dup frees no file, so under ENFILE the
// shedding could not accept); any other accept4 failure is retried, although the edge-triggered listener reports
// no new event for connections already waiting. strace injects the failures into the real system calls.
import { execa } from 'execa';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, request, show, sleep } from '../support/http.js';
import { archs, eventually, runBinary, slowdown, startServer, stopAllServers, supportProgram, type ServerHandle } from '../support/server.js';

/** Pairs of the process's descriptors that share one open file, as the kernel's kcmp sees them. */
async function sharedFiles(pid: number): Promise<string[]> {
  const { stdout } = await execa(await supportProgram('shared-files'), [String(pid)]);
  return stdout.split('\n').filter(Boolean);
}

/** strace as a prefix that keeps the server's pid (-D) and injects into accept4 as `inject` says. */
function injectingAccept4(inject: string): string[] {
  return ['strace', '-D', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=accept4', '-e', `inject=accept4:${inject}`, '--'];
}

describe.each(archs)('%s: accepting under failure', (arch) => {
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  afterAll(stopAllServers);

  async function expectHealth(server: ServerHandle) {
    const answer = await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: patience });
    expect(show(answer.bytes)).toBe(show(golden('health')));
  }

  it('the spare descriptor is an open file of its own: no two descriptors share one, in the first process or a worker', async () => {
    const server = await startServer(arch, { env: { WORKERS: '2', DRAIN_SECONDS: '0' } });
    expect(await eventually(() => server.workerPids().length === 1, 2000 * slow)).toBe(true);
    await expectHealth(server); // every process is in its event loop
    for (const pid of [server.pid, ...server.workerPids()]) {
      expect(await sharedFiles(pid), `process ${pid}`).toEqual([]);
    }
  });

  it('out of files (ENFILE): the connection is accepted and closed at once, and the spare is made again', async () => {
    const server = await startServer(arch, { prefix: injectingAccept4('error=ENFILE:when=1') });
    const shed = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience });
    expect(shed.bytes.length).toBe(0);
    expect(shed.ending).not.toBe('open');
    expect(shed.closeAfterMs).toBeLessThan(1000 * slow);
    await expectHealth(server);
    expect(await sharedFiles(server.pid)).toEqual([]);
  });

  for (const [failure, inject] of [
    ['ENOBUFS once', 'error=ENOBUFS:when=1'],
    ['ENOMEM three times', 'error=ENOMEM:when=1..3'],
    ['EPERM once', 'error=EPERM:when=1'],
  ] as const) {
    it(`accept4 failing with ${failure}: the waiting connection is still answered, with no other connection arriving`, async () => {
      const server = await startServer(arch, { prefix: injectingAccept4(inject) });
      const connection = await RawConnection.open(server.port);
      try {
        const startedAt = performance.now();
        await connection.write(request('GET', '/health'));
        const [response] = await connection.waitForResponses(1, 2000 * slow);
        console.log(`${arch}: accept4 ${failure}: answered after ${(performance.now() - startedAt).toFixed(0)} ms`);
        expect(show(response?.raw ?? Buffer.alloc(0))).toBe(show(golden('health')));
      } finally {
        connection.destroy();
      }
    });
  }
});

describe.each(archs)('%s: MAX_CONNECTIONS', (arch) => {
  const slow = slowdown(arch);
  afterAll(stopAllServers);

  it('beyond MAX_CONNECTIONS open connections a new one is accepted and closed at once; one closing makes room', async () => {
    const server = await startServer(arch, { env: { MAX_CONNECTIONS: '5', KEEPALIVE_SECONDS: '60' } });
    const held = await Promise.all(Array.from({ length: 5 }, () => RawConnection.open(server.port)));
    try {
      await Promise.all(held.map((connection) => connection.write('GET /health HTTP/1.1\r\nHo'))); // all accepted
      await sleep(200 * slow);
      const refused = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: 3000 * slow });
      expect({ bytes: refused.bytes.length, open: refused.ending === 'open' }).toEqual({ bytes: 0, open: false });
      expect(refused.closeAfterMs).toBeLessThan(1000 * slow);
      held[0].destroy();
      await sleep(200 * slow);
      const served = await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: 3000 * slow });
      expect(show(served.bytes)).toBe(show(golden('health')));
      // The held ones are served too when they finish.
      await held[1].write('st: a\r\n\r\n');
      const [answer] = await held[1].waitForResponses(1, 2000 * slow);
      expect(show(answer?.raw ?? Buffer.alloc(0))).toBe(show(golden('health')));
    } finally {
      for (const connection of held) connection.destroy();
    }
  });

  it('MAX_CONNECTIONS outside 1-16300 is refused with the usual message', async () => {
    for (const value of ['0', '16301', 'many', '']) {
      const result = await runBinary(arch, [], { MAX_CONNECTIONS: value, PORT: '1' });
      expect({ value, exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        value,
        exitCode: 2,
        stderr: 'asm-web-service: invalid MAX_CONNECTIONS (expected 1-16300)\n',
      });
    }
  });
});
