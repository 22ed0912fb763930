// A differential test of the request parser against an independent one: Python's h11 (0.16.0, a strict HTTP/1.1
// parser by others, installed by scripts/setup.d/35-parser-oracle.sh into .cache/oracle-python) reads the same
// bytes as both binaries: the seeded fuzz corpus (test/support/fuzz.ts), pipelined a few heads per connection,
// and the hostile table (test/support/hostile-cases.ts). For every connection the servers must make h11's
// decisions: the same requests accepted, with the same boundaries (each answer is the exact response its
// request's route calls for, in order, so a boundary off by a byte shows), and a rejection where h11 rejects.
//
// Where the contract deliberately differs from h11, the difference is one of the DEVIATIONS below, each with its
// RFC reason; the expected answer applies exactly those to h11's reading and nothing else may differ.
// ORACLE_SEED and ORACLE_COUNT (connections per architecture) change the corpus.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, fieldBatch } from '../support/fuzz.js';
import { hostileCases } from '../support/hostile-cases.js';
import { converse, golden, normaliseDates, parseResponses, show } from '../support/http.js';
import { archs, builtPage, repoRoot, slowdown, startServer, stopAllServers, type Arch } from '../support/server.js';

const HEAD_MAX = 8192;
const python = path.join(repoRoot, '.cache', 'oracle-python', 'bin', 'python');
const oracleScript = path.join(repoRoot, 'test', 'support', 'h11-oracle.py');

/** What h11 made of the input's first request (see test/support/h11-oracle.py). */
type H11Reading =
  | { kind: 'request'; method: string; target: string; version: string; headers: [string, string][]; head_end: number; end: number | null }
  | { kind: 'error'; message: string; hint: number }
  | { kind: 'incomplete' };

/** h11 in a child process, one request per line. */
class H11 {
  private child: ChildProcessWithoutNullStreams;
  private waiting: ((line: string) => void)[] = [];

  constructor() {
    if (!existsSync(python)) throw new Error(`${python} is missing: run bash scripts/setup.d/35-parser-oracle.sh (npm test does)`);
    this.child = spawn(python, [oracleScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
    let stderr = '';
    this.child.stderr.on('data', (chunk) => (stderr += chunk));
    this.child.on('exit', (code) => {
      for (const waiter of this.waiting.splice(0)) waiter(JSON.stringify({ kind: 'crash', code, stderr }));
    });
  }

  read(data: Buffer): Promise<H11Reading> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const reading = JSON.parse(line);
        if (reading.kind === 'crash') reject(new Error(`h11 oracle exited ${reading.code}: ${reading.stderr}`));
        else resolve(reading);
      });
      this.child.stdin.write(JSON.stringify({ data: data.toString('base64') }) + '\n');
    });
  }

  stop() {
    this.child.stdin.end();
  }
}

/** The raw lines of a head (without the empty line), line ends removed. */
function rawLines(head: Buffer): string[] {
  return head
    .toString('latin1')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line, index, all) => index < all.length - 1 || line !== '');
}

const hostGrammar = (() => {
  // RFC 3986 3.2.2 and 3.2.3, transcribed from its ABNF (Appendix A).
  const h16 = '[0-9A-Fa-f]{1,4}';
  const decOctet = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])';
  const ipv4 = `${decOctet}\\.${decOctet}\\.${decOctet}\\.${decOctet}`;
  const ls32 = `(?:${h16}:${h16}|${ipv4})`;
  const ipv6 = [
    `(?:${h16}:){6}${ls32}`,
    `::(?:${h16}:){5}${ls32}`,
    `(?:${h16})?::(?:${h16}:){4}${ls32}`,
    `(?:(?:${h16}:){0,1}${h16})?::(?:${h16}:){3}${ls32}`,
    `(?:(?:${h16}:){0,2}${h16})?::(?:${h16}:){2}${ls32}`,
    `(?:(?:${h16}:){0,3}${h16})?::${h16}:${ls32}`,
    `(?:(?:${h16}:){0,4}${h16})?::${ls32}`,
    `(?:(?:${h16}:){0,5}${h16})?::${h16}`,
    `(?:(?:${h16}:){0,6}${h16})?::`,
  ].join('|');
  const unreservedSubDelims = "A-Za-z0-9\\-._~!$&'()*+,;=";
  const ipvFuture = `[vV][0-9A-Fa-f]+\\.[${unreservedSubDelims}:]+`;
  const regName = `(?:[${unreservedSubDelims}]|%[0-9A-Fa-f]{2})*`;
  return new RegExp(`^(?:\\[(?:${ipv6}|${ipvFuture})\\]|${regName})(?::[0-9]*)?$`);
})();

