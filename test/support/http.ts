// Raw-socket HTTP helpers for byte-exact tests: a connection that records every byte and how it ended,
// a strict parser for the server's responses, and the golden responses of test/server/golden/.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach } from 'vitest';
import { repoRoot, type Arch } from './server.js';

export const CRLF = '\r\n';

/** How a connection ended from our side's point of view. */
export type Ending = 'open' | 'fin' | 'reset';

/** A TCP connection to 127.0.0.1 that keeps everything it received and notes FIN, reset and close times. */
export class RawConnection {
  readonly socket: net.Socket;
  private chunks: Buffer[] = [];
  private total = 0;
  ending: Ending = 'open';
  endedAt = 0;
  closed = false;
  private waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.total += chunk.length;
      this.wake();
    });
    socket.on('end', () => {
      if (this.ending === 'open') {
        this.ending = 'fin';
        this.endedAt = performance.now();
      }
      this.wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // ECONNRESET (and EPIPE on our writes) mean the server reset the connection.
      if (this.ending === 'open' || error.code === 'ECONNRESET') {
        this.ending = 'reset';
        this.endedAt = performance.now();
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      if (this.ending === 'open') {
        this.ending = 'fin';
        this.endedAt = performance.now();
      }
      this.wake();
    });
  }

  static open(port: number, options: { allowHalfOpen?: boolean; host?: string } = {}): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: options.host ?? '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
      socket.setNoDelay(true);
      const connection = new RawConnection(socket);
      socket.once('connect', () => resolve(connection));
      socket.once('error', reject);
    });
  }

  private wake() {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves when condition() holds or the connection ended, or after timeoutMs; returns condition(). */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (condition() || this.closed || this.ending === 'reset') finish();
      };
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(condition());
      };
      this.waiters.add(check);
      check();
    });
  }

  received(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /**
   * Reads like a slow client, from a paused socket: every `pauseMs` it reads for `burstMs`, so the sender's
   * writes keep finding a full socket buffer; `bursts` times, or until `until()` holds or `timeoutMs` passes. Then
   * it reads on normally. Returns the bytes received by the end of each pause.
   */
  async readInBursts(options: { pauseMs: number; bursts?: number; until?: () => boolean; timeoutMs: number; burstMs?: number }): Promise<number[]> {
    const { pauseMs, bursts = Infinity, until = () => false, timeoutMs, burstMs = 5 } = options;
    const arrived: number[] = [];
    const started = performance.now();
    this.socket.pause();
    while (arrived.length < bursts && !until() && performance.now() - started < timeoutMs) {
      await sleep(pauseMs);
      arrived.push(this.total);
      this.socket.resume();
      await sleep(burstMs);
      this.socket.pause();
    }
    this.socket.resume();
    return arrived;
  }

  /**
   * Sends GET /health `count` times on this keep-alive connection, `pauseMs` apart, each after the answer to the
   * one before; returns each round trip in ms, sorted (the connection's earlier answers must all be in).
   */
  async timedHealthChecks(count: number, pauseMs: number, timeoutMs: number): Promise<number[]> {
    const before = parseResponses(this.received()).responses.length;
    const latencies: number[] = [];
    for (let i = 1; i <= count; i++) {
      const sentAt = performance.now();
      await this.write(request('GET', '/health'));
      await this.waitForResponses(before + i, timeoutMs);
      latencies.push(performance.now() - sentAt);
      await sleep(pauseMs);
    }
    return latencies.sort((a, b) => a - b);
  }

  get receivedLength(): number {
    return this.total;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  /** Sends the bytes one at a time, each in its own segment, with a pause between them. */
  async writeByteByByte(data: string | Buffer, pauseMs = 1): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (const byte of bytes) {
      await this.write(Buffer.from([byte]));
      await sleep(pauseMs);
    }
  }

  /** Waits until the received bytes parse as at least `count` complete responses. */
  async waitForResponses(count: number, timeoutMs: number, isHead: HeadRule = () => false): Promise<ParsedResponse[]> {
    await this.waitFor(() => tryParse(this.received(), isHead).responses.length >= count, timeoutMs);
    return tryParse(this.received(), isHead).responses;
  }

  /** Waits for the server to end the connection: 'fin', 'reset', or 'open' if it did not within timeoutMs. */
  async waitForEnd(timeoutMs: number): Promise<Ending> {
    await this.waitFor(() => this.ending !== 'open', timeoutMs);
    return this.ending;
  }

  end(): void {
    this.socket.end();
  }

  /** Aborts with a TCP reset (SO_LINGER 0), as a crashing or impatient client does. */
  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * An opener of raw connections (half-open allowed) for the tests of one describe block; every connection it opened
 * is destroyed after each test, so a failed test leaves none behind. Call it in the describe block's body.
 */
export function connectionsPerTest(): (port: number) => Promise<RawConnection> {
  const opened: RawConnection[] = [];
  afterEach(() => {
    for (const connection of opened.splice(0)) connection.destroy();
  });
  return async (port: number) => {
    const connection = await RawConnection.open(port, { allowHalfOpen: true });
    opened.push(connection);
    return connection;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ParsedResponse {
  status: number;
  reason: string;
  /** Header lines in order, as sent. */
  headers: [string, string][];
  /** The head through its empty line. */
  head: Buffer;
  body: Buffer;
  /** Whether a body followed the head (false for answers to HEAD). */
  hasBody: boolean;
  /** The whole response as sent. */
  raw: Buffer;
}

/** For response number i: true if it answers a HEAD (no body), false if not, 'unknown' to infer from the bytes. */
export type HeadRule = (index: number) => boolean | 'unknown';

export class MalformedResponse extends Error {}

const statusPrefix = Buffer.from('HTTP/1.1 ', 'latin1');

/**
 * Parses a byte stream of responses strictly: status line `HTTP/1.1 NNN Reason`, header lines `Name: value`,
 * all CRLF, Content-Length required. Returns the complete responses and the bytes left over (an incomplete
 * response, when more is still to come). Throws MalformedResponse on anything that is not a response.
 */
export function parseResponses(stream: Buffer, isHead: HeadRule = () => false): { responses: ParsedResponse[]; rest: Buffer } {
  const responses: ParsedResponse[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const prefixEnd = Math.min(stream.length, offset + statusPrefix.length);
    if (!stream.subarray(offset, prefixEnd).equals(statusPrefix.subarray(0, prefixEnd - offset))) {
      throw new MalformedResponse(`expected 'HTTP/1.1 ' at byte ${offset}, got ${JSON.stringify(stream.subarray(offset, offset + 40).toString('latin1'))}`);
    }
    const headEnd = stream.indexOf('\r\n\r\n', offset, 'latin1');
    if (headEnd < 0) {
      if (stream.length - offset > 16384) throw new MalformedResponse('response head without an end');
      break;
    }
    const head = stream.subarray(offset, headEnd + 4);
    const lines = head.toString('latin1').slice(0, -4).split('\r\n');
    const statusMatch = /^HTTP\/1\.1 ([1-5]\d\d) ([A-Za-z][A-Za-z -]*)$/.exec(lines[0]);
    if (!statusMatch) throw new MalformedResponse(`bad status line ${JSON.stringify(lines[0])}`);
    const headers: [string, string][] = [];
    for (const line of lines.slice(1)) {
      const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): ([\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)$/.exec(line);
      if (!match) throw new MalformedResponse(`bad header line ${JSON.stringify(line)}`);
      headers.push([match[1], match[2]]);
    }
    const lengthHeaders = headers.filter(([name]) => name.toLowerCase() === 'content-length');
    if (lengthHeaders.length !== 1 || !/^\d+$/.test(lengthHeaders[0][1])) {
      throw new MalformedResponse(`response needs exactly one numeric Content-Length: ${JSON.stringify(lines)}`);
    }
    const contentLength = Number(lengthHeaders[0][1]);
    const bodyStart = headEnd + 4;
    let hasBody: boolean;
    const rule = isHead(responses.length);
    if (rule === 'unknown') {
      // A body never starts like a response, so what follows the head tells whether there is one.
      const next = stream.subarray(bodyStart, bodyStart + statusPrefix.length);
      const nextIsResponse = statusPrefix.subarray(0, next.length).equals(next);
      hasBody = contentLength > 0 && next.length > 0 && !nextIsResponse;
    } else {
      hasBody = !rule;
    }
    const end = hasBody ? bodyStart + contentLength : bodyStart;
    if (end > stream.length) break;
    responses.push({
      status: Number(statusMatch[1]),
      reason: statusMatch[2],
      headers,
      head,
      body: stream.subarray(bodyStart, end),
      hasBody,
      raw: stream.subarray(offset, end),
    });
    offset = end;
  }
  return { responses, rest: stream.subarray(offset) };
}

/** parseResponses, but a malformed stream yields what parsed before the problem (for waiting loops). */
function tryParse(stream: Buffer, isHead: HeadRule) {
  try {
    return parseResponses(stream, isHead);
  } catch {
    return { responses: [] as ParsedResponse[], rest: stream };
  }
}

export function header(response: ParsedResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

const goldenDir = path.join(repoRoot, 'test', 'server', 'golden');

export function pageLength(arch: Arch): number {
  return Number(readFileSync(path.join(repoRoot, 'build', `linux-${arch}`, 'gen', 'page-length.txt'), 'utf8').trim());
}

/**
 * A golden response (test/server/golden/NAME.http) with its page length filled in and `{{date}}` replaced by
 * `sampleDate`; `close` turns `Connection: keep-alive` into `Connection: close`, the only difference the contract
 * allows. Compare received bytes with it only after normaliseDates() (show() does that).
 */
export function golden(name: string, options: { arch?: Arch; close?: boolean } = {}): Buffer {
  let text = readFileSync(path.join(goldenDir, `${name}.http`), 'latin1');
  if (text.split('\r\nDate: {{date}}\r\n').length !== 2) throw new Error(`golden ${name} needs exactly one Date: {{date}} line`);
  text = text.replace('{{date}}', sampleDate);
  if (text.includes('{{page_length}}')) {
    if (!options.arch) throw new Error(`golden ${name} needs an architecture for its page length`);
    text = text.replace('{{page_length}}', String(pageLength(options.arch)));
  }
  if (options.close) {
    if (!text.includes('\r\nConnection: keep-alive\r\n')) throw new Error(`golden ${name} has no keep-alive to close`);
    text = text.replace('\r\nConnection: keep-alive\r\n', '\r\nConnection: close\r\n');
  }
  return Buffer.from(text, 'latin1');
}

/**
 * The Date value golden() fills in for `{{date}}` and normaliseDates() puts in place of every valid Date the
 * server sent. It has the length of every IMF-fixdate (29), so lengths and offsets stay those of the wire, and it
 * is a second no server can send (before 1970, and the servers keep seconds as unsigned 32 bits), so the
 * normaliser can pass it through unchecked: it only ever comes from a golden.
 */
export const sampleDate = 'Wed, 31 Dec 1969 23:59:59 GMT';

/** The test's own clock where it started (ms since the epoch): no Date may be older than this, less 2 s. */
export const testStartedAt = performance.timeOrigin;

/** How far a Date may be outside [testStartedAt, now] before it counts as a wrong clock (ms). */
export const dateSlackMs = 2000;

/** A Date header value that is not a well-formed IMF-fixdate of the current time. */
export class BadDate extends Error {}

/** RFC 9110 §5.6.7 IMF-fixdate, exactly: `Sun, 06 Nov 1994 08:49:37 GMT`. */
export const imfFixdate =
  /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat), (0[1-9]|[12]\d|3[01]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d) GMT$/;

/**
 * Checks one Date header value: the IMF-fixdate grammar, a real calendar date with the right day name (Date.parse
 * of it gives it back through toUTCString), and the test's clock: not before testStartedAt - 2 s, not after
 * now + 2 s. Returns its time in ms since the epoch; throws BadDate naming the value otherwise.
 */
export function checkDate(value: string, now = Date.now()): number {
  if (!imfFixdate.test(value)) throw new BadDate(`Date ${JSON.stringify(value)} is not an IMF-fixdate (like "Sun, 06 Nov 1994 08:49:37 GMT")`);
  const time = Date.parse(value);
  if (!Number.isFinite(time) || new Date(time).toUTCString() !== value) {
    const actual = Number.isFinite(time) ? new Date(time).toUTCString() : 'no date at all';
    throw new BadDate(`Date ${JSON.stringify(value)} is not a real date with its day name (Date.parse reads ${JSON.stringify(actual)})`);
  }
  if (time < testStartedAt - dateSlackMs || time > now + dateSlackMs) {
    throw new BadDate(
      `Date ${JSON.stringify(value)} is not the current time: the test's clock ran from ${new Date(testStartedAt).toUTCString()} ` +
        `to ${new Date(now).toUTCString()} (${((time - now) / 1000).toFixed(1)} s from now; ${dateSlackMs / 1000} s allowed either side)`,
    );
  }
  return time;
}

const responseStart = Buffer.from('HTTP/1.1 ', 'latin1');
const dateField = Buffer.from('\r\nDate: ', 'latin1');

/**
 * Every Date header value in the response heads of `stream` (a run of responses as received, possibly cut short),
 * with its offset. It walks the stream response by response (Content-Length; a head followed by another response
 * or by the end has no body, as for HEAD), so bodies are never searched; it stops at anything that is not a
 * response, leaving the rest to the comparison. A Date value not followed by CRLF (cut short) is not listed.
 */
export function dateValues(stream: Buffer): { offset: number; value: string }[] {
  const found: { offset: number; value: string }[] = [];
  let offset = 0;
  while (offset < stream.length) {
    if (!stream.subarray(offset, offset + responseStart.length).equals(responseStart)) break;
    const headEnd = stream.indexOf('\r\n\r\n', offset, 'latin1');
    // The fields of the head: through the CRLF of its last line (or all that arrived of an unfinished head).
    const fieldsEnd = headEnd < 0 ? stream.length : headEnd + 2;
    const fields = stream.subarray(offset, fieldsEnd);
    for (let at = fields.indexOf(dateField); at >= 0; at = fields.indexOf(dateField, at + 2)) {
      const valueStart = at + dateField.length;
      const valueEnd = fields.indexOf('\r\n', valueStart, 'latin1');
      if (valueEnd < 0) break;
      found.push({ offset: offset + valueStart, value: fields.toString('latin1', valueStart, valueEnd) });
    }
    if (headEnd < 0) break;
    const length = /\r\nContent-Length: (\d+)\r\n/i.exec(stream.toString('latin1', offset, headEnd + 2));
    if (!length) break;
    const bodyStart = headEnd + 4;
    const next = stream.subarray(bodyStart, bodyStart + responseStart.length);
    const bodyless = next.length === 0 || responseStart.subarray(0, next.length).equals(next);
    offset = bodyless ? bodyStart : bodyStart + Number(length[1]);
  }
  return found;
}

/**
 * The received bytes with every Date header value checked (checkDate) and replaced by sampleDate, so they can be
 * compared byte for byte with golden responses. Values that already are sampleDate (the goldens' own) are left as
 * they are. Returns `stream` itself when it holds no Date value, else a copy; throws BadDate on a bad value.
 */
export function normaliseDates(stream: Buffer): Buffer {
  if (stream.indexOf(dateField) < 0) return stream;
  const values = dateValues(stream);
  if (values.length === 0) return stream;
  const copy = Buffer.from(stream);
  const now = Date.now();
  for (const { offset, value } of values) {
    if (value === sampleDate) continue;
    try {
      checkDate(value, now);
    } catch (error) {
      if (error instanceof BadDate) error.message += ` (at byte ${offset} of ${stream.length} received)`;
      throw error;
    }
    copy.write(sampleDate, offset, 'latin1');
  }
  return copy;
}

/**
 * Makes byte comparisons readable in assertion diffs (CR and LF shown, other controls escaped). It normalises
 * first (normaliseDates), so `expect(show(received)).toBe(show(golden(...)))` checks every Date value the server
 * sent and compares the rest byte for byte; a bad Date value throws BadDate, failing the test with that value.
 */
export function show(bytes: Buffer): string {
  return normaliseDates(bytes)
    .toString('latin1')
    .replace(/[\x00-\x1f\x7f-\xff]/g, (char) =>
      char === '\n' ? '\\n\n' : char === '\r' ? '\\r' : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
}

export interface ExchangeResult {
  bytes: Buffer;
  ending: Ending;
  responses: ParsedResponse[];
  /** ms from the last write to the server's FIN or reset (NaN if it stayed open). */
  closeAfterMs: number;
}

/**
 * Opens a connection, sends `request` and collects the answer until `responses` complete responses arrived
 * and, if `untilEnd`, until the server ends the connection (or timeoutMs passes).
 */
export async function exchange(
  port: number,
  request: string | Buffer,
  options: { responses?: number; untilEnd?: boolean; timeoutMs?: number; isHead?: HeadRule; halfClose?: boolean } = {},
): Promise<ExchangeResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const connection = await RawConnection.open(port, { allowHalfOpen: true });
  try {
    await connection.write(request);
    const sentAt = performance.now();
    if (options.halfClose) connection.end();
    if (options.responses !== undefined) await connection.waitForResponses(options.responses, timeoutMs, options.isHead);
    if (options.untilEnd) await connection.waitForEnd(timeoutMs);
    const bytes = Buffer.from(connection.received());
    return {
      bytes,
      ending: connection.ending,
      responses: parseResponses(bytes, options.isHead).responses,
      closeAfterMs: connection.ending === 'open' ? NaN : connection.endedAt - sentAt,
    };
  } finally {
    connection.destroy();
  }
}

/** A well-formed HTTP/1.1 request for the tests (Host included unless given). */
export function request(method: string, target: string, headers: string[] = [], version = 'HTTP/1.1'): string {
  const hasHost = headers.some((line) => /^host:/i.test(line));
  const all = hasHost || version === 'HTTP/1.0' ? headers : ['Host: 127.0.0.1', ...headers];
  return `${method} ${target} ${version}\r\n${all.map((line) => `${line}\r\n`).join('')}\r\n`;
}

/** Status codes the contract allows, with the golden file of each (keep-alive variant where one exists). */
const goldenByStatus: Record<number, string> = {
  400: '400', 404: '404', 405: '405', 408: '408', 431: '431', 501: '501', 503: '503', 505: '505',
};

/** The responses the contract allows, looked up by received bytes (Date values checked and normalised first). */
export class AllowedResponses {
  readonly byText = new Map<string, { status: number; close: boolean }>();

  /** What the received response `raw` is, or undefined if the contract does not allow it; throws BadDate. */
  get(raw: Buffer): { status: number; close: boolean } | undefined {
    return this.byText.get(normaliseDates(raw).toString('latin1'));
  }
}

/**
 * Every response the contract allows from this build, exactly, with and without body (HEAD) and in both
 * Connection variants where the contract allows both: the reference for fuzzing and hostile input.
 */
export function allowedResponses(arch: Arch, page: Buffer): AllowedResponses {
  const result = new AllowedResponses();
  const allowed = result.byText;
  const add = (full: Buffer, status: number) => {
    const text = full.toString('latin1');
    const headEnd = text.indexOf('\r\n\r\n') + 4;
    const close = text.includes('\r\nConnection: close\r\n');
    allowed.set(text, { status, close });
    allowed.set(text.slice(0, headEnd), { status, close });
  };
  for (const close of [false, true]) {
    add(Buffer.concat([golden('page-head', { arch, close }), page]), 200);
    add(golden('health', { close }), 200);
  }
  for (const [status, name] of Object.entries(goldenByStatus)) {
    const bytes = golden(name);
    add(bytes, Number(status));
    if (bytes.includes('Connection: keep-alive')) add(golden(name, { close: true }), Number(status));
  }
  return result;
}

/** A request head of exactly `size` bytes (request line, Host, one padding header, empty line). */
export function headOfSize(size: number, target = '/'): string {
  const start = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: `;
  const end = '\r\n\r\n';
  return start + 'p'.repeat(size - start.length - end.length) + end;
}

/** How a converse() ended: a clean close, a reset, no end within the time, or another socket error. */
export type ConversationEnding = 'fin' | 'reset' | 'hang' | `error ${string}`;

/**
 * Sends the bytes, half-closes, and collects everything until the server ends the connection. Bytes given as
 * pieces go out one write each, `pauseMs` apart, so that the server reads them separately.
 */
export function converse(
  port: number,
  bytes: Buffer | Buffer[],
  timeoutMs: number,
  pauseMs = 5,
): Promise<{ received: Buffer; ending: ConversationEnding }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let done = false;
    const finish = (ending: ConversationEnding) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), ending });
    };
    const timer = setTimeout(() => finish('hang'), timeoutMs);
    const pieces = Array.isArray(bytes) ? [...bytes] : [bytes];
    const sendRest = () => {
      const piece = pieces.shift() ?? Buffer.alloc(0);
      if (pieces.length === 0) socket.end(piece);
      else socket.write(piece, () => setTimeout(sendRest, pauseMs));
    };
    socket.on('connect', sendRest);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNRESET' ? 'reset' : `error ${error.code}`));
  });
}
