// Seeded generator of request heads for the randomized hostile-input test: well-formed requests, mutations of
// them (byte flips, insertions, deletions, duplicated or dropped lines, hostile headers, oversize runs) and
// random byte soup. Batch i depends only on (seed, i), so any failure replays from the printed seed.

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)];
const int = (random: Random, below: number) => Math.floor(random() * below);

const methods = ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'get', 'X-Y'];
const targets = ['/', '/health', '/health', '/health?probe=1', '/?a=b', '/nope', '/health/', '/a/b/c?d=e#f', '/%20'];
const extraHeaders = [
  'User-Agent: fuzz/1.0',
  'Accept: */*',
  'Accept-Encoding: gzip, br',
  'Connection: keep-alive',
  'Cookie: a=b; c=d',
  'Content-Length: 0',
  'X-Request-Id: 0123456789abcdef',
  'Cache-Control: no-cache',
  'Upgrade-Insecure-Requests: 1',
];
const hostileHeaders = [
  'Transfer-Encoding: chunked',
  'Content-Length: 4',
  'Content-Length: -1',
  'Content-Length: 99999999999',
  'Host: other',
  ' folded',
  'Connection: close',
  'X:\x00',
  ':empty-name',
  'Content-Length: 3\r\nContent-Length: 4',
];
const interestingBytes = [0x20, 0x09, 0x0d, 0x0a, 0x3a, 0x00, 0x2f, 0x3f, 0x7f, 0xff, 0x80, 0x48, 0x31, 0x2e, 0x2c];

/** A request head that follows the contract's grammar (and sometimes a small declared body). */
export function wellFormedRequest(random: Random): string {
  const version = random() < 0.85 ? 'HTTP/1.1' : 'HTTP/1.0';
  const lines = [`${pick(random, methods)} ${pick(random, targets)} ${version}`];
  if (version === 'HTTP/1.1' || random() < 0.5) lines.push(random() < 0.9 ? 'Host: 127.0.0.1' : 'host:x');
  const extras = int(random, 5);
  for (let i = 0; i < extras; i++) lines.push(pick(random, extraHeaders));
  if (version === 'HTTP/1.0' && random() < 0.5) lines.push('Connection: keep-alive');
  let body = '';
  if (random() < 0.1) {
    body = 'x'.repeat(int(random, 20));
    lines.push(`Content-Length: ${body.length}`);
  }
  const eol = random() < 0.9 ? '\r\n' : '\n';
  // Duplicate Content-Length lines from the pool would be a (legitimate) 400; keep at most one.
  const unique = lines.filter((line, index) => !line.startsWith('Content-Length') || lines.findIndex((l) => l.startsWith('Content-Length')) === index);
  return unique.join(eol) + eol + eol + body;
}

/** 1-4 random mutations of a well-formed request. */
export function mutatedRequest(random: Random): Buffer {
  let bytes = Buffer.from(wellFormedRequest(random), 'latin1');
  const mutations = 1 + int(random, 4);
  for (let m = 0; m < mutations; m++) {
    const at = int(random, bytes.length + 1);
    switch (int(random, 10)) {
      case 0: // flip to any byte
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = int(random, 256);
        break;
      case 1: // replace with a byte parsers care about
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = pick(random, interestingBytes);
        break;
      case 2: // insert a few bytes
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(random, 8) }, () => pick(random, interestingBytes))), bytes.subarray(at)]);
        break;
      case 3: // delete a span
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(random, 6))]);
        break;
      case 4: { // duplicate a line
        const lines = bytes.toString('latin1').split('\n');
        const index = int(random, Math.max(1, lines.length - 2));
        lines.splice(index, 0, lines[index]);
        bytes = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
      case 5: { // drop a line
        const lines = bytes.toString('latin1').split('\n');
        lines.splice(int(random, lines.length), 1);
        bytes = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
      case 6: { // add a hostile header after the request line
        const text = bytes.toString('latin1');
        const lineEnd = text.indexOf('\n') + 1;
        bytes = Buffer.from(text.slice(0, lineEnd) + pick(random, hostileHeaders) + '\r\n' + text.slice(lineEnd), 'latin1');
        break;
      }
      case 7: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 8: // a long run, now and then past the 8192-byte head limit
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(random() < 0.3 ? 8200 : 1 + int(random, 300), pick(random, [0x61, 0x20, 0x2f, 0x3a])), bytes.subarray(at)]);
        break;
      default: { // swap two bytes
        if (bytes.length < 2) break;
        const other = int(random, bytes.length);
        const a = Math.min(at, bytes.length - 1);
        [bytes[a], bytes[other]] = [bytes[other], bytes[a]];
      }
    }
  }
  return bytes;
}

/** Random bytes, mostly printable, ending in an empty line so the server judges them now. */
export function randomHead(random: Random): Buffer {
  const length = 1 + int(random, 200);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const roll = random();
    bytes[i] = roll < 0.7 ? 0x20 + int(random, 95) : roll < 0.8 ? pick(random, [0x0d, 0x0a, 0x20, 0x3a]) : int(random, 256);
  }
  return Buffer.concat([bytes, Buffer.from('\r\n\r\n')]);
}

