// An idle server sleeps (issue 9 defect 8, issue 10): no busy polling, and with no connection the tick is off,
// so the process makes no system call at all until a client or a signal comes. Counted by tools we did not
// write: strace attached to the amd64 server, qemu's own syscall log (QEMU_STRACE) for the arm64 one.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { msToNextTick } from '../support/interleave.js';
import { RawConnection, checkDate, exchange, golden, request, show, sleep } from '../support/http.js';
import { archs, eventually, slowdown, startServer, stopAllServers, type Arch, type ServerHandle } from '../support/server.js';

/** Starts the server so that its system calls can be counted (arm64: qemu logs each one on stderr). */
function startCounted(arch: Arch, env: Record<string, string> = {}): Promise<ServerHandle> {
  return startServer(arch, { env: arch === 'arm64' ? { ...env, QEMU_STRACE: '1' } : env });
}

/** The system calls the server makes in the next `ms` milliseconds, by name. */
async function syscallsDuring(server: ServerHandle, ms: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (server.arch === 'arm64') {
    const from = server.stderr().length;
    await sleep(ms);
    // One line per finished call: `PID name(args) = result`.
    for (const line of server.stderr().slice(from).split('\n')) {
      const match = /^\d+ (\w+)\(.*\) = /.exec(line);
      if (match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
    }
    return counts;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'idle-strace-'));
  try {
    const output = path.join(dir, 'strace.txt');
    const tracer = execa('strace', ['-c', '-f', '-o', output, '-p', String(server.pid)], { reject: false });
    await sleep(ms);
    tracer.kill('SIGINT');
    await tracer;
    // The summary table: `% time  seconds  usecs/call  calls  [errors]  syscall`, between dashed lines.
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || !/^\d/.test(fields[0]) || fields[fields.length - 1] === 'total') continue;
      counts.set(fields[fields.length - 1], Number(fields[3]));
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(archs)('%s: an idle server sleeps', (arch) => {
  const slow = slowdown(arch);
  afterAll(stopAllServers);

  it('makes no system call in 3 s after its start (no polling, no tick)', async () => {
    const server = await startCounted(arch);
    await sleep(300);
    const calls = await syscallsDuring(server, 3000);
    console.log(`${arch}: system calls of an idle server in 3 s: ${JSON.stringify(Object.fromEntries(calls))}`);
    expect(Object.fromEntries(calls)).toEqual({});
    expect(msToNextTick(server.pid)).toBeUndefined();
  });

  it('after serving clients it stops its tick and sleeps again', async () => {
    const server = await startCounted(arch);
    for (const headers of [[], ['Connection: close']]) {
      const answer = await exchange(server.port, request('GET', '/health', headers), { responses: 1, timeoutMs: 3000 * slow });
      expect(show(answer.bytes)).toBe(show(golden('health', { close: headers.length > 0 })));
    }
    // The connections are gone (the client closed both); the next tick finds none and stops.
    await sleep(600 * slow);
    const calls = await syscallsDuring(server, 3000);
    console.log(`${arch}: system calls in 3 s after the clients left: ${JSON.stringify(Object.fromEntries(calls))}`);
    expect(Object.fromEntries(calls)).toEqual({});
  });

  it('dozes while its connections are quiet: no system call in 3 s with 20 idle keep-alive connections open', async () => {
    const server = await startCounted(arch);
    const connections = await Promise.all(Array.from({ length: 20 }, () => RawConnection.open(server.port)));
    try {
      for (const connection of connections) {
        await connection.write(request('GET', '/health'));
        await connection.waitFor(() => connection.receivedLength >= golden('health').length, 3000 * slow);
      }
      // A tick with the requests' events, then one without: the server dozes until the first keep-alive
      // deadline (75 s away) instead of ticking 4 times a second.
      await sleep(800 * slow);
      const calls = await syscallsDuring(server, 3000);
      console.log(`${arch}: system calls in 3 s with 20 idle keep-alive connections: ${JSON.stringify(Object.fromEntries(calls))}`);
      expect(Object.fromEntries(calls)).toEqual({});
      expect(msToNextTick(server.pid), 'the timer is set for the first deadline').toBeGreaterThan(60_000);
      // A request wakes it: answered with a Date renewed at the wake-up (the last one was made 3.8 s ago, before
      // the doze), at most a tick's second behind plus scheduling slack, as in date.test.ts.
      const sentAt = Date.now();
      const answer = await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: 3000 * slow });
      expect(show(answer.bytes)).toBe(show(golden('health')));
      const date = answer.responses[0].headers.find(([name]) => name === 'Date')?.[1] ?? '';
      expect(checkDate(date), `Date ${date} after a doze`).toBeGreaterThanOrEqual(sentAt - Math.min(2000, 1250 + 500 * slow));
    } finally {
      for (const connection of connections) connection.destroy();
    }
  });

  it('wakes from a doze for the first deadline: a quiet connection closes on time', async () => {
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '2' } });
    const connection = await RawConnection.open(server.port);
    try {
      await connection.write(request('GET', '/health'));
      await connection.waitFor(() => connection.receivedLength >= golden('health').length, 3000 * slow);
      const answeredAt = performance.now();
      expect(await connection.waitForEnd(6000 * slow)).toBe('fin');
      const afterMs = connection.endedAt - answeredAt;
      console.log(`${arch}: keep-alive of a quiet connection (KEEPALIVE_SECONDS=2): closed ${afterMs.toFixed(0)} ms after its answer`);
      expect(afterMs).toBeGreaterThanOrEqual(2000 - 20);
      expect(afterMs).toBeLessThanOrEqual(2750 + (arch === 'arm64' ? 1500 : 400));
    } finally {
      connection.destroy();
    }
  });

  it('ticks while a connection is open, and its timers count from the wake-up, not from the last tick before the sleep', async () => {
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1' } });
    await sleep(2000); // asleep: the clock the timers use was last read at the start
    const openedAt = performance.now();
    const connection = await RawConnection.open(server.port);
    try {
      expect(await eventually(() => msToNextTick(server.pid) !== undefined, 1000 * slow), 'the tick runs').toBe(true);
      expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
      const afterMs = connection.endedAt - openedAt;
      console.log(`${arch}: keep-alive of the first connection after a sleep: ${afterMs.toFixed(0)} ms (KEEPALIVE_SECONDS=1)`);
      expect(afterMs).toBeGreaterThanOrEqual(1000);
      expect(afterMs).toBeLessThanOrEqual(1750 + (arch === 'arm64' ? 1500 : 400));
    } finally {
      connection.destroy();
    }
  });
});
