// Worker processes (WORKERS > 1): the first process replaces a worker that dies, at most one a second, names
// each crash on stderr, and exits 1 at the end if any worker crashed; a worker never outlives the first process.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, request, show, sleep } from '../support/http.js';
import { archs, eventually, processAlive, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

/** The first process's live children, i.e. its running workers. */
function liveWorkers(server: ServerHandle): number[] {
  return server.workerPids().filter(processAlive);
}

/** The process's descriptors that are TCP connections (sockets /proc/net/tcp6 lists in a state other than LISTEN). */
function openConnectionsOf(pid: number): number {
  const connected = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] !== '0A') connected.add(fields[9]); // state, inode
    }
  }
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((link) => connected.has(link.slice('socket:['.length, -1))).length;
}

/** When a process started, in ms since boot (field 22 of /proc/PID/stat, in ticks of 10 ms). */
function startTimeMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]) * 10;
}

/** Kills a process we started ourselves, if it still runs. */
function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe.each(archs)('%s: workers', (arch) => {
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  afterAll(stopAllServers);

  /** Every one of `count` fresh connections gets /health (they spread over all the listeners). */
  async function expectAllServed(server: ServerHandle, count: number) {
    const answers = await Promise.all(
      Array.from({ length: count }, () => exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: patience })),
    );
    for (const answer of answers) expect(show(answer.bytes)).toBe(show(golden('health')));
  }

  it('WORKERS=3: a worker killed by SIGKILL is replaced and named on stderr; the first process then exits 1', async () => {
    const server = await startServer(arch, { env: { WORKERS: '3', DRAIN_SECONDS: '0' } });
    expect(await eventually(() => liveWorkers(server).length === 2, 2000 * slow)).toBe(true);
    const [victim, survivor] = liveWorkers(server);
    process.kill(victim, 'SIGKILL');
    const replaced = await eventually(() => {
      const now = liveWorkers(server);
      return now.length === 2 && !now.includes(victim) && now.includes(survivor);
    }, 2000 * slow);
    console.log(`${arch}: worker ${victim} killed; workers now ${liveWorkers(server).join(', ')}; stderr ${JSON.stringify(server.stderr())}`);
    expect(replaced).toBe(true);
    expect(server.workerPids()).not.toContain(victim); // reaped, not a zombie
    const line = `asm-web-service: worker ${victim} killed by signal 9\n`;
    await eventually(() => server.stderr() === line, 1000 * slow); // the pipe may deliver it after the fork shows
    expect(server.stderr()).toBe(line);
    // The replacement serves on the dead worker's listener: connections spread over all three are answered.
    await expectAllServed(server, 30);

    server.signal('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(10_000 * slow).then(() => null)]);
    expect(exit?.code).toBe(1);
    expect(liveWorkers(server)).toEqual([]);
    // The replacement's own end was clean: no second line (it once inherited the first process's crash flag, so
    // it exited 1 at the shutdown and was named as a crash too).
    expect(server.stderr()).toBe(line);
  });

  it('a replacement forked while the first process serves keeps none of its descriptors or connections', async () => {
    const server = await startServer(arch, { env: { WORKERS: '3', DRAIN_SECONDS: '0', KEEPALIVE_SECONDS: '60' } });
    expect(await eventually(() => liveWorkers(server).length === 2, 2000 * slow)).toBe(true);
    const [victim, survivor] = liveWorkers(server);
    // Idle keep-alive connections, spread by the kernel over the three processes: some are the first one's.
    const idle = await Promise.all(Array.from({ length: 24 }, () => RawConnection.open(server.port)));
    try {
      await Promise.all(idle.map((connection) => connection.write(request('GET', '/health'))));
      await Promise.all(idle.map((connection) => connection.waitForResponses(1, patience)));
      process.kill(victim, 'SIGKILL');
      const isReplacement = (pid: number) => pid !== survivor && pid !== victim;
      expect(await eventually(() => liveWorkers(server).some(isReplacement), 2000 * slow)).toBe(true);
      const replacement = liveWorkers(server).find(isReplacement)!;
      await expectAllServed(server, 12); // the replacement is in its event loop
      // Apart from its connections, as many descriptors as the other worker (its listener, epoll, signals, timer,
      // spare), none of the first process's. (Read until both processes hold still between the two counts.)
      const ownDescriptors = (pid: number) => server.fdCount(pid) - openConnectionsOf(pid);
      await eventually(() => ownDescriptors(replacement) === ownDescriptors(survivor), 2000 * slow);
      expect(ownDescriptors(replacement)).toBe(ownDescriptors(survivor));
      // Every connection still works, and closes at once when asked: no other process holds it open.
      const closing = request('GET', '/health', ['Connection: close']);
      await Promise.all(idle.map((connection) => connection.write(closing)));
      const endings = await Promise.all(idle.map((connection) => connection.waitForEnd(2000 * slow)));
      expect(endings.filter((ending) => ending === 'open')).toEqual([]);
    } finally {
      for (const connection of idle) connection.destroy();
    }
  });

  it('replacements are rate-limited: two workers killed at once come back one second apart', async () => {
    const server = await startServer(arch, { env: { WORKERS: '3', DRAIN_SECONDS: '0' } });
    expect(await eventually(() => liveWorkers(server).length === 2, 2000 * slow)).toBe(true);
    const victims = liveWorkers(server);
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    const seen = new Map<number, number>(); // replacement pid -> when first seen
    const killedAt = performance.now();
    await eventually(() => {
      for (const pid of liveWorkers(server)) if (!victims.includes(pid) && !seen.has(pid)) seen.set(pid, performance.now());
      return seen.size === 2;
    }, 4000 * slow, 5);
    const times = [...seen.values()].sort((a, b) => a - b).map((at) => at - killedAt);
    // The kernel's start times (10 ms ticks), not when this process happened to look.
    const started = [...seen.keys()].map(startTimeMs).sort((a, b) => a - b);
    console.log(
      `${arch}: two workers killed; replacements seen after ${times.map((ms) => ms.toFixed(0)).join(' and ')} ms, ` +
        `started ${started[1] - started[0]} ms apart`,
    );
    expect(times).toHaveLength(2);
    expect(started[1] - started[0]).toBeGreaterThanOrEqual(990); // a second, to a tick
    expect(times[1]).toBeLessThan(1000 + 1000 * slow);
    await eventually(() => server.stderr().split('\n').filter(Boolean).length === 2, 1000 * slow);
    const lines = server.stderr().split('\n').filter(Boolean).sort();
    expect(lines).toEqual(victims.map((pid) => `asm-web-service: worker ${pid} killed by signal 9`).sort());
    await expectAllServed(server, 30);
  });

  it('a worker that ends cleanly (its own SIGTERM) is replaced without a crash: the exit stays 0', async () => {
    const server = await startServer(arch, { env: { WORKERS: '2', DRAIN_SECONDS: '0' } });
    expect(await eventually(() => liveWorkers(server).length === 1, 2000 * slow)).toBe(true);
    const [worker] = liveWorkers(server);
    process.kill(worker, 'SIGTERM');
    expect(await eventually(() => liveWorkers(server).length === 1 && !liveWorkers(server).includes(worker), 3000 * slow)).toBe(true);
    await expectAllServed(server, 10);
    server.signal('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(10_000 * slow).then(() => null)]);
    expect({ code: exit?.code, stderr: server.stderr() }).toEqual({ code: 0, stderr: '' });
  });

  it('a worker does not outlive a first process that died before the worker set PR_SET_PDEATHSIG', async () => {
    // strace delays every prctl by 1.5 s; the first process is killed inside that window, before its worker
    // asks to be told of its death.
    const delayUs = 1_500_000;
    const server = await startServer(arch, {
      env: { WORKERS: '2', DRAIN_SECONDS: '0' },
      prefix: ['strace', '-D', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=prctl', '-e', `inject=prctl:delay_enter=${delayUs}`, '--'],
    });
    expect(await eventually(() => liveWorkers(server).length === 1, 2000 * slow)).toBe(true);
    const [worker] = liveWorkers(server);
    try {
      process.kill(server.pid, 'SIGKILL');
      await server.exited;
      const gone = await eventually(() => !processAlive(worker), delayUs / 1000 + 3000 * slow, 50);
      console.log(`${arch}: first process killed inside the worker's prctl: worker ${gone ? 'ended' : 'still running'}`);
      expect(gone).toBe(true);
    } finally {
      killIfAlive(worker);
    }
  });
});
