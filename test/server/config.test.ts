// Contract points 8 and 9: configuration by environment (PORT default, invalid values, port in use, the startup
// line, WORKERS spreading connections over processes) and the `health` self-probe's exit codes.
import { execa } from 'execa';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RawConnection, golden, request, show, sleep } from '../support/http.js';
import { archs, commandFor, eventually, freePort, runBinary, slowdown, startServer, startupLine, stopAllServers, withoutIpv6 } from '../support/server.js';

const variables: [name: string, min: number, max: number][] = [
  ['PORT', 1, 65535],
  ['WORKERS', 1, 64],
  ['DRAIN_SECONDS', 0, 3600],
  ['KEEPALIVE_SECONDS', 1, 3600],
  ['HEADER_TIMEOUT_SECONDS', 1, 3600],
];

/** Values no variable accepts, plus the ones just outside each range. */
function invalidValues(min: number, max: number): string[] {
  const values = ['', 'abc', '-1', '12x', ' 80', '80 ', '+80', '1.5', '0x10', String(max + 1), '99999999999999999999999'];
  if (min > 0) values.push(String(min - 1));
  return values;
}

/** The kernel's TCP socket table, IPv4 and IPv6 (a dual-stack listener and its connections are in the latter). */
function tcpTableLines(): string[] {
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) => readFileSync(file, 'utf8').split('\n').slice(1));
}

/** Socket inodes of the listeners on `port` (TCP state 0A, LISTEN). */
function listenerInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of tcpTableLines()) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 10 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) inodes.add(fields[9]);
  }
  return inodes;
}

/** Server-side socket inodes of the established connections to `port`, by the client's port. */
function serverSocketInodes(port: number): Map<number, string> {
  const inodes = new Map<number, string>();
  for (const line of tcpTableLines()) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== '01') continue; // 01: ESTABLISHED
    const localPort = parseInt(fields[1].split(':')[1], 16);
    const remotePort = parseInt(fields[2].split(':')[1], 16);
    if (localPort === port) inodes.set(remotePort, fields[9]);
  }
  return inodes;
}

function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return inodes;
}

/** A stand-in peer for the probe on 127.0.0.1: records what it receives and answers with `reply` (or never). */
async function fakeHealthPeer(reply: string | null): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
  let received = '';
  const sockets = new Set<net.Socket>();
  const peer = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (reply !== null && received.includes('\r\n\r\n')) socket.end(reply);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  return {
    port: (peer.address() as net.AddressInfo).port,
    received: () => received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => peer.close(() => resolve()));
    },
  };
}