/** Connection options as RFC 9110 5.6.1 and 7.6.1 read them: all fields' elements, trimmed, lower-cased. */
function connectionOptions(headers: [string, string][]): string[] {
  return headers
    .filter(([name]) => name === 'connection')
    .flatMap(([, value]) => value.split(','))
    .map((element) => element.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase())
    .filter((element) => element !== '');
}

/**
 * Every way the contract deliberately differs from h11, with its reason. `rejects` turns a request h11 accepts
 * into a rejection; `lineLevel` says the server sees it as soon as the line is complete (else only at the
 * head's end), which matters for a head that never ends.
 */
type Request = Extract<H11Reading, { kind: 'request' }>;
interface Deviation {
  name: string;
  why: string;
  lineLevel: boolean;
  rejects(request: Request, lines: string[]): boolean;
}
const DEVIATIONS: Deviation[] = [
  {
    name: 'request-target form',
    why:
      'RFC 9112 3.2: a target is origin-form, absolute-form, authority-form (CONNECT only) or asterisk-form ' +
      '(OPTIONS * only); the server serves neither CONNECT nor OPTIONS *, so only the first two are valid, and ' +
      'userinfo in an http(s) URI is an error (RFC 9110 4.2.4). h11 accepts any visible bytes.',
    lineLevel: true,
    rejects: ({ target }) => {
      const authority = /^https?:\/\/([^/?]+)/i.exec(target)?.[1];
      return !target.startsWith('/') && (authority === undefined || authority.includes('@'));
    },
  },
  {
    name: 'major version other than 1',
    why: 'RFC 9110 2.5 and 15.6.6: the server implements HTTP/1.x only and answers another major version 505; h11 reads any d.d.',
    lineLevel: true,
    rejects: ({ version }) => !version.startsWith('1.'),
  },
  {
    name: 'Host value grammar',
    why: 'RFC 9112 3.2: a Host field with an invalid value (not uri-host [":" port] of RFC 3986) gets 400; h11 only counts Host fields.',
    lineLevel: true,
    rejects: ({ headers }) => headers.some(([name, value]) => name === 'host' && !hostGrammar.test(value)),
  },
  {
    name: 'control characters in field values',
    why: 'RFC 9110 5.5: a field value with CTLs other than HT is invalid (a recipient MAY keep them); the server rejects it, h11 keeps all but NUL, CR, LF, VT and FF.',
    lineLevel: true,
    rejects: (_request, lines) => lines.slice(1).some((line) => /[\x00-\x08\x0a-\x1f\x7f]/.test(line)),
  },
  {
    name: 'obsolete line folding',
    why: 'RFC 9112 5.2: a server MUST reject obs-fold with 400 or replace it with spaces; the server rejects, h11 replaces.',
    lineLevel: true,
    rejects: (_request, lines) => lines.slice(1).some((line) => /^[ \t]/.test(line)),
  },
  {
    name: 'Content-Length lists and repeats, and its length',
    why:
      'RFC 9110 8.6: a list of equal values or repeated equal fields MAY be rejected or reduced to one; the server ' +
      'rejects both, h11 reduces. The server reads at most 15 digits (8.6: recipients guard against overflow), h11 20.',
    lineLevel: true,
    rejects: (_request, lines) => {
      const values = lines.slice(1).filter((line) => /^content-length:/i.test(line)).map((line) => line.slice(15).replace(/^[ \t]+|[ \t]+$/g, ''));
      return values.length > 1 || values.some((value) => !/^[0-9]{1,15}$/.test(value));
    },
  },
  {
    name: 'Transfer-Encoding',
    why: 'The server implements no transfer coding: any Transfer-Encoding gets 501 and a close (RFC 9112 6.1 SHOULD for codings it does not implement; that chunked is one is the contract\'s one departure from RFC 9112 7.1). h11 decodes chunked.',
    lineLevel: false,
    rejects: ({ headers }) => headers.some(([name]) => name === 'transfer-encoding'),
  },
  {
    name: 'HTTP/1.2-1.9 without Host',
    why: 'RFC 9110 2.5: a higher minor version is processed as HTTP/1.1, which requires Host (RFC 9112 3.2); h11 requires Host of exactly 1.1.',
    lineLevel: false,
    rejects: ({ version, headers }) => /^1\.[2-9]$/.test(version) && !headers.some(([name]) => name === 'host'),
  },
];
/** How h11 reads the input differently before it parses, and in what it decides after. */
const READING_DEVIATIONS = [
  'Empty lines before a request line are skipped (RFC 9112 2.2: a server SHOULD ignore at least one); h11 rejects them, so the test skips them before h11 reads.',
  'A head longer than 8192 bytes is 431 (RFC 6585 5; RFC 9112 2.3 lets a server limit it), the server judging only the lines within its 8192 bytes; h11 is given no limit, and the test applies this one.',
  'HTTP/1.0 persists with "keep-alive" listed and no "close" (RFC 9112 9.3 and Appendix C.2.2); h11 closes every HTTP/1.0 connection.',
];

