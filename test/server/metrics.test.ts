// GET /metrics (docs/server.md, "Metrics"): Prometheus text format 0.0.4, checked by promtool (Prometheus' own
// checker, not ours), with counters that every worker shares: each value is compared with the traffic the test
// sent, whichever worker answers the scrape.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, header, headOfSize, request, show, sleep } from '../support/http.js';
import {
  archs,
  binarySize,
  eventually,
  freePort,
  processAlive,
  repoRoot,
  runBinary,
  slowdown,
  startServer,
  steadyValue,
  stopAllServers,
} from '../support/server.js';

const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const PREFIX = 'asm_web_service_';

/** Where scripts/prometheus.sh unpacked Debian's prometheus (promtool with it). */
let prometheusBin = '';

/** One sample line's value by its name and labels as written, e.g. `http_requests_total{route="/",code="200"}`. */
type Samples = Map<string, number>;

/** The samples of an exposition (comment lines skipped); every sample line is `name[{labels}] value`. */
function samplesOf(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = match[1].startsWith(PREFIX) ? match[1].slice(PREFIX.length) : match[1];
    expect(samples.has(name), `${name} twice`).toBe(false);
    samples.set(name, Number(match[2]));
  }
  return samples;
}

const requests = (route: string, code: number) => `http_requests_total{route="${route}",code="${code}"}`;

/** GET /metrics on a fresh connection: the parsed response. */
async function scrape(port: number, timeoutMs: number) {
  const answer = await exchange(port, request('GET', '/metrics'), { responses: 1, timeoutMs });
  expect(answer.responses).toHaveLength(1);
  return answer.responses[0];
}

/** promtool check metrics on an exposition: its output (empty when there is nothing to say). */
async function promtoolCheck(text: string): Promise<{ exitCode: number | undefined; output: string }> {
  const result = await execa(path.join(prometheusBin, 'promtool'), ['check', 'metrics'], { input: text, reject: false, all: true });
  return { exitCode: result.exitCode, output: result.all ?? '' };
}

beforeAll(async () => {
  const { stdout } = await execa('bash', [path.join(repoRoot, 'scripts/prometheus.sh')]);
  prometheusBin = stdout.trim();
}, 300_000);

