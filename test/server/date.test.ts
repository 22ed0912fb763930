// The Date header (RFC 9110 §6.6.1, docs/server.md): every response carries exactly one, after its own headers
// and before Content-Type, with the server's current time (refreshed every 250 ms tick, so at most that behind);
// and format_date itself, assembled into a tiny driver per architecture (test/server/date/), against JavaScript's
// Date for edge cases and 100,000 seeded random seconds.
import { execa } from 'execa';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../support/fuzz.js';
import {
  connectionsPerTest,
  checkDate,
  exchange,
  golden,
  headOfSize,
  parseResponses,
  request,
  show,
  sleep,
  type ParsedResponse,
} from '../support/http.js';
import { archs, builtPage, qemuAarch64, repoRoot, slowdown, startServer, stopAllServers, type Arch, type ServerHandle } from '../support/server.js';

/**
 * How far behind the test's clock a Date may be when the request was sent: the Date is the whole second of the
 * last 250 ms tick (up to 1.25 s behind), plus scheduling slack (more under emulation), and never more than 2 s.
 */
function lagMs(arch: Arch): number {
  return Math.min(2000, 1250 + 500 * slowdown(arch));
}

/** The header names of golden `name` in order (Date among them). */
function goldenNames(name: string, options: { arch?: Arch; close?: boolean }): string[] {
  return parseResponses(golden(name, options), () => 'unknown').responses[0].headers.map(([header]) => header);
}

/** When a Date may be: not before `sentAt` less `lagMs`, not after `receivedAt` (a Date is a whole second). */
interface DateWindow {
  sentAt: number;
  receivedAt: number;
  lagMs: number;
}

/** A response's one Date header, a valid IMF-fixdate within `window`; returns its time in ms since the epoch. */
function dateOf(response: ParsedResponse, window: DateWindow, what: string): number {
  const dates = response.headers.filter(([name]) => name.toLowerCase() === 'date');
  expect(dates.length, `${what}: Date headers in ${JSON.stringify(response.headers.map(([name]) => name))}`).toBe(1);
  const value = dates[0][1];
  const time = checkDate(value, window.receivedAt);
  expect(time, `${what}: Date ${value} is ${window.sentAt - time} ms before the request`).toBeGreaterThanOrEqual(window.sentAt - window.lagMs);
  expect(time, `${what}: Date ${value} is after the answer arrived (${new Date(window.receivedAt).toISOString()})`).toBeLessThanOrEqual(window.receivedAt);
  return time;
}

/**
 * Checks a response's Date header where the golden has it: spelled `Date`, right before Content-Type and after the
 * golden's own headers (the header names equal the golden's); then dateOf. Returns its time in ms since the epoch.
 */
function expectDate(
  response: ParsedResponse | undefined,
  expected: { name: string; options?: { arch?: Arch; close?: boolean } },
  window: DateWindow,
  what: string,
): number {
  expect(response, `${what}: no response`).toBeDefined();
  const names = response!.headers.map(([name]) => name);
  const at = names.indexOf('Date');
  expect(at, `${what}: the header is spelled "Date"`).toBeGreaterThan(0);
  expect(names[at + 1], `${what}: Content-Type follows Date`).toBe('Content-Type');
  expect(names, `${what}: header order`).toEqual(goldenNames(expected.name, expected.options ?? {}));
  return dateOf(response!, window, what);
}

/** The Date values of a stream of responses, in ms, each checked by dateOf. */
function datesOf(responses: ParsedResponse[], sentAt: number, receivedAt: number, lag: number): number[] {
  return responses.map((response, index) => dateOf(response, { sentAt, receivedAt, lagMs: lag }, `response ${index}`));
}

function expectNonDecreasing(times: number[], what: string) {
  const backwards = times.findIndex((time, index) => index > 0 && time < times[index - 1]);
  expect(backwards, `${what}: Date went back at response ${backwards}: ${new Date(times[backwards - 1]).toUTCString()} then ${new Date(times[backwards]).toUTCString()}`).toBe(-1);
}