describe.each(archs)('%s: configuration and self-probe (points 8, 9)', (arch) => {
  const slow = slowdown(arch);
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(stopAllServers);

  describe('8. configuration', () => {
    it('prints exactly one startup line on stdout, nothing on stderr, and nothing more while serving', async () => {
      const server = await startServer(arch);
      const connection = await RawConnection.open(server.port);
      cleanups.push(() => connection.destroy());
      await connection.write(request('GET', '/health') + 'BAD\r\n\r\n');
      await connection.waitForEnd(2000 * slow);
      await sleep(100);
      expect(server.stdout()).toBe(startupLine(server.port));
      expect(server.stderr()).toBe('');
    });

    it('PORT defaults to 8080 (checked in a private network namespace, with the self-probe there too)', async () => {
      const [file, args] = commandFor(arch);
      // In its own namespace the server can take 8080 without touching the machine's; it starts, the probe
      // (PORT unset as well) must find it, then it is stopped.
      const script = `
        ip link set lo up || exit 90
        out=$(mktemp)
        "$@" >"$out" 2>&1 & server=$!
        tries=0
        until grep -q listening "$out" || [ $tries -ge 200 ]; do sleep 0.05; tries=$((tries + 1)); done
        cat "$out"
        "$@" health; echo "probe exit $?"
        kill -KILL $server; wait $server 2>/dev/null; rm -f "$out"`;
      const result = await execa('unshare', ['--net', '--', 'sh', '-c', script, 'sh', file, ...args], {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        extendEnv: false,
        reject: false,
        timeout: 20_000 * slow,
      });
      expect(result.stdout).toBe(`${startupLine(8080)}probe exit 0`);
    });

    it.each(variables)('an invalid %s is a one-line error naming it and exit 2', async (name, min, max) => {
      const port = String(await freePort());
      const runs = await Promise.all(
        invalidValues(min, max).map(async (value) => ({
          value,
          result: await runBinary(arch, [], { PORT: port, [name]: value }, 3000 * slow),
        })),
      );
      for (const { value, result } of runs) {
        expect({ value, exitCode: result.exitCode, stderr: result.stderr, stdout: result.stdout }).toEqual({
          value,
          exitCode: 2,
          stderr: `asm-web-service: invalid ${name} (expected ${min}-${max})\n`,
          stdout: '',
        });
      }
    });

    it('accepts the largest values of every range (WORKERS aside) and serves', async () => {
      const server = await startServer(arch, { env: { DRAIN_SECONDS: '3600', KEEPALIVE_SECONDS: '3600', HEADER_TIMEOUT_SECONDS: '3600' } });
      const connection = await RawConnection.open(server.port);
      cleanups.push(() => connection.destroy());
      await connection.write(request('GET', '/health'));
      await connection.waitForResponses(1, 2000 * slow);
      expect(show(connection.received())).toBe(show(golden('health')));
    });

    it('an unknown argument is a usage error, exit 2', async () => {
      for (const argument of ['serve', '--help', 'HEALTH']) {
        const result = await runBinary(arch, [argument], { PORT: String(await freePort()) }, 3000 * slow);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toBe('asm-web-service: unknown argument (usage: asm-web-service [health])\n');
        expect(result.stdout).toBe('');
      }
    });

    it('listens on [::]: IPv6 and IPv4 clients alike get their answers', async () => {
      const server = await startServer(arch);
      for (const host of ['::1', '127.0.0.1']) {
        const connection = await RawConnection.open(server.port, { host });
        cleanups.push(() => connection.destroy());
        await connection.write(request('GET', '/health'));
        await connection.waitForResponses(1, 3000 * slow);
        expect(show(connection.received()), `over ${host}`).toBe(show(golden('health')));
      }
    });

    it('on a kernel without IPv6 (socket(AF_INET6) fails with EAFNOSUPPORT) it listens on 0.0.0.0 and says so', async () => {
      const server = await startServer(arch, { prefix: [await withoutIpv6()], address: '0.0.0.0' });
      expect(server.stdout()).toBe(startupLine(server.port, '0.0.0.0'));
      const connection = await RawConnection.open(server.port);
      cleanups.push(() => connection.destroy());
      await connection.write(request('GET', '/health'));
      await connection.waitForResponses(1, 3000 * slow);
      expect(show(connection.received())).toBe(show(golden('health')));
      await expect(RawConnection.open(server.port, { host: '::1' })).rejects.toThrow(/ECONNREFUSED/);
    });

    it.each(['0.0.0.0', '::'])('a port in use (here by a listener on %s) is a one-line error naming the port, exit 1', async (holderAddress) => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, holderAddress, resolve));
      cleanups.push(() => new Promise((resolve) => holder.close(resolve)));
      const port = (holder.address() as net.AddressInfo).port;
      const result = await runBinary(arch, [], { PORT: String(port) }, 3000 * slow);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toBe(`asm-web-service: port ${port} is already in use\n`);
      expect(result.stdout).toBe('');
    });

    it('any other listening failure: "cannot listen on port PORT", exit 1 (a privileged port, as an unprivileged user)', async () => {
      // Ports below ip_unprivileged_port_start need CAP_NET_BIND_SERVICE: bind fails with EACCES, not EADDRINUSE.
      const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
      expect(unprivilegedStart, 'this machine has privileged ports').toBeGreaterThan(1);
      const [file, args] = commandFor(arch);
      const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', file, ...args], {
        env: { PORT: '1' }, extendEnv: false, reject: false, stdin: 'ignore', timeout: 5000 * slow, stripFinalNewline: false,
      });
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toBe('asm-web-service: cannot listen on port 1\n');
      expect(String(result.stdout)).toBe('');
    });

    it('WORKERS=4 runs four processes and every one of them serves some of 64 connections', async () => {
      const server = await startServer(arch, { env: { WORKERS: '4' } });
      // All four listeners exist when the startup line is printed (docs/server.md), before any worker runs.
      expect(listenerInodes(server.port).size).toBe(4);
      expect(await eventually(() => server.workerPids().length === 3, 3000 * slow)).toBe(true);
      const pids = [server.pid, ...server.workerPids()];
      // Then each process keeps its own SO_REUSEPORT listener and closes the other three.
      const ownsListener = (pid: number) => [...listenerInodes(server.port)].some((inode) => socketInodesOf(pid).has(inode));
      expect(await eventually(() => listenerInodes(server.port).size === 4 && pids.every(ownsListener), 3000 * slow)).toBe(true);
      const connections = await Promise.all(Array.from({ length: 64 }, () => RawConnection.open(server.port)));
      cleanups.push(() => connections.forEach((connection) => connection.destroy()));
      await Promise.all(connections.map((connection) => connection.write(request('GET', '/health'))));
      const answers = await Promise.all(connections.map((connection) => connection.waitForResponses(1, 3000 * slow)));
      expect(answers.every((list) => list.length === 1 && list[0].status === 200)).toBe(true);

      const inodeByClientPort = serverSocketInodes(server.port);
      const servedBy = new Map<number, number>(pids.map((pid) => [pid, 0]));
      let unmatched = 0;
      for (const connection of connections) {
        const inode = inodeByClientPort.get(connection.socket.localPort!);
        const owner = pids.find((pid) => inode !== undefined && socketInodesOf(pid).has(inode));
        if (owner === undefined) unmatched++;
        else servedBy.set(owner, servedBy.get(owner)! + 1);
      }
      console.log(`${arch}: WORKERS=4, connections per process: ${[...servedBy.values()].join(', ')}`);
      expect(unmatched).toBe(0);
      expect([...servedBy.values()].every((count) => count > 0)).toBe(true);
    });
  });

  describe('9. the health self-probe', () => {
    const probe = (port: number, timeoutMs = 10_000 * slow) => runBinary(arch, ['health'], { PORT: String(port) }, timeoutMs);

    it('exits 0 when the server answers 200, printing nothing', async () => {
      const server = await startServer(arch);
      const result = await probe(server.port);
      expect(result).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
    });

    it('exits 1 when nothing listens', async () => {
      const result = await probe(await freePort());
      expect(result).toMatchObject({ exitCode: 1, stdout: '', stderr: '' });
    });

    it('exits 1 while the server drains (503)', async () => {
      const server = await startServer(arch, { env: { DRAIN_SECONDS: '30' } });
      server.signal('SIGTERM');
      await sleep(100);
      const result = await probe(server.port);
      expect(result).toMatchObject({ exitCode: 1, stdout: '', stderr: '' });
    });

    it('sends exactly the documented request, and only HTTP/1.1 200 counts', async () => {
      const replies: [string, number][] = [
        ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK', 0],
        ['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 1],
        ['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', 1],
        ['HTTP/1.1 2000 OK\r\n\r\n', 1],
        ['garbage', 1],
        ['', 1],
      ];
      for (const [reply, expected] of replies) {
        const peer = await fakeHealthPeer(reply);
        cleanups.push(peer.close);
        const result = await probe(peer.port);
        expect({ reply, exitCode: result.exitCode }).toEqual({ reply, exitCode: expected });
        expect(peer.received()).toBe('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      }
    });

    it('gives up after about 2 s on a peer that never answers, exit 1', async () => {
      const peer = await fakeHealthPeer(null);
      cleanups.push(peer.close);
      const result = await probe(peer.port);
      console.log(`${arch}: probe against a silent peer gave up after ${result.durationMs.toFixed(0)} ms`);
      expect(result.exitCode).toBe(1);
      expect(result.durationMs).toBeGreaterThan(1800);
      expect(result.durationMs).toBeLessThan(2000 + 1000 * slow);
    });

    it('an invalid PORT is reported the same way in probe mode', async () => {
      const result = await runBinary(arch, ['health'], { PORT: 'x' }, 3000 * slow);
      expect(result).toMatchObject({ exitCode: 2, stderr: 'asm-web-service: invalid PORT (expected 1-65535)\n' });
    });
  });
});