/** The first deviation that rejects the request, or undefined. */
function deviationFor(request: Request, head: Buffer, lineLevelOnly: boolean): Deviation | undefined {
  const lines = rawLines(head);
  return DEVIATIONS.find((deviation) => (deviation.lineLevel || !lineLevelOnly) && deviation.rejects(request, lines));
}

/** The route the contract gives an accepted request: the golden response name and whether it is HEAD. */
function routeOf(request: Request): { name: 'page' | 'health' | '404' | '405'; head: boolean } {
  let target = request.target;
  const absolute = /^https?:\/\/[^/?]+(.*)$/i.exec(target);
  if (absolute) target = absolute[1].startsWith('/') ? absolute[1] : '/' + absolute[1];
  const pathPart = target.split('?')[0];
  const head = request.method === 'HEAD';
  if (pathPart !== '/' && pathPart !== '/health') return { name: '404', head };
  if (request.method !== 'GET' && !head) return { name: '405', head };
  return { name: pathPart === '/' ? 'page' : 'health', head };
}

interface Accepted {
  name: 'page' | 'health' | '404' | '405';
  head: boolean;
  close: boolean;
}
/** What a server must answer to one connection's input, by h11's reading and the deviations. */
interface Expectation {
  accepted: Accepted[];
  /** After the accepted requests: 'silent' (the input ends, a close ends the connection), or a rejection. */
  end: 'silent' | 'reject' | '431';
  /** Whether the rejected request starts like a HEAD request (its error has no body). */
  rejectedHead: boolean;
  why: string[];
}

/** Length of the empty lines (CRLF or LF) at the start. */
function emptyLinesAt(bytes: Buffer): number {
  let at = 0;
  for (;;) {
    if (bytes[at] === 0x0a) at += 1;
    else if (bytes[at] === 0x0d && bytes[at + 1] === 0x0a) at += 2;
    else return at;
  }
}

/** The offset just after the first empty line that ends a head starting at `from`, or -1. */
function headEnd(bytes: Buffer, from: number): number {
  for (let at = bytes.indexOf(0x0a, from); at >= 0; at = bytes.indexOf(0x0a, at + 1)) {
    if (bytes[at + 1] === 0x0a) return at + 2;
    if (bytes[at + 1] === 0x0d && bytes[at + 2] === 0x0a) return at + 3;
  }
  return -1;
}

