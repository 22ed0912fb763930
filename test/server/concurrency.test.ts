// Contract point 5: silent, half-finished and non-reading clients never delay anyone; idle keep-alive and slow
// request heads are closed after their timeouts (408 for a started head); writes a client is slow to read are
// finished, and a write that makes no progress for HEADER_TIMEOUT_SECONDS closes the connection.
import { performance } from 'node:perf_hooks';
import { request as undiciRequest } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionsPerTest, golden, normaliseDates, parseResponses, request, show, sleep } from '../support/http.js';
import { archs, builtPage, eventually, slowdown, startServer, steadyFdCount, stopAllServers, type Arch, type ServerHandle } from '../support/server.js';

/** One fresh-connection GET /health through undici; returns its latency in ms. */
async function timedHealth(port: number): Promise<number> {
  const started = performance.now();
  const response = await undiciRequest(`http://127.0.0.1:${port}/health`, { reset: true });
  expect(response.statusCode).toBe(200);
  expect(await response.body.text()).toBe('OK');
  return performance.now() - started;
}

function pageResponse(arch: Arch): Buffer {
  return Buffer.concat([golden('page-head', { arch }), builtPage(arch)]);
}

describe.each(archs)('%s: concurrency and timeouts (point 5)', (arch) => {
  const slow = slowdown(arch);
  const open = connectionsPerTest();
  afterAll(stopAllServers);

  it('silent clients, half requests and clients that never read do not delay a new client', async () => {
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '60', HEADER_TIMEOUT_SECONDS: '60' } });
    const before = await timedHealth(server.port);
    const silent = await Promise.all(Array.from({ length: 64 }, () => open(server.port)));
    const halves = await Promise.all(Array.from({ length: 64 }, () => open(server.port)));
    await Promise.all(halves.map((connection) => connection.write('GET /health HTTP/1.1\r\nHo')));
    // Each asks for ~3 MB of pages and reads none of it, so the server's writes to them block.
    const nonReaders = await Promise.all(Array.from({ length: 4 }, () => open(server.port)));
    for (const connection of nonReaders) {
      connection.socket.pause();
      void connection.write(request('GET', '/').repeat(2000));
    }
    await sleep(300);

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) latencies.push(await timedHealth(server.port));
    latencies.sort((a, b) => a - b);
    console.log(`${arch}: /health latency with 132 stuck clients: median ${latencies[10].toFixed(1)} ms, max ${latencies[19].toFixed(1)} ms (before: ${before.toFixed(1)} ms)`);
    expect(latencies[19]).toBeLessThan(250 * slow);

    // The stuck ones are still served: a half request finishes, a silent one asks.
    await halves[0].write('st: x\r\n\r\n');
    await silent[0].write(request('GET', '/health'));
    const [half] = await halves[0].waitForResponses(1, 2000 * slow);
    const [quiet] = await silent[0].waitForResponses(1, 2000 * slow);
    expect(show(half?.raw ?? Buffer.alloc(0))).toBe(show(golden('health')));
    expect(show(quiet?.raw ?? Buffer.alloc(0))).toBe(show(golden('health')));
    expect(nonReaders.every((connection) => connection.ending === 'open')).toBe(true);
  });

  it('a client that reads slowly gets every byte of a large pipelined answer (partial writes finished)', async () => {
    const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '3' } });
    // ~10 MB: more than the kernel's socket buffers hold, so the server must finish writes later.
    const count = 6000;
    const connection = await open(server.port);
    connection.socket.pause();
    await connection.write(request('GET', '/').repeat(count));
    // Read in short bursts with pauses, so the server's writes keep hitting a full socket buffer.
    const expectedLength = count * pageResponse(arch).length;
    await connection.readInBursts({ pauseMs: 150, until: () => connection.receivedLength >= expectedLength, timeoutMs: 30_000 * slow });
    await connection.waitFor(() => connection.receivedLength >= expectedLength, 5000 * slow);
    const received = connection.received();
    expect(received.length).toBe(expectedLength);
    // Every response's Date is checked, then normalised (the Date line is 37 bytes whatever its value).
    expect(normaliseDates(received).equals(Buffer.concat(Array.from({ length: count }, () => pageResponse(arch))))).toBe(true);
    expect(connection.ending).toBe('open');
  });

  it('a write that makes no progress for HEADER_TIMEOUT_SECONDS closes the connection', async () => {
    const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '1', KEEPALIVE_SECONDS: '60' } });
    await timedHealth(server.port);
    // The probe's connection closes on its own schedule; take the baseline once the count holds still.
    const baseline = await steadyFdCount(server, 2000 * slow);
    const connection = await open(server.port);
    connection.socket.pause();
    void connection.write(request('GET', '/').repeat(6000));
    await sleep(300);
    expect(server.fdCount()).toBe(baseline + 1);
    // Closed after ~1 s without progress; allow scheduling slack, and far less than the 60 s keep-alive.
    expect(await eventually(() => server.fdCount() === baseline, 4000 * slow)).toBe(true);
    expect(await timedHealth(server.port)).toBeLessThan(1000 * slow);
  });

  describe('timeouts', () => {
    it('a connection that sends nothing is closed silently after KEEPALIVE_SECONDS', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1', HEADER_TIMEOUT_SECONDS: '5' } });
      const started = performance.now();
      const connection = await open(server.port);
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      const afterMs = connection.endedAt - started;
      console.log(`${arch}: silent connection closed after ${afterMs.toFixed(0)} ms (KEEPALIVE_SECONDS=1)`);
      expect(afterMs).toBeGreaterThan(990); // never early (docs/server.md: N to N + 0.75 s)
      expect(afterMs).toBeLessThan(1000 + 1500 * slow);
      expect(connection.receivedLength).toBe(0);
    });

    it('an idle keep-alive connection is closed KEEPALIVE_SECONDS after its last answer; activity keeps it open', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1', HEADER_TIMEOUT_SECONDS: '5' } });
      const connection = await open(server.port);
      // A request every 400 ms for 2 s: never idle for a whole second.
      for (let i = 1; i <= 5; i++) {
        await connection.write(request('GET', '/health'));
        await connection.waitForResponses(i, 2000 * slow);
        await sleep(400);
      }
      expect(connection.ending).toBe('open');
      const lastAnswer = performance.now();
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      const idleMs = connection.endedAt - lastAnswer;
      expect(idleMs).toBeGreaterThan(500); // 400 ms of the second already passed in the loop
      expect(idleMs).toBeLessThan(1000 + 1500 * slow);
      expect(show(connection.received())).toBe(show(Buffer.concat(Array.from({ length: 5 }, () => golden('health')))));
    });

    it('a started head that does not complete within HEADER_TIMEOUT_SECONDS gets 408 and close', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '10', HEADER_TIMEOUT_SECONDS: '1' } });
      const connection = await open(server.port);
      await connection.write('GET /health HTTP/1.1\r\nHost: x\r\n');
      const sentAt = performance.now();
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      const afterMs = connection.endedAt - sentAt;
      console.log(`${arch}: unfinished head answered 408 after ${afterMs.toFixed(0)} ms (HEADER_TIMEOUT_SECONDS=1)`);
      expect(show(connection.received())).toBe(show(golden('408')));
      expect(afterMs).toBeGreaterThan(990); // never early (docs/server.md: N to N + 0.75 s)
      expect(afterMs).toBeLessThan(1000 + 1500 * slow);
    });

    it('a head trickling one byte every 200 ms still gets 408 a HEADER_TIMEOUT after its first byte (no slowloris)', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '10', HEADER_TIMEOUT_SECONDS: '1' } });
      const connection = await open(server.port);
      const firstByteAt = performance.now();
      const trickle = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
      for (const char of trickle) {
        if (connection.ending !== 'open') break;
        await connection.write(char);
        await sleep(200);
      }
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      expect(show(connection.received())).toBe(show(golden('408')));
      const afterMs = connection.endedAt - firstByteAt;
      console.log(`${arch}: trickled head answered 408 after ${afterMs.toFixed(0)} ms (HEADER_TIMEOUT_SECONDS=1)`);
      expect(afterMs).toBeGreaterThan(990); // never early (docs/server.md: N to N + 0.75 s)
      expect(afterMs).toBeLessThan(1000 + 1500 * slow);
    });

    it('on a keep-alive connection the head timer starts at the next head, and a silent pause in between is not a 408', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '3', HEADER_TIMEOUT_SECONDS: '1' } });
      const connection = await open(server.port);
      await connection.write(request('GET', '/health'));
      await connection.waitForResponses(1, 2000 * slow);
      await sleep(1500); // idle longer than HEADER_TIMEOUT, shorter than KEEPALIVE
      expect(connection.ending).toBe('open');
      await connection.write('GET /nope HTTP/1.1\r\n');
      const startedAt = performance.now();
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      expect(connection.endedAt - startedAt).toBeGreaterThan(990); // never early (docs/server.md: N to N + 0.75 s)
      const { responses } = parseResponses(connection.received());
      expect(responses.map((response) => response.status)).toEqual([200, 408]);
      expect(show(connection.received())).toBe(show(Buffer.concat([golden('health'), golden('408')])));
    });
  });
});
