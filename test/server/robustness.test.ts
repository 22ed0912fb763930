// Contract point 6: no client can kill the server. Resets in the middle of large writes (no SIGPIPE death),
// a storm of aborted connections of every kind, and the descriptor count back at its baseline afterwards.
import { readFileSync } from 'node:fs';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, headOfSize, normaliseDates, request, show, sleep } from '../support/http.js';
import { archs, eventually, slowdown, startServer, steadyFdCount, stopAllServers, type ServerHandle } from '../support/server.js';

/** Ways a client can abandon a connection; each opens one and walks away. */
const abortKinds: Record<string, (port: number) => Promise<void>> = {
  'reset at once': async (port) => (await RawConnection.open(port)).reset(),
  'close at once': async (port) => (await RawConnection.open(port)).destroy(),
  'reset inside a head': async (port) => {
    const connection = await RawConnection.open(port);
    await connection.write('GET /health HTTP/1.1\r\nHos');
    connection.reset();
  },
  'reset while the server writes 200 pages': async (port) => {
    const connection = await RawConnection.open(port);
    await connection.write(request('GET', '/').repeat(200));
    await connection.waitFor(() => connection.receivedLength > 0, 500);
    connection.reset();
  },
  'half-close after a request, then vanish': async (port) => {
    const connection = await RawConnection.open(port, { allowHalfOpen: true });
    await connection.write(request('GET', '/'));
    connection.end();
    await sleep(1);
    connection.destroy();
  },
  'reset after a 400': async (port) => {
    const connection = await RawConnection.open(port);
    await connection.write('BAD\r\n\r\n');
    await connection.waitFor(() => connection.receivedLength > 0, 500);
    connection.reset();
  },
  'reset after sending a too-long head': async (port) => {
    const connection = await RawConnection.open(port);
    await connection.write(headOfSize(9000));
    connection.reset();
  },
  'reset inside a declared body': async (port) => {
    const connection = await RawConnection.open(port);
    await connection.write(request('POST', '/', ['Content-Length: 100000']) + 'partial body');
    connection.reset();
  },
};

describe.each(archs)('%s: robustness (point 6)', (arch) => {
  let server: ServerHandle;
  let exited = false;
  const slow = slowdown(arch);

  beforeAll(async () => {
    server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '30', HEADER_TIMEOUT_SECONDS: '30' } });
    void server.exited.then(() => (exited = true));
  });
  afterAll(stopAllServers);

  const healthy = async () => {
    const response = await undiciRequest(`http://127.0.0.1:${server.port}/health`, { reset: true });
    return response.statusCode === 200 && (await response.body.text()) === 'OK';
  };

  it('survives 50 resets in the middle of large writes (no SIGPIPE death)', async () => {
    for (let i = 0; i < 50; i++) {
      const connection = await RawConnection.open(server.port);
      await connection.write(request('GET', '/').repeat(300));
      await connection.waitFor(() => connection.receivedLength > 4096, 1000 * slow);
      connection.reset();
    }
    await sleep(100);
    expect(exited).toBe(false);
    expect(await healthy()).toBe(true);
  });

  it('after a storm of aborted connections of every kind, the descriptor count returns to its baseline', async () => {
    expect(await healthy()).toBe(true);
    // Wait for the probe's own connection to be gone, so the baseline is the idle server.
    const baseline = await steadyFdCount(server, 2000 * slow);
    const rounds = arch === 'arm64' ? 20 : 60;
    const kinds = Object.values(abortKinds);
    for (let round = 0; round < rounds; round++) {
      await Promise.all(kinds.map((abort) => abort(server.port).catch(() => {})));
    }
    const total = rounds * kinds.length;
    expect(exited).toBe(false);
    // Closing answers linger up to 2 s to drain; everything must be closed soon after.
    const settled = await eventually(() => server.fdCount() === baseline, 3000 + 2000 * slow, 50);
    console.log(`${arch}: ${total} aborted connections; descriptors ${baseline} before, ${server.fdCount()} after`);
    expect(settled).toBe(true);
    expect(await healthy()).toBe(true);
  });

  it('beyond its descriptor limit it closes new connections at once, without spinning, and serves again after', async () => {
    // A hard limit of 48 descriptors: of 80 connections, some must be closed by the server at once.
    const limited = await startServer(arch, { prefix: ['prlimit', '--nofile=48:48', '--'] });
    const cpuTicks = () => {
      const fields = readFileSync(`/proc/${limited.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
    };
    const connections: RawConnection[] = [];
    try {
      for (let i = 0; i < 80; i++) connections.push(await RawConnection.open(limited.port));
      await Promise.all(connections.map((connection) => connection.write(request('GET', '/health'))));
      const ticksBefore = cpuTicks();
      await sleep(1000 * slow);
      const ticksUsed = cpuTicks() - ticksBefore;
      const served = connections.filter((connection) => normaliseDates(connection.received()).equals(golden('health')));
      const closed = connections.filter((connection) => connection.ending !== 'open' && connection.receivedLength === 0);
      const hanging = connections.length - served.length - closed.length;
      console.log(`${arch}: 80 connections under a 48-descriptor limit: ${served.length} served, ${closed.length} closed at once, ${hanging} left hanging; ${ticksUsed} CPU ticks in ${slow} s`);
      expect(closed.length).toBeGreaterThan(0);
      expect(hanging).toBe(0);
      // Level-triggered EMFILE loops burn a whole core; an idle server uses next to nothing.
      expect(ticksUsed).toBeLessThan(20 * slow);
    } finally {
      for (const connection of connections) connection.destroy();
    }
    await sleep(200);
    const after = await exchange(limited.port, request('GET', '/health'), { responses: 1, timeoutMs: 2000 * slow });
    expect(show(after.bytes)).toBe(show(golden('health')));
  });

  it('raises its soft descriptor limit toward the hard one, so a low soft limit turns no client away', async () => {
    // Soft 48, hard 256: after raising, 80 connections fit.
    const raised = await startServer(arch, { prefix: ['prlimit', '--nofile=48:256', '--'] });
    const limits = readFileSync(`/proc/${raised.pid}/limits`, 'utf8');
    expect(limits).toMatch(/Max open files\s+256\s+256/);
    const connections: RawConnection[] = [];
    try {
      for (let i = 0; i < 80; i++) connections.push(await RawConnection.open(raised.port));
      await Promise.all(connections.map((connection) => connection.write(request('GET', '/health'))));
      await Promise.all(connections.map((connection) => connection.waitForResponses(1, 3000 * slow)));
      expect(connections.filter((connection) => normaliseDates(connection.received()).equals(golden('health'))).length).toBe(80);
    } finally {
      for (const connection of connections) connection.destroy();
    }
  });

  it('still answers byte-exact after the storm', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.write(request('GET', '/health') + request('GET', '/nope'));
      await connection.waitForResponses(2, 2000 * slow);
      expect(show(connection.received())).toBe(show(Buffer.concat([golden('health'), golden('404')])));
    } finally {
      connection.destroy();
    }
  });
});
