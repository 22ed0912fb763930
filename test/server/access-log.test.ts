// ACCESS_LOG=json (docs/server.md, "Access log"): a JSON line on stdout per response and per lifecycle event.
// Every line goes through JSON.parse (not our parser), and each field is compared with what the test itself saw:
// the client's own port, the bytes it received, the bytes it sent as the path, its clock.
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, request, sleep } from '../support/http.js';
import {
  archs,
  commandFor,
  eventually,
  freePort,
  processAlive,
  runBinary,
  slowdown,
  startServer,
  steadyValue,
  stopAllServers,
  type ServerHandle,
} from '../support/server.js';

const LOG = { ACCESS_LOG: 'json' };
const RFC3339_MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const ACCESS_KEYS = ['time', 'remote_addr', 'remote_port', 'method', 'path', 'version', 'status', 'bytes', 'duration_us'];

type Line = Record<string, unknown>;

/** Every line of a stdout, each parsed by JSON.parse: a line that is not JSON fails the test. */
function linesOf(stdout: string): Line[] {
  expect(stdout === '' || stdout.endsWith('\n'), 'stdout ends with a whole line').toBe(true);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

const accessLines = (stdout: string) => linesOf(stdout).filter((line) => !('event' in line));
const events = (stdout: string) => linesOf(stdout).filter((line) => 'event' in line);

/** Sends raw bytes on a fresh connection and reads until the server closes it: the client's port and the bytes. */
async function roundTrip(port: number, bytes: string | Buffer, timeoutMs: number, host = '127.0.0.1') {
  const connection = await RawConnection.open(port, { host, allowHalfOpen: true });
  const clientPort = connection.socket.localPort!;
  try {
    await connection.write(bytes);
    await connection.waitForEnd(timeoutMs);
    return { clientPort, received: connection.received() };
  } finally {
    connection.destroy();
  }
}

/** Waits until stdout holds `count` access lines (they are written once an event batch). */
async function accessLinesOnceThere(server: ServerHandle, count: number, timeoutMs: number): Promise<Line[]> {
  await eventually(() => accessLines(server.stdout()).length >= count, timeoutMs);
  const lines = accessLines(server.stdout());
  expect(lines).toHaveLength(count);
  return lines;
}

describe.each(archs)('%s: access log', (arch) => {
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  afterAll(stopAllServers);

  it('off by default and with ACCESS_LOG=off; another value is refused by name', async () => {
    for (const env of [{}, { ACCESS_LOG: 'off' }] as Record<string, string>[]) {
      const server = await startServer(arch, { env });
      await roundTrip(server.port, request('GET', '/health', ['Connection: close']), patience);
      await sleep(200);
      expect(server.stdout()).toBe(`asm-web-service: listening on http://[::]:${server.port}\n`);
      await server.stop();
    }
    for (const value of ['JSON', 'json ', 'on', '1', '']) {
      const result = await runBinary(arch, [], { PORT: String(await freePort()), ACCESS_LOG: value });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toBe('asm-web-service: invalid ACCESS_LOG (expected json or off)\n');
      expect(result.stdout).toBe('');
    }
  });

  it('a line per response: the client, the request line, the status, the bytes the client received', async () => {
    const before = Date.now();
    const server = await startServer(arch, { env: LOG });
    const sent = [
      { bytes: request('GET', '/', ['Connection: close']), host: '127.0.0.1', method: 'GET', path: '/', status: 200 },
      { bytes: request('HEAD', '/health', ['Connection: close']), host: '127.0.0.1', method: 'HEAD', path: '/health', status: 200 },
      { bytes: request('GET', '/nope?q=1', ['Connection: close']), host: '::1', method: 'GET', path: '/nope?q=1', status: 404 },
      { bytes: request('POST', '/health', ['Connection: close']), host: '::1', method: 'POST', path: '/health', status: 405 },
      { bytes: request('GET', '/metrics', ['Connection: close']), host: '127.0.0.1', method: 'GET', path: '/metrics', status: 200 },
      { bytes: 'GET / HTTP/1.0\r\n\r\n', host: '127.0.0.1', method: 'GET', path: '/', status: 200, version: 'HTTP/1.0' },
      { bytes: request('GET', '/', ['Connection: close'], 'HTTP/2.0'), host: '127.0.0.1', method: 'GET', path: '/', status: 505, version: 'HTTP/2.0' },
    ];
    const seen: { clientPort: number; received: Buffer }[] = [];
    for (const one of sent) seen.push(await roundTrip(server.port, one.bytes, patience, one.host));
    const lines = await accessLinesOnceThere(server, sent.length, patience);
    const after = Date.now();
    lines.forEach((line, index) => {
      const one = sent[index];
      expect(Object.keys(line)).toEqual(ACCESS_KEYS);
      expect(line).toMatchObject({
        remote_addr: one.host,
        remote_port: seen[index].clientPort,
        method: one.method,
        path: one.path,
        version: one.version ?? 'HTTP/1.1',
        status: one.status,
        bytes: seen[index].received.length,
      });
      expect(line.time).toMatch(RFC3339_MICROS);
      const time = Date.parse(line.time as string);
      expect(time).toBeGreaterThanOrEqual(before - 1000);
      expect(time).toBeLessThanOrEqual(after + 1000);
      expect(line.duration_us).toBeGreaterThanOrEqual(0);
    });
    // Answered in the order they came, each at its own time or later.
    const times = lines.map((line) => Date.parse(line.time as string));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('pipelined requests on one connection: a line each, in order, with the bytes of each response', async () => {
    const server = await startServer(arch, { env: LOG });
    const pipeline = request('GET', '/health') + request('GET', '/a') + request('HEAD', '/') + request('GET', '/health', ['Connection: close']);
    const { clientPort, received } = await roundTrip(server.port, pipeline, patience);
    const lines = await accessLinesOnceThere(server, 4, patience);
    expect(lines.map((line) => [line.method, line.path, line.status, line.remote_port])).toEqual([
      ['GET', '/health', 200, clientPort],
      ['GET', '/a', 404, clientPort],
      ['HEAD', '/', 200, clientPort],
      ['GET', '/health', 200, clientPort],
    ]);
    expect(lines.reduce((sum, line) => sum + (line.bytes as number), 0)).toBe(received.length);
  });

  it('escapes what JSON needs and keeps every byte of the path (\\u00XX for controls, DEL and non-ASCII); cuts a long path', async () => {
    const server = await startServer(arch, { env: LOG });
    const target = Buffer.concat([Buffer.from('/a"b\\c\x01\x1f\x7f'), Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from('%22')]);
    const raw = Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
    await roundTrip(server.port, raw, patience);
    const long = `/${'x'.repeat(4000)}`;
    await roundTrip(server.port, request('GET', long, ['Connection: close']), patience);
    await roundTrip(server.port, 'NOT A REQUEST LINE AT ALL\r\n\r\n', patience);
    const lines = await accessLinesOnceThere(server, 3, patience);
    // Each byte came back as the code point of its value: the line is valid JSON whatever the client sent.
    expect(Buffer.from(lines[0].path as string, 'latin1')).toEqual(target);
    expect(lines[0].status).toBe(400);
    expect(lines[1].path).toBe(long.slice(0, 2048));
    expect(lines[1].status).toBe(404);
    expect(lines[2]).toMatchObject({ method: 'NOT', path: 'A', version: 'REQUEST LINE AT ALL' });
    expect([400, 501]).toContain(lines[2].status);
    for (const line of server.stdout().split('\n').filter(Boolean)) {
      expect(Buffer.byteLength(line)).toBeLessThan(4096); // one write to a pipe keeps it whole
      expect(line).toMatch(/^[\x20-\x7e]+$/); // printable ASCII only
    }
  });

  it('duration_us: the time a request waited for the rest of its head; a 408 has a line too', async () => {
    const server = await startServer(arch, { env: { ...LOG, HEADER_TIMEOUT_SECONDS: '1' } });
    const connection = await RawConnection.open(server.port, { allowHalfOpen: true });
    await connection.write('GET /slow HTTP/1.1\r\nHo');
    await sleep(600);
    await connection.write('st: x\r\nConnection: close\r\n\r\n');
    await connection.waitForEnd(patience);
    connection.destroy();
    const stalled = await RawConnection.open(server.port, { allowHalfOpen: true });
    await stalled.write('HEAD /never HTTP/1.1\r\nHost: x\r\n');
    await stalled.waitForEnd(5000 * slow);
    const answer = stalled.received().toString('latin1');
    stalled.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const lines = await accessLinesOnceThere(server, 2, patience);
    expect(lines[0]).toMatchObject({ path: '/slow', status: 404 });
    expect(lines[0].duration_us).toBeGreaterThanOrEqual(500_000);
    expect(lines[0].duration_us).toBeLessThan(600_000 + 2_000_000 * slow);
    expect(lines[1]).toMatchObject({ method: 'HEAD', path: '/never', version: 'HTTP/1.1', status: 408, bytes: answer.length });
    expect(lines[1].duration_us).toBeGreaterThanOrEqual(1_000_000);
  });

  it('lifecycle events: start, worker_replaced, drain_begun, drain_ended and exit, one line each from the first process', async () => {
    const server = await startServer(arch, { env: { ...LOG, WORKERS: '2', DRAIN_SECONDS: '1' } });
    await eventually(() => server.workerPids().length === 1, patience);
    const [worker] = server.workerPids();
    process.kill(worker, 'SIGKILL');
    await eventually(() => events(server.stdout()).some((line) => line.event === 'worker_replaced'), 5000 * slow);
    await roundTrip(server.port, request('GET', '/health', ['Connection: close']), patience);
    server.signal('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(1); // a worker was killed: the first process says so
    const all = events(server.stdout());
    expect(all.map((line) => line.event)).toEqual(['start', 'worker_replaced', 'drain_begun', 'drain_ended', 'exit']);
    for (const line of all) {
      expect(line.time).toMatch(RFC3339_MICROS);
      expect(line.pid).toBe(server.pid);
    }
    expect(all[0].url).toBe(`http://[::]:${server.port}`);
    expect(all[1].worker).toBe(1);
    expect(all[1].worker_pid).not.toBe(worker);
    expect(all[1].worker_pid).toBeGreaterThan(0);
    expect(all[2].delay_seconds).toBe(1);
    expect(all[4].status).toBe(1);
    expect(Date.parse(all[3].time as string) - Date.parse(all[2].time as string)).toBeGreaterThanOrEqual(900);
    expect(accessLines(server.stdout()).map((line) => line.path)).toEqual(['/health']);
    // The replacement's own exit was clean: only the killed worker is named on stderr.
    expect(server.stderr()).toBe(`asm-web-service: worker ${worker} killed by signal 9\n`);
  });

  it('the start event names the metrics URL when METRICS_PORT is a port of its own', async () => {
    const metricsPort = await freePort();
    const server = await startServer(arch, { env: { ...LOG, METRICS_PORT: String(metricsPort) } });
    expect(events(server.stdout())[0]).toMatchObject({
      event: 'start',
      url: `http://[::]:${server.port}`,
      metrics_url: `http://[::]:${metricsPort}/metrics`,
    });
  });

  it("stdout that cannot be opened again (another user's): a regular file is written as it is, a FIFO is refused by name", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'asm-web-service-log-'));
    const [file, args] = commandFor(arch);
    const asNobody = (stdout: number, port: number) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(file, args, { env: { PORT: String(port), DRAIN_SECONDS: '0', ...LOG }, stdio: ['ignore', stdout, 'pipe'], uid: 65534, gid: 65534 });
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
        setTimeout(() => child.kill('SIGTERM'), 1500 * slow);
      });
    try {
      const logFile = path.join(folder, 'root-owned.log');
      const fd = openSync(logFile, 'w', 0o600); // root's, and only root may open it
      const port = await freePort();
      const ran = await asNobody(fd, port);
      closeSync(fd);
      expect(ran.stderr).toBe('');
      const lines = linesOf(readFileSync(logFile, 'utf8'));
      expect(lines.map((line) => line.event)).toEqual(['start', 'drain_begun', 'drain_ended', 'exit']);
      expect(lines[0].url).toBe(`http://[::]:${port}`);

      const fifo = path.join(folder, 'root-owned.fifo');
      await execa('mkfifo', ['-m', '600', fifo]);
      const fifoFd = openSync(fifo, constants.O_RDWR);
      const refused = await asNobody(fifoFd, await freePort());
      closeSync(fifoFd);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe('asm-web-service: ACCESS_LOG=json cannot open stdout without blocking (/proc/self/fd/1)\n');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a pipe that is full from the start: the lines wait, and go out when it drains, with no other event to wake the server', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'asm-web-service-log-'));
    const fifo = path.join(folder, 'stdout');
    await execa('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const filler = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const stdout = openSync(fifo, constants.O_WRONLY);
    const drain = () => {
      const chunks: Buffer[] = [];
      for (;;) {
        const chunk = Buffer.alloc(65536);
        let got = 0;
        try {
          got = readSync(reader, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw error;
        }
        if (got === 0) break;
        chunks.push(chunk.subarray(0, got));
      }
      return Buffer.concat(chunks).toString('latin1');
    };
    const [file, args] = commandFor(arch);
    const port = await freePort();
    let child;
    try {
      for (;;) {
        try {
          writeSync(filler, `${'x'.repeat(4095)}\n`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw error;
        }
      }
      child = spawn(file, args, { env: { PORT: String(port), DRAIN_SECONDS: '0', ...LOG }, stdio: ['ignore', stdout, 'ignore'] });
      const ready = () => roundTrip(port, request('GET', '/health', ['Connection: close']), 500).then(({ received }) => received.length > 0);
      expect(await eventually(ready, 10_000 * slow, 100)).toBe(true);
      await sleep(300 * slow);
      // One read takes the filler (a pipe holds 64 KiB): the server's lines were not in it, they waited.
      const filled = Buffer.alloc(65536);
      const got = readSync(reader, filled);
      expect(filled.subarray(0, got).toString('latin1')).not.toContain('{');
      // Now the pipe has room and nothing else happens: the server must write what waits on its own.
      let text = filled.subarray(0, got).toString('latin1');
      expect(await eventually(() => (text += drain()).includes('"path":"/health"'), 3000 * slow, 50)).toBe(true);
      const lines = text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);
      expect(lines[0]).toMatchObject({ event: 'start', url: `http://[::]:${port}` });
    } finally {
      child?.kill('SIGKILL');
      for (const fd of [reader, filler, stdout]) closeSync(fd);
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('requests pipelined behind a response the client is slow to read are counted and logged once each', async () => {
    // A client with a 4 KiB receive buffer sends them all, then reads slowly: the server's writes stop part-way,
    // and what follows the response in flight is answered later (python3: node cannot set SO_RCVBUF).
    const server = await startServer(arch, { env: LOG });
    const pipelined = 3000;
    const client = [
      'import socket, sys, time',
      's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
      `s.connect(("127.0.0.1", ${server.port}))`,
      `s.sendall(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n" * ${pipelined - 1} + b"GET / HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n")`,
      'time.sleep(0.5); data = b""',
      'while True:',
      '    chunk = s.recv(65536)',
      '    if not chunk: break',
      '    data += chunk; time.sleep(0.001)',
      'print(data.count(b"HTTP/1.1 200 OK"))',
    ].join('\n');
    const { stdout } = await execa('python3', ['-c', client], { timeout: 60_000 * slow });
    expect(Number(stdout.trim())).toBe(pipelined);
    // Lines once they hold still (a line that found the buffer full is counted as dropped instead).
    await steadyValue(() => accessLines(server.stdout()).length, 10_000 * slow, 300);
    const lines = accessLines(server.stdout());
    expect(lines.every((line) => line.path === '/' && line.status === 200)).toBe(true);
    const scrape = (await roundTrip(server.port, request('GET', '/metrics', ['Connection: close']), patience)).received.toString();
    expect(scrape).toContain(`asm_web_service_http_requests_total{route="/",code="200"} ${pipelined}\n`);
    const dropped = Number(/^asm_web_service_access_log_dropped_lines_total (\d+)$/m.exec(scrape)?.[1]);
    expect(lines.length + dropped).toBe(pipelined);
  });

  it('stdout that is a pipe (reopened non-blocking) which stops being read: serving goes on, lines wait or are dropped and counted, none is torn', async () => {
    // A FIFO opened read-write by the shell, so that nobody reads it until the test does: the server's stdout
    // is a real pipe (the container runtime's case), not the socket node gives a child.
    const folder = mkdtempSync(path.join(tmpdir(), 'asm-web-service-log-'));
    const fifo = path.join(folder, 'stdout');
    const port = await freePort();
    const [file, args] = commandFor(arch);
    const child = spawn('bash', ['-c', `mkfifo "$1" && exec 1<>"$1" && shift && exec "$@"`, 'bash', fifo, file, ...args], {
      env: { PORT: String(port), ...LOG },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      // Ready once it answers (its start line sits unread in the FIFO). The probes ask for /ready, the test's
      // requests for /health, the last one for /flush: only /health lines are counted.
      const ready = () => roundTrip(port, request('GET', '/ready', ['Connection: close']), 500).then(({ received }) => received.length > 0);
      expect(await eventually(ready, 10_000 * slow, 100)).toBe(true);
      // Far more lines than the pipe (64 KiB) and the server's buffer (64 KiB) hold: about 200 bytes each.
      const keepAlive = await RawConnection.open(port, { allowHalfOpen: true });
      const total = 2000;
      const batch = 50;
      for (let sentSoFar = 0; sentSoFar < total; sentSoFar += batch) {
        const before = keepAlive.received().length;
        await keepAlive.write(request('GET', '/health').repeat(batch));
        await eventually(() => keepAlive.received().length - before >= batch * 160, patience * 2, 5);
      }
      const served = keepAlive.received().toString('latin1').match(/HTTP\/1\.1 200 OK/g)?.length;
      expect(served).toBe(total);
      keepAlive.destroy();
      expect(processAlive(child.pid!)).toBe(true);
      // Now the test reads the FIFO: what waited comes out, whole lines only.
      const reader = createReadStream(fifo);
      let text = '';
      reader.on('data', (chunk) => (text += chunk.toString()));
      const ended = new Promise<void>((resolve) => reader.on('close', () => resolve()));
      await sleep(300 * slow);
      await roundTrip(port, request('GET', '/flush', ['Connection: close']), patience); // a batch: the rest goes
      await eventually(() => text.includes('"path":"/flush"'), patience);
      const scrape = await roundTrip(port, request('GET', '/metrics', ['Connection: close']), patience);
      const dropped = Number(/asm_web_service_access_log_dropped_lines_total (\d+)/.exec(scrape.received.toString())?.[1]);
      await eventually(() => text.includes('"path":"/metrics"'), patience);
      process.kill(-child.pid!, 'SIGKILL');
      await ended;
      const lines = linesOf(text);
      const healthLines = lines.filter((line) => line.path === '/health').length;
      console.log(`${arch}: ${total} responses while stdout was not read: ${healthLines} lines written, ${dropped} dropped and counted`);
      expect(dropped).toBeGreaterThan(0);
      expect(healthLines).toBeGreaterThan(0);
      // Every response is a line written or a line counted as dropped.
      expect(healthLines + dropped).toBe(total);
      expect(lines[0].event).toBe('start');
      expect(stderr).toBe('');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