async function expectationFor(h11: H11, input: Buffer): Promise<Expectation> {
  const expectation: Expectation = { accepted: [], end: 'silent', rejectedHead: false, why: [] };
  let position = 0;
  while (position < input.length) {
    const rest = input.subarray(position);
    const skipped = emptyLinesAt(rest);
    if (skipped === rest.length) break;
    const end = headEnd(rest, skipped);
    expectation.rejectedHead = rest.subarray(skipped, skipped + 5).toString('latin1') === 'HEAD ';
    if (end < 0 || end > HEAD_MAX) {
      // The head does not end within the server's 8192 bytes: the server judges the lines it has whole.
      const lastLineEnd = rest.subarray(0, HEAD_MAX).lastIndexOf(0x0a);
      if (lastLineEnd >= skipped) {
        // The server checks that a Host came, and Transfer-Encoding, only at the head's end: h11 reads the lines
        // without Transfer-Encoding fields, and with a Host when they have none.
        const lines = rest.subarray(skipped, lastLineEnd + 1);
        const raw = rawLines(lines);
        const kept = raw.filter((line, index) => index === 0 || !/^transfer-encoding:/i.test(line));
        if (!raw.slice(1).some((line) => /^host:/i.test(line))) kept.push('Host: a');
        const reading = await h11.read(Buffer.from(kept.map((line) => line + '\r\n').join('') + '\r\n', 'latin1'));
        if (reading.kind === 'error') {
          expectation.end = 'reject';
          expectation.why.push(`h11 rejects the unfinished head's whole lines: ${reading.message}`);
          return expectation;
        }
        const deviation = reading.kind === 'request' ? deviationFor(reading, lines, true) : undefined;
        if (deviation) {
          expectation.end = 'reject';
          expectation.why.push(`deviation in the unfinished head's whole lines: ${deviation.name}`);
          return expectation;
        }
      }
      expectation.end = rest.length >= HEAD_MAX ? '431' : 'silent';
      expectation.why.push(rest.length >= HEAD_MAX ? 'no head end within 8192 bytes' : 'the input ends within a head');
      return expectation;
    }
    const reading = await h11.read(rest.subarray(skipped));
    if (reading.kind === 'incomplete') throw new Error(`h11 finds no head end where the test does: ${JSON.stringify(rest.toString('latin1'))}`);
    if (reading.kind === 'error') {
      expectation.end = 'reject';
      expectation.why.push(`h11: ${reading.message}`);
      return expectation;
    }
    if (skipped + reading.head_end !== end) throw new Error(`h11's head ends at ${skipped + reading.head_end}, the test's at ${end}`);
    const deviation = deviationFor(reading, rest.subarray(skipped, end), false);
    if (deviation) {
      expectation.end = 'reject';
      expectation.why.push(`deviation: ${deviation.name}`);
      return expectation;
    }
    const options = connectionOptions(reading.headers);
    const persists = !options.includes('close') && (reading.version !== '1.0' || options.includes('keep-alive'));
    expectation.accepted.push({ ...routeOf(reading), close: !persists });
    expectation.why.push(`h11 accepts ${reading.method} ${reading.target} HTTP/${reading.version}${persists ? '' : ', closing'}`);
    if (!persists || reading.end === null) return expectation;
    position += skipped + reading.end;
  }
  return expectation;
}

/** The exact bytes an accepted request gets. */
function answerBytes(arch: Arch, answer: Accepted): Buffer {
  const close = { close: answer.close };
  const full =
    answer.name === 'page'
      ? Buffer.concat([golden('page-head', { arch, ...close }), builtPage(arch)])
      : golden(answer.name, close);
  return answer.head ? full.subarray(0, full.indexOf('\r\n\r\n') + 4) : full;
}

const rejections = ['400', '431', '501', '505'];

/** Why the received bytes are not what the expectation allows, or null. */
function judge(arch: Arch, expectation: Expectation, received: Buffer, ending: string): string | null {
  if (ending !== 'fin') return `the connection ended with ${ending}, not a clean close`;
  const wanted = Buffer.concat(expectation.accepted.map((answer) => answerBytes(arch, answer)));
  const got = normaliseDates(received);
  if (!got.subarray(0, wanted.length).equals(wanted)) return `the accepted requests' answers differ:\nwanted ${show(wanted)}\ngot    ${show(got)}`;
  const rest = got.subarray(wanted.length);
  if (expectation.end === 'silent') return rest.length === 0 ? null : `an answer where none is due: ${show(rest)}`;
  const allowed = expectation.end === '431' ? ['431'] : rejections;
  for (const name of allowed) {
    const full = golden(name);
    const bytes = expectation.rejectedHead ? full.subarray(0, full.indexOf('\r\n\r\n') + 4) : full;
    if (rest.equals(bytes)) return null;
  }
  let status = 'nothing';
  try {
    status = parseResponses(rest, () => 'unknown').responses.map((response) => response.status).join(', ') || 'nothing';
  } catch {
    status = 'garbage';
  }
  return `a rejection (${allowed.join('/')}${expectation.rejectedHead ? ', no body' : ''}) is due, got ${status}: ${show(rest)}`;
}

interface Case {
  label: string;
  input: Buffer;
  expectation: Expectation;
}

const seed = Number(process.env.ORACLE_SEED ?? 9);
/** Connections per architecture from each generator (each also split into its heads): about 15 s each here. */
const defaultCount: Record<Arch, number> = { amd64: 8000, arm64: 4000 };

