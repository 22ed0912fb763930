// Tables of the request grammar's corners, on both architectures: HEAD for every status (RFC 9110 9.3.2: no
// content in a response to HEAD, whatever the status), Connection options for both versions (RFC 9112 9.3,
// RFC 9110 7.6.1 and 5.6.1 lists), and the Host value (RFC 9112 3.2: `uri-host [ ":" port ]` of RFC 3986 3.2.2,
// else 400).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, request, show, sleep } from '../support/http.js';
import { archs, eventually, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

/** A golden response's head: what a HEAD request gets instead of the whole response. */
export function headOnly(response: Buffer): Buffer {
  return response.subarray(0, response.indexOf('\r\n\r\n') + 4);
}

/** [what, request bytes (latin1), golden name of the GET-sized answer] for HEAD requests that get an error. */
const headErrors: [string, string, string][] = [
  ['404: an unknown path', 'HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n', '404'],
  ['400: a control byte in a header value', 'HEAD / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n', '400'],
  ['400: an invalid Host value', 'HEAD / HTTP/1.1\r\nHost: a b\r\n\r\n', '400'],
  ['400: no Host on HTTP/1.1', 'HEAD /health HTTP/1.1\r\n\r\n', '400'],
  ['400: a bad target', 'HEAD /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', '400'],
  ['400: a bad version', 'HEAD / HTTP/1.x\r\nHost: a\r\n\r\n', '400'],
  ['400: two Content-Length headers', 'HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n', '400'],
  ['501: Transfer-Encoding (the issue\'s case)', 'HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x\r\n\r\n', '501'],
  ['505: HTTP/2.0', 'HEAD / HTTP/2.0\r\nHost: a\r\n\r\n', '505'],
  ['431: a header too large', `HEAD / HTTP/1.1\r\nHost: a\r\nX: ${'x'.repeat(8200)}\r\n\r\n`, '431'],
  ['431: a request line too large', `HEAD /${'x'.repeat(8200)} HTTP/1.1\r\nHost: a\r\n\r\n`, '431'],
  ['431: after empty lines', `\r\n\nHEAD / HTTP/1.1\r\nHost: a\r\nX: ${'x'.repeat(8200)}\r\n\r\n`, '431'],
];

/**
 * [Connection field lines, closes after HTTP/1.0, closes after HTTP/1.1]. RFC 9112 9.3: `close` wins in either
 * version; HTTP/1.1 persists otherwise; HTTP/1.0 persists only with `keep-alive` (9.3, Appendix C.2.2). The value is
 * a list (RFC 9110 5.6.1): elements separated by commas with optional whitespace, empty ones ignored, compared
 * without case (7.6.1); an element with whitespace inside it is neither option.
 */
const connectionCases: [string[], boolean, boolean][] = [
  [[], true, false],
  [['Connection: close'], true, true],
  [['Connection: keep-alive'], false, false],
  [['Connection: keep-alive, close'], true, true],
  [['Connection: close, keep-alive'], true, true],
  [['Connection: keep-alive,close'], true, true],
  [['Connection: Keep-Alive'], false, false],
  [['Connection: KEEP-ALIVE, CLOSE'], true, true],
  [['Connection: cLoSe'], true, true],
  [['Connection:close'], true, true],
  [['Connection: \t close \t'], true, true],
  [['Connection:\tkeep-alive\t'], false, false],
  [['Connection: ,,close,,'], true, true],
  [['Connection: , , keep-alive ,'], false, false],
  [['Connection: keep-alive,,, ,close'], true, true],
  [['Connection:'], true, false],
  [['Connection: ,'], true, false],
  [['Connection: keep-alive', 'Connection: close'], true, true],
  [['Connection: close', 'Connection: keep-alive'], true, true],
  [['Connection: upgrade, close'], true, true],
  [['Connection: te, keep-alive'], false, false],
  [['Connection: closed'], true, false],
  [['Connection: xclose'], true, false],
  [['Connection: keep-alives'], true, false],
  [['Connection: keep-aliv'], true, false],
  [['Connection: close keep-alive'], true, false],
  [['Connection: keep-alive close'], true, false],
  [['Connection: close\tx'], true, false],
  [['Connection: "close"'], true, false],
  [['Connection: close;q=1'], true, false],
  [['X-Connection: close'], true, false],
  [['Connection-X: keep-alive'], true, false],
  [['Proxy-Connection: keep-alive'], true, false],
];

/**
 * [Host value, valid]. Valid: an IP-literal in brackets (an IPv6 address of RFC 3986 3.2.2, or an IPvFuture), a
 * reg-name (unreserved, pct-encoded, sub-delims; possibly empty, which includes IPv4 addresses), then an optional
 * ":" and port digits (possibly none). Surrounding spaces and tabs are the field's own (RFC 9110 5.5).
 */
const hostCases: [string, boolean][] = [
  ['a', true],
  ['', true],
  ['  \t example.com \t ', true],
  ['127.0.0.1', true],
  ['127.0.0.1:8080', true],
  ['999.999.999.999', true],
  ['example.com:', true],
  [':80', true],
  ['EXAMPLE.com:65535', true],
  ['a:99999999', true],
  ["a-._~!$&'()*+,;=z", true],
  ['xn--bcher-kva.example', true],
  ['%41%2fb%7E', true],
  ['[::1]', true],
  ['[::1]:80', true],
  ['[::]', true],
  ['[2001:db8::1]', true],
  ['[2001:DB8:0:0:8:800:200C:417A]:443', true],
  ['[1:2:3:4:5:6:7:8]', true],
  ['[1:2:3:4:5:6:7::]', true],
  ['[::2:3:4:5:6:7:8]', true],
  ['[1::8]', true],
  ['[::ffff:192.0.2.1]', true],
  ['[1:2:3:4:5:6:1.2.3.4]', true],
  ['[::1.2.3.4]', true],
  ['[::255.255.255.255]', true],
  ['[fe80::abcd:0:0:1%25eth0]', false],
  ['[v1.x]', true],
  ['[V7.a:b!$]', true],
  ['[vF.~]', true],
  ['a b', false],
  ['a/b@c', false],
  ['a, b', false],
  ['a@b', false],
  ['a/b', false],
  ['a?b', false],
  ['a#b', false],
  ['a"b', false],
  ['a<b', false],
  ['a[b', false],
  ['a]', false],
  ['a\\b', false],
  ['a^b', false],
  ['a`b', false],
  ['a{b', false],
  ['a|b', false],
  ['caf\xe9', false],
  ['a:b', false],
  ['a:80:90', false],
  ['a:8 0', false],
  ['a: 80', false],
  ['a%', false],
  ['a%2', false],
  ['a%zz', false],
  ['a%2g', false],
  ['::1', false],
  ['[::1', false],
  ['::1]', false],
  ['[::1]x', false],
  ['[::1]:x', false],
  ['[::1]]', false],
  ['[[::1]]', false],
  ['[]', false],
  ['[:]', false],
  ['[:1]', false],
  ['[1:]', false],
  ['[:::]', false],
  ['[1:::2]', false],
  ['[1::2::3]', false],
  ['[12345::]', false],
  ['[g::1]', false],
  ['[1:2:3:4:5:6:7]', false],
  ['[1:2:3:4:5:6:7:8:9]', false],
  ['[1:2:3:4:5:6:7:8::]', false],
  ['[::1:2:3:4:5:6:7:8]', false],
  ['[1.2.3.4]', false],
  ['[::1.2.3]', false],
  ['[::1.2.3.4.5]', false],
  ['[::1.2.3.256]', false],
  ['[::1.2.3.04]', false],
  ['[::1.2.3.4:5]', false],
  ['[::1.2.3.4::]', false],
  ['[1:2:3:4:5:6:7:1.2.3.4]', false],
  ['[::1 ]', false],
  ['[example.com]', false],
  ['[v.x]', false],
  ['[v1.]', false],
  ['[v1x]', false],
  ['[vg.x]', false],
  ['[v1./]', false],
];

describe('the Host table agrees with Node.js on IPv6 literals', () => {
  // net.isIPv6 (inet_pton's grammar, by others) as a check of the table: every bracketed case that is not an
  // IPvFuture and has no zone (RFC 3986 has none; RFC 6874 writes it %25) must be valid exactly when Node says so.
  const literals = hostCases.filter(([host]) => /^\[[^\][v]*\](:\d*)?$/i.test(host) && !host.includes('%'));
  it.each(literals)('%s', (host, valid) => {
    expect(net.isIPv6(host.slice(1, host.indexOf(']')))).toBe(valid);
  });
});

describe.each(archs)('%s: grammar tables', (arch) => {
  let server: ServerHandle;
  const patience = 3000 * slowdown(arch);

  beforeAll(async () => {
    server = await startServer(arch);
  });
  afterAll(stopAllServers);

  describe('HEAD gets no body, whatever the status (RFC 9110 9.3.2)', () => {
    it.each(headErrors)('%s', async (_what, bytes, name) => {
      const keeps = name === '404';
      const follow = request('GET', '/health');
      const result = await exchange(server.port, Buffer.from(bytes + follow, 'latin1'), {
        responses: keeps ? 2 : 1,
        untilEnd: !keeps,
        timeoutMs: patience,
        isHead: (index) => index === 0,
      });
      const wanted = keeps ? Buffer.concat([headOnly(golden(name)), golden('health')]) : headOnly(golden(name));
      expect(show(result.bytes)).toBe(show(wanted));
      expect(result.ending).toBe(keeps ? 'open' : 'fin');
    });

    it('200 for / and /health, and 404, keep the connection in step', async () => {
      const bytes = request('HEAD', '/') + request('HEAD', '/health') + request('HEAD', '/x') + request('GET', '/health');
      const result = await exchange(server.port, bytes, { responses: 4, timeoutMs: patience, isHead: (index) => index < 3 });
      const wanted = [golden('page-head', { arch }), golden('health-head'), headOnly(golden('404')), golden('health')];
      expect(show(result.bytes)).toBe(show(Buffer.concat(wanted)));
      expect(result.ending).toBe('open');
    });

    it('408: a HEAD whose head does not complete in time', async () => {
      const timed = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '1' } });
      const result = await exchange(timed.port, 'HEAD / HTTP/1.1\r\nHost: a\r\n', {
        untilEnd: true,
        timeoutMs: 3000 * slowdown(arch),
        isHead: () => true,
      });
      expect(show(result.bytes)).toBe(show(headOnly(golden('408'))));
      expect(result.ending).toBe('fin');
    });

    it('503: HEAD /health while draining', async () => {
      const draining = await startServer(arch, { env: { DRAIN_SECONDS: '30' } });
      draining.signal('SIGTERM');
      // The drain has begun once a GET /health says 503.
      const drainingNow = async () =>
        (await exchange(draining.port, request('GET', '/health'), { untilEnd: true, timeoutMs: patience })).responses[0]?.status === 503;
      expect(await eventually(drainingNow, 10_000 * slowdown(arch), 100)).toBe(true);
      const result = await exchange(draining.port, request('HEAD', '/health'), { untilEnd: true, timeoutMs: patience, isHead: () => true });
      expect(show(result.bytes)).toBe(show(headOnly(golden('503'))));
      expect(result.ending).toBe('fin');
    });
  });

  describe.each(['HTTP/1.0', 'HTTP/1.1'])('Connection options on %s (RFC 9112 9.3)', (version) => {
    it.each(connectionCases)('%j', async (lines, closes10, closes11) => {
      const closes = version === 'HTTP/1.0' ? closes10 : closes11;
      const head = request('GET', '/health', ['Host: a', ...lines], version);
      const connection = await RawConnection.open(server.port, { allowHalfOpen: true });
      try {
        // A second request shows whether the connection persisted: answered if it did, ignored if not.
        await connection.write(head + request('GET', '/health'));
        await connection.waitForResponses(closes ? 1 : 2, patience);
        if (closes) expect(await connection.waitForEnd(patience)).toBe('fin');
        else await sleep(50);
        const wanted = closes ? golden('health', { close: true }) : Buffer.concat([golden('health'), golden('health')]);
        expect(show(connection.received())).toBe(show(wanted));
        if (!closes) expect(connection.ending).toBe('open');
      } finally {
        connection.destroy();
      }
    });
  });

  describe('Host values (RFC 9112 3.2, RFC 3986 3.2.2)', () => {
    it.each(hostCases)('%j', async (host, valid) => {
      for (const version of ['HTTP/1.1', 'HTTP/1.0']) {
        const bytes = `GET /health ${version}\r\nHost:${host}\r\nConnection: keep-alive\r\n\r\n` + request('GET', '/health');
        const result = await exchange(server.port, Buffer.from(bytes, 'latin1'), {
          responses: valid ? 2 : 1,
          untilEnd: !valid,
          timeoutMs: patience,
        });
        const wanted = valid ? Buffer.concat([golden('health'), golden('health')]) : golden('400');
        expect(show(result.bytes), version).toBe(show(wanted));
        expect(result.ending, version).toBe(valid ? 'open' : 'fin');
      }
    });
  });
});
