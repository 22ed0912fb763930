// Contract point 7: SIGTERM/SIGINT start a graceful shutdown. /health says 503 and every answer closes its
// connection for DRAIN_SECONDS, then the server stops accepting, finishes responses in flight and exits 0;
// idle, within 100 ms of the delay's end. Also DRAIN_SECONDS=0, a second signal, and WORKERS > 1.
import { performance } from 'node:perf_hooks';
import { request as undiciRequest } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, connectionsPerTest, exchange, golden, parseResponses, request, show, sleep } from '../support/http.js';
import { archs, builtPage, eventually, processAlive, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

describe.each(archs)('%s: signals (point 7)', (arch) => {
  const slow = slowdown(arch);
  // The contract allows 100 ms after the delay; the rest is scheduling (and emulation) slack.
  const exitBudgetMs = 100 + (arch === 'arm64' ? 400 : 60);
  const patience = 3000 * slow;
  const open = connectionsPerTest();
  afterAll(stopAllServers);
  const expectBytes = (actual: Buffer, expected: Buffer) => expect(show(actual)).toBe(show(expected));

  /** Sends the signal, then checks the exit: code 0, not before the delay, at most exitBudgetMs after it. */
  async function expectExitAfter(server: ServerHandle, signalledAt: number, drainMs: number, label: string) {
    const exit = await Promise.race([server.exited, sleep(drainMs + 10_000 * slow).then(() => null)]);
    expect(exit, 'the server did not exit').not.toBeNull();
    const afterMs = exit!.at - signalledAt;
    console.log(`${arch}: ${label}: exit ${exit!.code} after ${afterMs.toFixed(0)} ms (${(afterMs - drainMs).toFixed(0)} ms after the delay's end)`);
    expect(exit!.code).toBe(0);
    expect(exit!.signal).toBeNull();
    expect(afterMs).toBeGreaterThanOrEqual(drainMs - 50);
    expect(afterMs).toBeLessThanOrEqual(drainMs + exitBudgetMs);
  }

  it('SIGTERM: 503 and Connection: close during DRAIN_SECONDS, on new and existing connections, then exit 0', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '2', KEEPALIVE_SECONDS: '60' } });
    const existing = await open(server.port);
    await existing.write(request('GET', '/health'));
    await existing.waitForResponses(1, patience);
    const signalledAt = server.signal('SIGTERM');
    await sleep(100);

    const health = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience });
    expectBytes(health.bytes, golden('503'));
    expect(health.ending).toBe('fin');
    const headHealth = await exchange(server.port, request('HEAD', '/health'), { untilEnd: true, timeoutMs: patience, isHead: () => true });
    expectBytes(headHealth.bytes, golden('503').subarray(0, golden('503').indexOf('\r\n\r\n') + 4));
    const page = await exchange(server.port, request('GET', '/'), { untilEnd: true, timeoutMs: patience });
    expectBytes(page.bytes, Buffer.concat([golden('page-head', { arch, close: true }), builtPage(arch)]));
    expect(page.ending).toBe('fin');
    const missing = await exchange(server.port, request('GET', '/nope'), { untilEnd: true, timeoutMs: patience });
    expectBytes(missing.bytes, golden('404', { close: true }));

    // The connection opened before the signal gets the 503 too, and is closed after it.
    await existing.write(request('GET', '/health') + request('GET', '/health'));
    expect(await existing.waitForEnd(patience)).toBe('fin');
    expectBytes(existing.received(), Buffer.concat([golden('health'), golden('503')]));

    await expectExitAfter(server, signalledAt, 2000, 'SIGTERM, DRAIN_SECONDS=2');
    await expect(RawConnection.open(server.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('SIGINT does the same', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '1' } });
    const signalledAt = server.signal('SIGINT');
    await sleep(100);
    const health = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience });
    expectBytes(health.bytes, golden('503'));
    await expectExitAfter(server, signalledAt, 1000, 'SIGINT, DRAIN_SECONDS=1');
  });

  it('DRAIN_SECONDS=0 exits at once', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '0' } });
    const signalledAt = server.signal('SIGTERM');
    await expectExitAfter(server, signalledAt, 0, 'SIGTERM, DRAIN_SECONDS=0');
  });

  it('a second signal ends the delay at once', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '60' } });
    server.signal('SIGTERM');
    await sleep(300);
    const health = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience });
    expectBytes(health.bytes, golden('503'));
    const secondAt = server.signal('SIGINT');
    await expectExitAfter(server, secondAt, 0, 'second signal during DRAIN_SECONDS=60');
  });

  it('idle keep-alive connections do not hold the exit back; they are closed', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '1', KEEPALIVE_SECONDS: '60' } });
    const idle = await Promise.all(Array.from({ length: 5 }, () => open(server.port)));
    await idle[0].write(request('GET', '/health'));
    await idle[0].waitForResponses(1, patience);
    const signalledAt = server.signal('SIGTERM');
    await expectExitAfter(server, signalledAt, 1000, 'SIGTERM with 5 idle connections, DRAIN_SECONDS=1');
    for (const connection of idle) expect(await connection.waitForEnd(1000)).not.toBe('open');
  });

  it('responses in flight are finished before the exit, none cut short', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '0', HEADER_TIMEOUT_SECONDS: '10' } });
    const reader = await open(server.port);
    reader.socket.pause();
    // ~10 MB of pages: more than the kernel buffers hold, so the server's writes to this client block.
    void reader.write(request('GET', '/').repeat(6000));
    await sleep(300);
    const signalledAt = server.signal('SIGTERM');
    await sleep(300);
    reader.socket.resume();
    const ending = await reader.waitForEnd(20_000 * slow);
    const exit = await server.exited;
    const { responses, rest } = parseResponses(reader.received());
    const page = builtPage(arch);
    console.log(`${arch}: SIGTERM with a blocked writer: ${responses.length} complete pages delivered, exit ${(exit.at - signalledAt).toFixed(0)} ms after the signal`);
    expect({ ending, incompleteBytes: rest.length }).toEqual({ ending: 'fin', incompleteBytes: 0 });
    expect(responses.length).toBeGreaterThan(0);
    expect(responses.every((response) => response.status === 200 && response.body.equals(page))).toBe(true);
    expect(exit.code).toBe(0);
  });

  it('WORKERS=3: the first process forwards the signal, every worker drains, and it exits after all of them', async () => {
    const server = await startServer(arch, { env: { WORKERS: '3', DRAIN_SECONDS: '1' } });
    expect(await eventually(() => server.workerPids().length === 2, 2000 * slow)).toBe(true);
    const workers = server.workerPids();
    const signalledAt = server.signal('SIGTERM');
    await sleep(150);
    // Many fresh connections land on every worker; all of them already say 503.
    const answers = await Promise.all(
      Array.from({ length: 24 }, () => exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience })),
    );
    for (const answer of answers) expectBytes(answer.bytes, golden('503'));
    await expectExitAfter(server, signalledAt, 1000, 'SIGTERM, WORKERS=3, DRAIN_SECONDS=1');
    expect(workers.filter(processAlive)).toEqual([]);
  });

  it('/health during the delay is 503 for undici too, then connections are refused', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '1' } });
    const before = await undiciRequest(`http://127.0.0.1:${server.port}/health`, { reset: true });
    expect(before.statusCode).toBe(200);
    await before.body.dump();
    server.signal('SIGTERM');
    await sleep(100);
    const during = await undiciRequest(`http://127.0.0.1:${server.port}/health`, { reset: true });
    expect(during.statusCode).toBe(503);
    expect(during.headers['cache-control']).toBe('no-store');
    expect(await during.body.text()).toBe('Service Unavailable\r\n');
    await server.exited;
    const refusedAt = performance.now();
    await expect(undiciRequest(`http://127.0.0.1:${server.port}/health`, { reset: true })).rejects.toThrow();
    expect(performance.now() - refusedAt).toBeLessThan(2000);
  });
});
