// Contract points 3, 4 and 6 under hostile input: a table of hand-written malformed or abusive requests, each
// with the exact answer docs/server.md prescribes (a golden response) or a silent clean close. After every
// answer that keeps the connection, a second request shows the connection is still in step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, golden, headOfSize, request, show } from '../support/http.js';
import { archs, builtPage, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

/** The answer a case must get: a golden response name, or 'close' for a silent clean close. */
type Expected = 'health' | 'health-close' | 'page' | '404' | '405' | '400' | '431' | '501' | '505' | 'close';

const H = 'Host: x\r\n';
const get = (target: string, headers = H, version = 'HTTP/1.1') => `GET ${target} ${version}\r\n${headers}\r\n`;

/** [what, request bytes (latin1), expected answer] */
export const hostileCases: [string, string, Expected][] = [
  // Request line
  ['two spaces after the method', `GET  / HTTP/1.1\r\n${H}\r\n`, '400'],
  ['two spaces before the version', `GET /  HTTP/1.1\r\n${H}\r\n`, '400'],
  ['a space after the version', `GET / HTTP/1.1 \r\n${H}\r\n`, '400'],
  ['a space before the method', ` GET / HTTP/1.1\r\n${H}\r\n`, '400'],
  ['tabs as separators', `GET\t/\tHTTP/1.1\r\n${H}\r\n`, '400'],
  ['no target', `GET HTTP/1.1\r\n${H}\r\n`, '400'],
  ['HTTP/0.9 style, no version', 'GET /\r\n\r\n', '400'],
  ['the method alone', 'GET\r\n\r\n', '400'],
  ['asterisk-form target', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, '400'],
  ['authority-form target', `CONNECT 127.0.0.1:80 HTTP/1.1\r\n${H}\r\n`, '400'],
  ['a space inside the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, '400'],
  ['a control byte in the target', `GET /\x01 HTTP/1.1\r\n${H}\r\n`, '400'],
  ['DEL in the target', `GET /\x7f HTTP/1.1\r\n${H}\r\n`, '400'],
  ['raw UTF-8 in the target', `GET /\xc3\xa9 HTTP/1.1\r\n${H}\r\n`, '400'],
  ['NUL in the method', `G\x00T / HTTP/1.1\r\n${H}\r\n`, '400'],
  ['a non-token method', `GE(T / HTTP/1.1\r\n${H}\r\n`, '400'],
  ['a slash in the method', `GET/ / HTTP/1.1\r\n${H}\r\n`, '400'],
  ['lowercase http in the version', get('/', H, 'http/1.1'), '400'],
  ['version HTTP/1.10', get('/', H, 'HTTP/1.10'), '400'],
  ['version HTTP/11', get('/', H, 'HTTP/11'), '400'],
  ['version HTTP/1.', get('/', H, 'HTTP/1.'), '400'],
  ['version HTTP/a.b', get('/', H, 'HTTP/a.b'), '400'],
  ['version HTTP/1.1x', get('/', H, 'HTTP/1.1x'), '400'],
  ['a bare CR ending the request line', `GET / HTTP/1.1\rX: y\r\n${H}\r\n`, '400'],
  ['version HTTP/2.0', get('/', H, 'HTTP/2.0'), '505'],
  ['version HTTP/1.2, processed as HTTP/1.1 (RFC 9110 2.5)', get('/health', H, 'HTTP/1.2'), 'health'],
  ['version HTTP/1.9 without Host, which HTTP/1.1 requires', get('/health', '', 'HTTP/1.9'), '400'],
  ['version HTTP/0.9', get('/', '', 'HTTP/0.9'), '505'],
  ['version HTTP/9.9', get('/', H, 'HTTP/9.9'), '505'],
  ['version HTTP/3.0 on an unknown path', get('/nope', H, 'HTTP/3.0'), '505'],
  // Absolute-form targets (RFC 9112 3.2.2): routed by their path; the authority is not compared with Host
  ['absolute-form target', `GET http://127.0.0.1/health HTTP/1.1\r\n${H}\r\n`, 'health'],
  ['absolute-form, scheme and host in upper case, and a port', get('HTTP://EXAMPLE.COM:8080/health'), 'health'],
  ['absolute-form https with an empty path', get('https://x'), 'page'],
  ['absolute-form, an empty path before a query', get('http://x?a=1'), 'page'],
  ['absolute-form, a query after the path', get('http://x/health?a=1'), 'health'],
  ['absolute-form, an unknown path', get('http://x/nope'), '404'],
  ['absolute-form, a host named like a path', get('http://health/'), 'page'],
  ['absolute-form, another method', `POST http://x/health HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n`, '405'],
  ['absolute-form, another scheme', get('ftp://x/health'), '400'],
  ['absolute-form, one slash after the scheme', get('http:/x/health'), '400'],
  ['absolute-form, no host', get('http:///health'), '400'],
  ['absolute-form, the scheme alone', get('http://'), '400'],
  ['absolute-form, userinfo before the host', get('http://user@x/health'), '400'],
  ['absolute-form, DEL in the host', get('http://x\x7f/health'), '400'],
  ['absolute-form, a scheme cut short', get('htt'), '400'],
  ['absolute-form, no slashes after the scheme', get('http:x'), '400'],
  ['absolute-form on HTTP/1.1 still needs Host', get('http://x/health', ''), '400'],
  // Header lines
  ['no Host on HTTP/1.1', get('/health', ''), '400'],
  ['two Host headers', get('/health', 'Host: a\r\nHost: a\r\n'), '400'],
  ['two Host headers in different case', get('/health', 'Host: a\r\nhost: b\r\n'), '400'],
  ['two Host headers on HTTP/1.0', get('/health', 'Host: a\r\nHost: b\r\n', 'HTTP/1.0'), '400'],
  ['a space before the colon', get('/health', 'Host : x\r\n'), '400'],
  ['an empty header name', get('/health', `${H}: value\r\n`), '400'],
  ['a header line without colon', get('/health', `${H}NoColonHere\r\n`), '400'],
  ['obsolete line folding', get('/health', `${H}X-A: 1\r\n  continued\r\n`), '400'],
  ['a line starting with a tab', get('/health', `${H}\tX-A: 1\r\n`), '400'],
  ['NUL in a header value', get('/health', `${H}X-A: a\x00b\r\n`), '400'],
  ['DEL in a header value', get('/health', `${H}X-A: a\x7fb\r\n`), '400'],
  ['a bare CR inside a header value', get('/health', `${H}X-A: a\rb\r\n`), '400'],
  ['an escape sequence in a header value', get('/health', `${H}X-A: \x1b[31mred\r\n`), '400'],
  ['a non-token header name', get('/health', `${H}X(A): z\r\n`), '400'],
  ['UTF-8 in a header name', get('/health', `${H}X\xc3\xa9: z\r\n`), '400'],
  ['a space inside a header name', get('/health', `${H}X A: z\r\n`), '400'],
  // Bodies
  ['a negative Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, '400'],
  ['a 16-digit Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 1234567890123456\r\n\r\n`, '400'],
  ['a Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\nx`, '400'],
  ['two Content-Length headers', `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy`, '400'],
  ['Content-Length in exponent notation', `POST / HTTP/1.1\r\n${H}Content-Length: 1e3\r\n\r\n`, '400'],
  ['Transfer-Encoding: chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, '501'],
  ['Transfer-Encoding with Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, '501'],
  ['an empty Transfer-Encoding', `GET / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n`, '501'],
  ['a lowercase transfer-encoding', `GET /health HTTP/1.1\r\n${H}transfer-encoding: gzip\r\n\r\n`, '501'],
  ['Transfer-Encoding with a space before the colon', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n`, '400'],
  // Sizes
  ['a head of 8193 bytes', headOfSize(8193), '431'],
  ['one header of 64 KiB', get('/', `${H}X-Big: ${'a'.repeat(65536)}\r\n`), '431'],
  ['3000 small headers', get('/', H + 'X: y\r\n'.repeat(3000)), '431'],
  ['a request line of 9000 bytes', get('/' + 'a'.repeat(9000)), '431'],
  ['a method of 8000 letters', `${'A'.repeat(8000)} / HTTP/1.1\r\n${H}\r\n`, '405'],
  ['a target of 8000 bytes', get('/' + 'n'.repeat(8000)), '404'],
  ['100 headers within the limit', get('/health', H + 'X-Many: 1\r\n'.repeat(100)), 'health'],
  // Not HTTP at all
  ['binary garbage, then an empty line', '\x00\x01\x02\xff\xfe\xfd\x80 garbage\x7f\r\n\r\n', '400'],
  ['a TLS ClientHello start, then an empty line', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5c\x2a\r\n\r\n', '400'],
  ['a lone empty line with a space', ' \r\n\r\n', '400'],
  // Unusual but valid: served
  ['bare LF line ends', 'GET /health HTTP/1.1\nHost: x\n\n', 'health'],
  ['mixed CRLF and LF', 'GET /health HTTP/1.1\r\nHost: x\n\r\n', 'health'],
  ['Host without a space', get('/health', 'Host:x\r\n'), 'health'],
  ['an empty Host value', get('/health', 'Host:\r\n'), 'health'],
  ['a Host value padded with tabs and spaces', get('/health', 'Host: \t x \t\r\n'), 'health'],
  ['HTTP/1.0 without Host', get('/health', '', 'HTTP/1.0'), 'health-close'],
  ['obs-text bytes 0x80-0xFF in a value', get('/health', `${H}X-Latin: caf\xe9 \xff\x80\r\n`), 'health'],
  ['a header name of every token character', get('/health', `${H}!#$%&'*+-.^_\`|~09azAZ: v\r\n`), 'health'],
  ['Content-Length: 000', `GET /health HTTP/1.1\r\n${H}Content-Length: 000\r\n\r\n`, 'health'],
  ['a lowercase method on the page', get('/', H).replace('GET', 'get'), '405'],
  ['an unknown method on the page', get('/', H).replace('GET', 'FOO'), '405'],
  ['a query with every printable byte', get('/health?!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'), 'health'],
  ['a fragment in the target', get('/health#top'), '404'],
  ['a percent-encoded path', get('/%2fhealth'), '404'],
  ['a dot segment', get('/x/../health'), '404'],
  ['Connection: CLOSE', get('/health', `${H}Connection: CLOSE\r\n`), 'health-close'],
  ['the page with a query', get('/?x=1'), 'page'],
  // Nothing at all
  ['a connection that sends nothing and half-closes', '', 'close'],
];

describe.each(archs)('%s: hostile input table', (arch) => {
  let server: ServerHandle;
  const patience = 3000 * slowdown(arch);

  beforeAll(async () => {
    server = await startServer(arch);
  });
  afterAll(stopAllServers);

  it('has at least 50 hand-written cases', () => {
    expect(hostileCases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(hostileCases)('%s', async (_what, bytes, expected) => {
    const follow = request('GET', '/health');
    const answerFor: Record<Exclude<Expected, 'close'>, Buffer> = {
      health: golden('health'),
      'health-close': golden('health', { close: true }),
      page: Buffer.concat([golden('page-head', { arch }), builtPage(arch)]),
      '404': golden('404'),
      '405': golden('405'),
      '400': golden('400'),
      '431': golden('431'),
      '501': golden('501'),
      '505': golden('505'),
    };
    if (expected === 'close') {
      const result = await exchange(server.port, bytes, { untilEnd: true, halfClose: true, timeoutMs: patience });
      expect(result.bytes.length).toBe(0);
      expect(result.ending).toBe('fin');
      return;
    }
    const keeps = ['health', 'page', '404', '405'].includes(expected);
    // A following request must be answered after an answer that keeps the connection, and ignored otherwise.
    const result = await exchange(server.port, Buffer.from(bytes + follow, 'latin1'), {
      responses: keeps ? 2 : 1,
      untilEnd: !keeps,
      timeoutMs: patience,
    });
    const wanted = keeps ? Buffer.concat([answerFor[expected], golden('health')]) : answerFor[expected];
    expect(show(result.bytes)).toBe(show(wanted));
    expect(result.ending).toBe(keeps ? 'open' : 'fin');
  });

  it('is still serving after the whole table', async () => {
    const { bytes } = await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: patience });
    expect(show(bytes)).toBe(show(golden('health')));
  });
});