export type HeadKind = 'well-formed' | 'mutated' | 'random';

/** The heads for connection number `index`: 1-6 heads, mostly mutated, some random, some well-formed. */
export function batch(seed: number, index: number): { heads: Buffer[]; kinds: HeadKind[] } {
  const random = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const count = 1 + int(random, 6);
  const heads: Buffer[] = [];
  const kinds: HeadKind[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.6) {
      heads.push(mutatedRequest(random));
      kinds.push('mutated');
    } else if (roll < 0.8) {
      heads.push(randomHead(random));
      kinds.push('random');
    } else {
      heads.push(Buffer.from(wellFormedRequest(random), 'latin1'));
      kinds.push('well-formed');
    }
  }
  return { heads, kinds };
}

// Field-aware heads: each field drawn from values near the grammar's edges (valid and not), so that a
// differential test meets the Host, Connection, version, target and Content-Length rules far more often than
// byte mutations reach them.
const fieldMethods = ['GET', 'HEAD', 'POST', 'OPTIONS', 'get', 'HEAD'];
const fieldTargets = ['/', '/health', '/health?x', '/x', 'http://a/health', 'HTTPS://a', 'http://a?q', 'http://u@a/', 'http:///', '*', 'a', '//x', 'http:/x', '/%41'];
const fieldVersions = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/1.9', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.01', 'http/1.1'];
const connectionElements = ['close', 'keep-alive', 'Close', 'KEEP-ALIVE', '', ' ', '\t', 'upgrade', 'close x', 'keep-alive\tclose', 'closed', '"close"'];
const contentLengths = ['0', '3', ' 3 ', '3, 3', '0003', '+3', '3 3', '1234567890123456', ''];
const hostAlphabet = "aZ09.-_~!$&'()*+,;=%:[]@/ ?#\"<>\\^`{|}vVfF\t\xe9";
const hex = '0123456789abcdefABCDEFg';

/** A Host value: a random string, a bracketed IPv6-like literal (sometimes an IPv4 tail), or an IPvFuture-like one. */
export function hostValue(random: Random): string {
  const roll = random();
  const port = random() < 0.3 ? ':' + String(int(random, 100000)).slice(0, int(random, 6)) : '';
  if (roll < 0.4) {
    return Array.from({ length: int(random, 12) }, () => pick(random, [...hostAlphabet])).join('') + port;
  }
  if (roll < 0.85) {
    const pieces = Array.from({ length: int(random, 10) }, () => Array.from({ length: int(random, 6) }, () => pick(random, [...hex])).join(''));
    if (random() < 0.3) pieces.push(Array.from({ length: 3 + int(random, 3) }, () => String(random() < 0.2 ? '0' + int(random, 10) : int(random, 300))).join('.'));
    let inner = pieces.join(':');
    if (random() < 0.6) {
      const at = int(random, inner.length + 1);
      inner = inner.slice(0, at) + '::' + inner.slice(at);
    }
    return (random() < 0.95 ? '[' : '') + inner + (random() < 0.95 ? ']' : '') + port;
  }
  const tail = Array.from({ length: int(random, 5) }, () => pick(random, [...'a1-._~!$&:;=@/'])).join('');
  const digits = Array.from({ length: int(random, 3) }, () => pick(random, [...hex])).join('');
  return `[${pick(random, ['v', 'V', 'w'])}${digits}${random() < 0.9 ? '.' : ''}${tail}]` + port;
}

/** One head with fields from the lists above (Host usually present, sometimes twice or absent). */
export function fieldRequest(random: Random): string {
  const lines = [`${pick(random, fieldMethods)} ${pick(random, fieldTargets)} ${pick(random, fieldVersions)}`];
  const hosts = random() < 0.85 ? 1 : random() < 0.5 ? 0 : 2;
  for (let i = 0; i < hosts; i++) lines.push(`Host:${pick(random, ['', ' ', '\t'])}${hostValue(random)}${pick(random, ['', ' '])}`);
  const connections = int(random, 3);
  for (let i = 0; i < connections; i++) {
    const elements = Array.from({ length: 1 + int(random, 3) }, () => pick(random, connectionElements));
    lines.push(`${pick(random, ['Connection', 'connection', 'Connection'])}:${elements.join(pick(random, [',', ', ', ' ,', ',,']))}`);
  }
  let body = '';
  if (random() < 0.25) {
    const value = pick(random, contentLengths);
    lines.push(`Content-Length:${value}`);
    if (/^\s*3\s*$/.test(value)) body = 'abc';
  }
  if (random() < 0.2) lines.splice(1 + int(random, lines.length), 0, pick(random, ['X-Other: a\x01b', 'Transfer-Encoding: chunked', ' folded', 'X: \xff']));
  const eol = random() < 0.9 ? '\r\n' : '\n';
  return lines.join(eol) + eol + eol + body;
}

/** The heads for field-aware connection number `index`: 1-4 of them, pipelined. */
export function fieldBatch(seed: number, index: number): string[] {
  const random = prng((seed ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  return Array.from({ length: 1 + int(random, 4) }, () => fieldRequest(random));
}