describe.each(archs)('%s: metrics', (arch) => {
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  afterAll(stopAllServers);

  it('GET /metrics: 200, the exposition format 0.0.4 that promtool accepts, HEAD gets the same head, other methods 405', async () => {
    const server = await startServer(arch);
    const response = await scrape(server.port, patience);
    expect(response.status).toBe(200);
    expect(response.headers.map(([name]) => name)).toEqual(['Content-Length', 'Cache-Control', 'Date', 'Content-Type', 'Connection']);
    expect(header(response, 'Content-Type')).toBe(METRICS_TYPE);
    expect(header(response, 'Cache-Control')).toBe('no-store');
    expect(header(response, 'Connection')).toBe('keep-alive');
    expect(Number(header(response, 'Content-Length'))).toBe(response.body.length);
    const text = response.body.toString('utf8');
    const check = await promtoolCheck(text);
    expect(check.output).toBe('');
    expect(check.exitCode).toBe(0);
    // Every family has HELP and TYPE; counters end in _total.
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      expect(text).toContain(`# HELP ${name} `);
      expect(type === 'counter').toBe(name.endsWith('_total'));
    }

    const head = await exchange(server.port, request('HEAD', '/metrics'), { responses: 1, timeoutMs: patience, isHead: () => true });
    expect(head.responses[0].status).toBe(200);
    expect(head.responses[0].hasBody).toBe(false);
    expect(head.bytes.length).toBe(head.responses[0].head.length);
    // Its Content-Length is the length of the body a GET would have had: the GET right after it has one more
    // /metrics request and more bytes written, with the same number of digits.
    const pair = await exchange(server.port, request('HEAD', '/metrics') + request('GET', '/metrics'), {
      responses: 2,
      timeoutMs: patience,
      isHead: (index) => index === 0,
    });
    expect(header(pair.responses[0], 'Content-Length')).toBe(String(pair.responses[1].body.length));

    for (const method of ['POST', 'DELETE', 'get']) {
      const refused = await exchange(server.port, request(method, '/metrics'), { responses: 1, timeoutMs: patience });
      expect(show(refused.bytes)).toBe(show(golden('405')));
    }
    // Only the path: a query is fine, /metrics/ and /Metrics are other paths.
    expect((await exchange(server.port, request('GET', '/metrics?name[]=x'), { responses: 1, timeoutMs: patience })).responses[0].status).toBe(200);
    for (const other of ['/metrics/', '/Metrics', '/metricsx']) {
      const answer = await exchange(server.port, request('GET', other), { responses: 1, timeoutMs: patience });
      expect(show(answer.bytes)).toBe(show(golden('404')));
    }
  });

  it('counts every request by route and status, malformed ones by status, the bytes written and the connections', async () => {
    const server = await startServer(arch);
    const traffic: [string | Buffer, number][] = [
      [request('GET', '/'), 3],
      [request('GET', '/health'), 2],
      [request('HEAD', '/health'), 1],
      [request('GET', '/nope'), 4],
      [request('POST', '/'), 1],
      [request('GET', 'http://example.com/health'), 1],
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 2], // 400
      [request('GET', '/', ['Transfer-Encoding: chunked']), 1], // 501
      [request('GET', '/', [], 'HTTP/2.0'), 1], // 505
      [headOfSize(9000), 1], // 431
    ];
    let bytesReceived = 0;
    let connections = 0;
    for (const [sent, times] of traffic) {
      for (let i = 0; i < times; i++) {
        const isHead = typeof sent === 'string' && sent.startsWith('HEAD');
        const answer = await exchange(server.port, sent, { responses: 1, timeoutMs: patience, isHead: () => isHead });
        expect(answer.responses).toHaveLength(1);
        bytesReceived += answer.bytes.length;
        connections++;
      }
    }
    // Every one of those connections has closed (the client's end closes a keep-alive one, a lingering one closes
    // within 2 s): then the only open connection is the scrape's own.
    let samples: Samples = new Map();
    let scrapes = 0;
    expect(
      await eventually(async () => {
        const response = await scrape(server.port, patience);
        scrapes++;
        samples = samplesOf(response.body.toString('utf8'));
        return samples.get('connections_open') === 1;
      }, 5000 * slow, 100),
    ).toBe(true);
    expect(samples.get(requests('/', 200))).toBe(3);
    expect(samples.get(requests('/health', 200))).toBe(4); // GET, HEAD and the absolute-form one
    expect(samples.get(requests('other', 404))).toBe(4);
    expect(samples.get(requests('/', 405))).toBe(1);
    expect(samples.get(requests('/', 400))).toBe(2);
    expect(samples.get(requests('/', 501))).toBe(1);
    expect(samples.get(requests('/', 505))).toBe(1);
    expect(samples.get(requests('/', 431))).toBe(1); // its request line was complete: the route is known
    expect(samples.get(requests('/metrics', 200))).toBe(scrapes); // counted before it is made: the last one too
    for (const [code, count] of [[400, 2], [431, 1], [501, 1], [505, 1]]) {
      expect(samples.get(`http_malformed_requests_total{code="${code}"}`)).toBe(count);
    }
    expect(samples.get('connections_accepted_total')).toBe(connections + scrapes);
    expect(samples.get('connections_shed_total')).toBe(0);
    // The bytes of every answer above and of the scrapes before the last (whose own bytes are counted once sent).
    const last = await scrape(server.port, patience);
    const lastSamples = samplesOf(last.body.toString('utf8'));
    expect(lastSamples.get('http_response_bytes_total')).toBeGreaterThan(bytesReceived);
    const scrapeBytes = lastSamples.get('http_response_bytes_total')! - bytesReceived;
    // The earlier scrapes' responses are each a little over 2 KB.
    expect(scrapeBytes).toBeGreaterThan(2000 * scrapes);
    expect(scrapeBytes).toBeLessThan(4000 * scrapes);
    const statuses = [...lastSamples.keys()].filter((name) => name.startsWith('http_requests_total')).length;
    expect(statuses).toBe(9); // the 4 always there, and 405, 400, 501, 505 and 431 of "/"
  });

  it('pipelined scrapes are made one at a time, each with the requests answered before it', async () => {
    const server = await startServer(arch);
    const pipeline = [request('GET', '/metrics'), request('GET', '/health'), request('HEAD', '/metrics'), request('GET', '/metrics')].join('');
    const answer = await exchange(server.port, pipeline, { responses: 4, timeoutMs: patience, isHead: (index) => index === 2 });
    expect(answer.responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    const first = samplesOf(answer.responses[0].body.toString('utf8'));
    const last = samplesOf(answer.responses[3].body.toString('utf8'));
    expect(first.get(requests('/health', 200))).toBe(0);
    expect(first.get(requests('/metrics', 200))).toBe(1);
    expect(last.get(requests('/health', 200))).toBe(1);
    expect(last.get(requests('/metrics', 200))).toBe(3);
    // HEAD's length is the body a GET would have had then: as long as the next one's (the same digits).
    expect(header(answer.responses[2], 'Content-Length')).toBe(String(answer.responses[3].body.length));
  });

  it('timeouts by kind: keep-alive idle, head (408), body and write', async () => {
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1', HEADER_TIMEOUT_SECONDS: '1' } });
    const idle = await RawConnection.open(server.port);
    const head = await RawConnection.open(server.port);
    await head.write('GET / HTTP/1.1\r\nHo');
    const body = await RawConnection.open(server.port);
    await body.write(request('GET', '/health', ['Content-Length: 10']) + 'ab');
    const reader = await RawConnection.open(server.port);
    reader.socket.pause();
    void reader.write(request('GET', '/').repeat(6000));
    const connections = [idle, head, body, reader];
    try {
      // (The paused reader sees nothing; the server's counters say when all four timers fired.)
      let samples: Samples = new Map();
      const kinds = ['keepalive', 'head', 'body', 'write'].map((kind) => `timeouts_total{kind="${kind}"}`);
      expect(
        await eventually(async () => {
          samples = samplesOf((await scrape(server.port, patience)).body.toString('utf8'));
          return kinds.every((kind) => samples.get(kind)! >= 1);
        }, 6000 * slow, 200),
      ).toBe(true);
      expect(samples.get('timeouts_total{kind="keepalive"}')).toBe(1);
      expect(samples.get('timeouts_total{kind="head"}')).toBe(1);
      expect(samples.get('timeouts_total{kind="body"}')).toBe(1);
      expect(samples.get('timeouts_total{kind="write"}')).toBe(1);
      expect(samples.get(requests('other', 408))).toBe(1);
    } finally {
      for (const connection of connections) connection.destroy();
    }
  });

  it('connections over MAX_CONNECTIONS are counted as shed', async () => {
    const server = await startServer(arch, { env: { MAX_CONNECTIONS: '2' } });
    const kept = [await RawConnection.open(server.port), await RawConnection.open(server.port)];
    await sleep(100 * slow);
    const shed = await exchange(server.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience });
    expect(shed.bytes.length).toBe(0);
    kept[0].destroy();
    let samples: Samples = new Map();
    expect(
      await eventually(async () => {
        const answer = await exchange(server.port, request('GET', '/metrics'), { responses: 1, timeoutMs: patience });
        if (answer.responses.length !== 1) return false;
        samples = samplesOf(answer.responses[0].body.toString('utf8'));
        return true;
      }, 3000 * slow, 100),
    ).toBe(true);
    expect(samples.get('connections_shed_total')).toBeGreaterThanOrEqual(1);
    expect(samples.get('connections_accepted_total')).toBe(samples.get('connections_shed_total')! + 3);
    expect(samples.get('connections_open')).toBe(2);
    kept[1].destroy();
  });

  it('build_info and process_start_time_seconds tell the build and the start', async () => {
    const before = Math.floor(Date.now() / 1000);
    const server = await startServer(arch);
    const text = (await scrape(server.port, patience)).body.toString('utf8');
    const version = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version;
    expect(text).toContain(
      `\n${PREFIX}build_info{version="${version}",arch="${arch}",binary_bytes="${binarySize(arch)}",image_bytes=""} 1\n`,
    );
    const started = samplesOf(text).get('process_start_time_seconds')!;
    expect(started).toBeGreaterThanOrEqual(before - 1);
    expect(started).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });

  it('WORKERS=3: every scrape answers for the whole server, and a replaced worker keeps the counts', async () => {
    const server = await startServer(arch, { env: { WORKERS: '3' } });
    expect(await eventually(() => server.workerPids().length === 2, 3000 * slow)).toBe(true);
    const count = 60;
    const answers = await Promise.all(
      Array.from({ length: count }, () => exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: patience })),
    );
    for (const answer of answers) expect(answer.responses[0]?.status).toBe(200);
    // Scrapes on fresh connections land on different workers (SO_REUSEPORT): each sees all 60.
    for (let i = 0; i < 6; i++) {
      const samples = samplesOf((await scrape(server.port, patience)).body.toString('utf8'));
      expect(samples.get(requests('/health', 200))).toBe(count);
      expect(samples.get(requests('/metrics', 200))).toBe(i + 1);
    }
    // Open connections, from every worker: 12 held open.
    const held = await Promise.all(Array.from({ length: 12 }, () => RawConnection.open(server.port)));
    try {
      await Promise.all(held.map((connection) => connection.write(request('GET', '/health'))));
      await Promise.all(held.map((connection) => connection.waitForResponses(1, patience)));
      const samples = samplesOf((await scrape(server.port, patience)).body.toString('utf8'));
      expect(samples.get('connections_open')).toBe(12 + 1);
      // A worker killed with its connections: the replacement starts at 0 open, the counters stay.
      const victim = server.workerPids().sort((a, b) => server.fdCount(b) - server.fdCount(a))[0]; // the busiest
      process.kill(victim, 'SIGKILL');
      expect(await eventually(() => !processAlive(victim) && server.workerPids().length === 2, 5000 * slow)).toBe(true);
      // The connections the victim held end at once in the kernel; the test sees their ends a little later, so
      // it counts them once the count holds still.
      const lost = await steadyValue(() => held.filter((connection) => connection.ending !== 'open').length, patience, 200, (n) => n > 0);
      expect(lost).toBeGreaterThan(0);
      const after = samplesOf((await scrape(server.port, patience)).body.toString('utf8'));
      expect(after.get(requests('/health', 200))).toBe(count + 12);
      // The first process zeroes a dead worker's open connections when it collects it.
      expect(after.get('connections_open')).toBe(12 - lost + 1);
    } finally {
      for (const connection of held) connection.destroy();
    }
  });

  describe('METRICS_PORT', () => {
    it('a port of its own: /metrics only there, the other routes on both, a second startup line', async () => {
      const metricsPort = await freePort();
      const server = await startServer(arch, { env: { METRICS_PORT: String(metricsPort), WORKERS: '2' } });
      await eventually(() => server.stdout().includes('/metrics\n'), patience);
      expect(server.stdout()).toBe(
        `asm-web-service: listening on http://[::]:${server.port}\nasm-web-service: metrics on http://[::]:${metricsPort}/metrics\n`,
      );
      const onMain = await exchange(server.port, request('GET', '/metrics'), { responses: 1, timeoutMs: patience });
      expect(show(onMain.bytes)).toBe(show(golden('404')));
      const health = await exchange(metricsPort, request('GET', '/health'), { responses: 1, timeoutMs: patience });
      expect(show(health.bytes)).toBe(show(golden('health')));
      const samples = samplesOf((await scrape(metricsPort, patience)).body.toString('utf8'));
      expect(samples.get(requests('other', 404))).toBe(1); // /metrics on PORT is just another path there
      expect(samples.get(requests('/health', 200))).toBe(1);
      expect(samples.get(requests('/metrics', 200))).toBe(1);
    });

    it('0 turns /metrics off (404)', async () => {
      const server = await startServer(arch, { env: { METRICS_PORT: '0' } });
      const answer = await exchange(server.port, request('GET', '/metrics'), { responses: 1, timeoutMs: patience });
      expect(show(answer.bytes)).toBe(show(golden('404')));
      expect(server.stdout()).toBe(`asm-web-service: listening on http://[::]:${server.port}\n`);
    });

    it('a METRICS_PORT in use, or out of range, ends the server with a message naming it', async () => {
      const blocker = await startServer(arch);
      const port = await freePort();
      const inUse = await runBinary(arch, [], { PORT: String(port), METRICS_PORT: String(blocker.port) });
      expect(inUse.stderr).toBe(`asm-web-service: metrics port ${blocker.port} is already in use\n`);
      expect(inUse.exitCode).toBe(1);
      for (const value of ['65536', '-1', 'x', '']) {
        const invalid = await runBinary(arch, [], { PORT: String(port), METRICS_PORT: value });
        expect(invalid.stderr).toBe('asm-web-service: invalid METRICS_PORT (expected 0-65535)\n');
        expect(invalid.exitCode).toBe(2);
      }
    });
  });
});