describe.each(archs)('%s: the Date header', (arch) => {
  let server: ServerHandle;
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  const lag = lagMs(arch);

  beforeAll(async () => {
    server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '30' } });
  });
  const open = connectionsPerTest();
  afterAll(stopAllServers);

  /** [what, request, golden, close variant, answers HEAD, the server closes after it] */
  const kinds: [string, string, string, boolean, boolean, boolean][] = [
    ['GET /', request('GET', '/'), 'page-head', false, false, false],
    ['HEAD /', request('HEAD', '/'), 'page-head', false, true, false],
    ['GET / with Connection: close', request('GET', '/', ['Connection: close']), 'page-head', true, false, true],
    ['GET /health', request('GET', '/health'), 'health', false, false, false],
    ['HEAD /health', request('HEAD', '/health'), 'health-head', false, true, false],
    ['GET /health with Connection: close', request('GET', '/health', ['Connection: close']), 'health', true, false, true],
    ['404', request('GET', '/nope'), '404', false, false, false],
    ['404 to HEAD', request('HEAD', '/nope'), '404-head', false, true, false],
    ['404 with Connection: close', request('GET', '/nope', ['Connection: close']), '404', true, false, true],
    ['405', request('POST', '/'), '405', false, false, false],
    ['405 with Connection: close', request('DELETE', '/health', ['Connection: close']), '405', true, false, true],
    ['400', 'GET / HTTP/1.1\r\n\r\n', '400', false, false, true],
    ['431', headOfSize(8193, '/health'), '431', false, false, true],
    ['501', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', '501', false, false, true],
    ['505', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', '505', false, false, true],
  ];

  it.each(kinds)('%s: one Date, after the own headers and before Content-Type, the current time', async (what, bytes, name, close, isHead, closes) => {
    const sentAt = Date.now();
    const result = await exchange(server.port, bytes, { responses: 1, untilEnd: closes, timeoutMs: patience, isHead: () => isHead });
    const receivedAt = Date.now();
    const options = { arch, close };
    expectDate(result.responses[0], { name, options }, { sentAt, receivedAt, lagMs: lag }, what);
    const expected = name === 'page-head' && !isHead ? Buffer.concat([golden(name, options), builtPage(arch)]) : golden(name, options);
    expect(show(result.bytes)).toBe(show(expected));
  });

  it('408: the Date of when the head timed out', async () => {
    const timing = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '1', KEEPALIVE_SECONDS: '10' } });
    const connection = await open(timing.port);
    const sentAt = Date.now();
    await connection.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    expect(await connection.waitForEnd(5000 * slow)).toBe('fin');
    const receivedAt = Date.now();
    const [response] = parseResponses(connection.received()).responses;
    const time = expectDate(response, { name: '408' }, { sentAt, receivedAt, lagMs: lag }, '408');
    // Made a second after the head started, not when the connection opened.
    expect(time).toBeGreaterThanOrEqual(sentAt + 1000 - lag);
    expect(show(connection.received())).toBe(show(golden('408')));
  });

  it('503 and the close variants while draining carry the Date too', async () => {
    const draining = await startServer(arch, { env: { DRAIN_SECONDS: '3' } });
    draining.signal('SIGTERM');
    await sleep(150);
    const cases: [string, string, string, boolean, boolean][] = [
      ['503', request('GET', '/health'), '503', false, false],
      ['503 to HEAD', request('HEAD', '/health'), '503', false, true],
      ['404 while draining', request('GET', '/nope'), '404', true, false],
      ['the page while draining', request('GET', '/'), 'page-head', true, false],
    ];
    for (const [what, bytes, name, close, isHead] of cases) {
      const sentAt = Date.now();
      const result = await exchange(draining.port, bytes, { responses: 1, untilEnd: true, timeoutMs: patience, isHead: () => isHead });
      const receivedAt = Date.now();
      expectDate(result.responses[0], { name, options: { arch, close } }, { sentAt, receivedAt, lagMs: lag }, what);
    }
  });

  it('two requests 1.5 s apart on one keep-alive connection get different, increasing Dates', async () => {
    // 1.5 s rather than just over 1 s: each Date may be up to one 250 ms tick behind (plus scheduling).
    const connection = await open(server.port);
    const times: number[] = [];
    for (let i = 1; i <= 2; i++) {
      if (i > 1) await sleep(1500);
      const sentAt = Date.now();
      await connection.write(request('GET', '/health'));
      const responses = await connection.waitForResponses(i, patience);
      times.push(expectDate(responses[i - 1], { name: 'health' }, { sentAt, receivedAt: Date.now(), lagMs: lag }, `request ${i}`));
    }
    expect(times[1]).toBeGreaterThan(times[0]);
    expect(times[1] - times[0]).toBeLessThanOrEqual(1500 + lag + 1000);
    expect(connection.ending).toBe('open');
  });

  it('stays current: a request every 100 ms for 2.5 s, each Date at most a tick behind, never going back', async () => {
    const connection = await open(server.port);
    const times: number[] = [];
    const lags: number[] = [];
    for (let i = 1; i <= 25; i++) {
      const sentAt = Date.now();
      await connection.write(request('GET', '/health'));
      const responses = await connection.waitForResponses(i, patience);
      const time = expectDate(responses[i - 1], { name: 'health' }, { sentAt, receivedAt: Date.now(), lagMs: lag }, `request ${i}`);
      times.push(time);
      lags.push(sentAt - time);
      await sleep(100);
    }
    console.log(`${arch}: Date behind the test's clock at the request: ${Math.min(...lags)}-${Math.max(...lags)} ms (a whole second plus at most a 250 ms tick)`);
    expectNonDecreasing(times, 'one connection');
    expect(new Set(times).size).toBeGreaterThanOrEqual(2);
  });

  it('pipelined answers (one writev each 16) all carry a valid Date, never going back', async () => {
    const sentAt = Date.now();
    const result = await exchange(server.port, request('GET', '/health').repeat(40) + request('HEAD', '/').repeat(8), {
      responses: 48,
      timeoutMs: patience,
      isHead: (index) => index >= 40,
    });
    const receivedAt = Date.now();
    expect(result.responses.length).toBe(48);
    expectNonDecreasing(datesOf(result.responses, sentAt, receivedAt, lag), 'pipelined');
    const expected = [...Array.from({ length: 40 }, () => golden('health')), ...Array.from({ length: 8 }, () => golden('page-head', { arch }))];
    expect(show(result.bytes)).toBe(show(Buffer.concat(expected)));
  });

  it('answers written across pauses of a slow reader (partial writes) keep well-formed Dates that never go back', async () => {
    // ~14 MB of HEAD /health answers, more than the socket buffers hold: the server's writes stop part-way in a
    // response, and each pause is longer than a second, so the rest is written under a later Date (docs/server.md:
    // the response keeps the Date it started with).
    const count = 100_000;
    const expectedLength = count * golden('health-head').length;
    const connection = await open(server.port);
    connection.socket.pause();
    const sentAt = Date.now();
    void connection.write(request('HEAD', '/health').repeat(count));
    const arrived = await connection.readInBursts({ pauseMs: 1300, bursts: 3, timeoutMs: 30_000 * slow });
    await connection.waitFor(() => connection.receivedLength >= expectedLength, 30_000 * slow);
    const receivedAt = Date.now();
    const { responses, rest } = parseResponses(connection.received(), () => true);
    expect({ responses: responses.length, rest: rest.length }).toEqual({ responses: count, rest: 0 });
    const times = datesOf(responses, sentAt, receivedAt, lag);
    expectNonDecreasing(times, 'slow reader');
    const distinct = [...new Set(times)];
    console.log(
      `${arch}: ${count} answers to a slow reader carry ${distinct.length} distinct Dates over ${((receivedAt - sentAt) / 1000).toFixed(1)} s; ` +
        `bytes read by each pause's end: ${arrived.join(', ')} of ${expectedLength}`,
    );
    expect(distinct.length).toBeGreaterThanOrEqual(3);
    expect(show(connection.received())).toBe(show(Buffer.concat(Array.from({ length: count }, () => golden('health-head')))));
    expect(connection.ending).toBe('open');
  });
});