/** The corpus and what h11 (with the deviations) expects of each connection, computed once for both servers. */
let corpus: Promise<Case[]> | undefined;
function corpusCases(): Promise<Case[]> {
  corpus ??= (async () => {
    const h11 = new H11();
    try {
      const cases: Case[] = [];
      for (const [what, bytes] of hostileCases) {
        const input = Buffer.from(bytes, 'latin1');
        cases.push({ label: `hostile: ${what}`, input, expectation: await expectationFor(h11, input) });
      }
      const count = Math.max(...archs.map(countFor));
      for (let index = 0; index < count; index++) {
        const heads = fieldBatch(seed, index).map((head) => Buffer.from(head, 'latin1'));
        const inputs = heads.length > 1 ? [Buffer.concat(heads), ...heads] : heads;
        for (const [part, input] of inputs.entries()) {
          const label = `fields seed ${seed} connection ${index}${part ? ` head ${part}` : ''}`;
          cases.push({ label, input, expectation: await expectationFor(h11, input) });
        }
      }
      for (let index = 0; index < count; index++) {
        // The heads pipelined, as the fuzz test sends them, and each on a connection of its own, so that heads
        // after a rejected one are judged too.
        const { heads } = batch(seed, index);
        const inputs = heads.length > 1 ? [Buffer.concat(heads), ...heads] : heads;
        for (const [part, input] of inputs.entries()) {
          const label = `fuzz seed ${seed} connection ${index}${part ? ` head ${part}` : ''}`;
          cases.push({ label, input, expectation: await expectationFor(h11, input) });
        }
      }
      return cases;
    } finally {
      h11.stop();
    }
  })();
  return corpus;
}

const countFor = (arch: Arch) => Number(process.env.ORACLE_COUNT ?? defaultCount[arch]);

describe('the h11 oracle', () => {
  it('lists each deviation with its RFC reason, and the corpus uses both decisions and the deviations', { timeout: 300_000 }, async () => {
    const cases = await corpusCases();
    for (const deviation of DEVIATIONS) expect(deviation.why).toMatch(/RFC \d+/);
    for (const reason of READING_DEVIATIONS) expect(reason).toMatch(/RFC \d+/);
    const accepted = cases.reduce((sum, { expectation }) => sum + expectation.accepted.length, 0);
    const rejected = cases.filter(({ expectation }) => expectation.end !== 'silent').length;
    const used = new Set(cases.flatMap(({ expectation }) => expectation.why.filter((why) => why.includes('deviation')).map((why) => why.replace(/.*: /, ''))));
    console.log(`oracle: ${cases.length} connections, ${accepted} requests accepted, ${rejected} rejections; deviations used: ${[...used].join('; ')}`);
    const connections = Math.max(...archs.map(countFor));
    expect(accepted).toBeGreaterThan(connections / 2);
    expect(rejected).toBeGreaterThan(connections / 2);
    expect(used.size).toBeGreaterThanOrEqual(6);
  });
});

describe.each(archs)('%s: the parser against the h11 oracle', (arch) => {
  afterAll(stopAllServers);

  it('decides as h11 does, deviations aside: the same requests, boundaries and rejections', { timeout: 900_000 }, async () => {
    const cases = (await corpusCases()).filter(({ label }) => label.startsWith('hostile') || Number(label.split(' ')[4]) < countFor(arch));
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '30', HEADER_TIMEOUT_SECONDS: '30' } });
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length && failures.length < 10) {
        const index = next++;
        const { label, input, expectation } = cases[index];
        // Every 8th input goes out in three pieces, cut at points of its own, which the server reads apart:
        // the same answers are due, whatever the cuts (the unfinished head is kept and parsed again).
        const cuts = [(index * 7919) % (input.length + 1), (index * 104729) % (input.length + 1)].sort((a, b) => a - b);
        const pieces = index % 8 === 0 ? [input.subarray(0, cuts[0]), input.subarray(cuts[0], cuts[1]), input.subarray(cuts[1])] : input;
        const { received, ending } = await converse(server.port, pieces, 8000 * slowdown(arch));
        const problem = judge(arch, expectation, received, ending);
        if (problem) {
          const sent = Array.isArray(pieces) ? `in pieces ${JSON.stringify(pieces.map((piece) => piece.toString('latin1').slice(0, 500)))}` : JSON.stringify(input.toString('latin1').slice(0, 1500));
          failures.push(`${label}: ${problem}\nh11 and the deviations: ${expectation.why.join('; ')}\nsent: ${sent}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log(`${arch}: ${cases.length} connections compared with h11`);
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});