// format_date, assembled alone into a driver program: u32 little-endian seconds in, one IMF-fixdate per line out.

const driverDir = path.join(repoRoot, 'build', 'test-date');

/** Assembles and links test/server/date/driver-<arch> into build/test-date/ (asm/assemble.sh, as the server is
 * built); returns the command to run it. */
async function buildDriver(arch: Arch): Promise<[string, string[]]> {
  mkdirSync(driverDir, { recursive: true });
  const name = arch === 'amd64' ? 'driver-x86_64' : 'driver-arm64';
  const source = path.join('test', 'server', 'date', arch === 'amd64' ? `${name}.asm` : `${name}.s`);
  if (!existsSync(path.join(repoRoot, source))) throw new Error(`${source} is missing: the format_date driver for ${arch}`);
  const binary = path.join(driverDir, name);
  const result = await execa('sh', ['asm/assemble.sh', arch, source, binary], { cwd: repoRoot, reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`asm/assemble.sh ${arch} ${source} failed (${result.exitCode}):\n${result.all}`);
  return arch === 'amd64' ? [binary, []] : [qemuAarch64, [binary]];
}

const utc = (year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0) =>
  Date.UTC(year, month - 1, day, hours, minutes, seconds) / 1000;

/** The seconds the driver is asked about: every edge we could think of, then `random` seeded random u32 values. */
function secondsToCheck(random: number, seed: number): number[] {
  const edges = [
    0, 1, 59, 60, 3599, 3600, 86399, 86400, 86401, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 86400, 2 ** 32 - 1,
    // A week of days from the epoch (a Thursday): every day name.
    ...Array.from({ length: 14 }, (_, day) => day * 86400 + 43200),
    // Leap days: 2000 (divisible by 400) and 2004 are leap years; 2100 is not; 1972 and 2104 are.
    utc(1972, 2, 29), utc(1972, 3, 1) - 1, utc(2000, 2, 28, 23, 59, 59), utc(2000, 2, 29), utc(2000, 2, 29, 23, 59, 59), utc(2000, 3, 1),
    utc(2004, 2, 29), utc(2004, 2, 29, 12, 34, 56), utc(2004, 3, 1), utc(2100, 2, 28), utc(2100, 2, 28, 23, 59, 59),
    utc(2100, 3, 1), utc(2104, 2, 29, 23, 59, 59), utc(2104, 3, 1), utc(2001, 2, 28, 23, 59, 59), utc(2001, 3, 1),
    utc(1994, 11, 6, 8, 49, 37), // the RFC's example
    utc(2105, 12, 31, 23, 59, 59), utc(2106, 1, 1), utc(2106, 2, 7),
  ];
  // Every year boundary, and every month boundary of a leap and a common year and of 2100.
  for (let year = 1970; year <= 2106; year++) edges.push(utc(year, 1, 1), utc(year, 1, 1) - 1, utc(year, 12, 31, 23, 59, 59));
  for (const year of [2023, 2024, 2100]) for (let month = 1; month <= 12; month++) edges.push(utc(year, month, 1), utc(year, month, 1) - 1);
  const inRange = edges.filter((s) => s >= 0 && s <= 2 ** 32 - 1);
  const next = prng(seed);
  return [...inRange, ...Array.from({ length: random }, () => Math.floor(next() * 2 ** 32))];
}

function encode(seconds: number[]): Buffer {
  const input = Buffer.alloc(seconds.length * 4);
  seconds.forEach((s, index) => input.writeUInt32LE(s, index * 4));
  return input;
}

/** Compares the driver's lines with toUTCString; returns the first few differences, described. */
function differences(seconds: number[], output: string): string[] {
  const lines = output.split('\n');
  const problems: string[] = [];
  if (lines.pop() !== '') problems.push(`the output does not end in a newline: ${JSON.stringify(output.slice(-40))}`);
  if (lines.length !== seconds.length) problems.push(`${lines.length} lines for ${seconds.length} values`);
  for (let index = 0; index < seconds.length && problems.length < 10; index++) {
    const expected = new Date(seconds[index] * 1000).toUTCString();
    if (lines[index] !== expected) problems.push(`${seconds[index]}: got ${JSON.stringify(lines[index])}, expected ${JSON.stringify(expected)}`);
  }
  return problems;
}

describe.each(archs)('%s: format_date (test/server/date/ driver)', (arch) => {
  let command: [string, string[]];
  beforeAll(async () => {
    command = await buildDriver(arch);
  });

  it('formats every edge case and 100,000 seeded random seconds exactly as JavaScript does', { timeout: 120_000 }, async () => {
    const seed = process.env.DATE_SEED ? Number(process.env.DATE_SEED) : 20261128;
    const seconds = secondsToCheck(100_000, seed);
    const result = await execa(command[0], command[1], { input: encode(seconds), reject: false, stripFinalNewline: false, timeout: 60_000 * slowdown(arch) });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const problems = differences(seconds, String(result.stdout));
    expect(problems, `seed ${seed} (DATE_SEED replays):\n${problems.join('\n')}`).toEqual([]);
  });

  it('reads its input in pieces of any size (short reads) and exits 0 at the end; no input, no output', async () => {
    const seconds = secondsToCheck(3000, 7);
    const input = encode(seconds);
    const child = execa(command[0], command[1], { stdin: 'pipe', reject: false, stripFinalNewline: false, timeout: 30_000 * slowdown(arch) });
    // Pieces of 1-9 bytes, so reads end mid-value; a pause now and then lets the driver read what is there.
    let at = 0;
    for (let piece = 0; at < input.length; piece++) {
      const size = 1 + (piece % 9);
      child.stdin!.write(input.subarray(at, at + size));
      at += size;
      if (piece % 200 === 0) await sleep(2);
    }
    child.stdin!.end();
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(differences(seconds, String(result.stdout))).toEqual([]);

    const empty = await execa(command[0], command[1], { input: Buffer.alloc(0), reject: false, stripFinalNewline: false });
    expect({ exitCode: empty.exitCode, stdout: empty.stdout }).toEqual({ exitCode: 0, stdout: '' });
  });
});
