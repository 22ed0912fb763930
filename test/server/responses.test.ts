// Contract points 1-3: the page, /health, HEAD, query strings and every error response, compared byte for byte
// with the golden files, plus the same routes through undici as a real HTTP client sees them.
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, golden, headOfSize, pageLength, request, show, type ParsedResponse } from '../support/http.js';
import { archs, builtPage, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

describe.each(archs)('%s: responses (points 1-3)', (arch) => {
  let server: ServerHandle;
  let client: Client;
  const patience = 3000 * slowdown(arch);

  beforeAll(async () => {
    server = await startServer(arch);
    client = new Client(`http://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await client?.close();
    await stopAllServers();
  });

  /**
   * Sends requests on a fresh connection; returns the bytes until `responses` arrived (and the end, if asked).
   * `heads` lists which answers are to HEAD requests (they have no body).
   */
  const send = (bytes: string | Buffer, responses = 1, untilEnd = false, heads: boolean[] = []) =>
    exchange(server.port, bytes, { responses, untilEnd, timeoutMs: patience, isHead: (index) => heads[index] ?? false });

  const expectBytes = (actual: Buffer, expected: Buffer) => expect(show(actual)).toBe(show(expected));

  describe('1. GET / and GET /health', () => {
    it('GET / through undici: 200, text/html, exact Content-Length, the built page', async () => {
      const response = await client.request({ path: '/', method: 'GET' });
      const body = Buffer.from(await response.body.arrayBuffer());
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(Number(response.headers['content-length'])).toBe(body.length);
      expect(body.length).toBe(pageLength(arch));
      expect(body.equals(builtPage(arch))).toBe(true);
    });

    it('GET / on the wire: the golden head, then the page', async () => {
      const { bytes } = await send(request('GET', '/'));
      expectBytes(bytes, Buffer.concat([golden('page-head', { arch }), builtPage(arch)]));
    });

    it('GET /health through undici: 200, text/plain, no-store, body OK', async () => {
      const response = await client.request({ path: '/health', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['content-length']).toBe('2');
      expect(await response.body.text()).toBe('OK');
    });

    it('GET /health on the wire: golden', async () => {
      const { bytes, ending } = await send(request('GET', '/health'));
      expectBytes(bytes, golden('health'));
      expect(ending).toBe('open');
    });
  });

  describe('2. HEAD and query strings', () => {
    it('HEAD / is the GET head without the body, and the connection stays in step', async () => {
      // A second request right behind the HEAD shows no body bytes were sent between the two answers.
      const { bytes } = await send(request('HEAD', '/') + request('GET', '/health'), 2, false, [true]);
      expectBytes(bytes, Buffer.concat([golden('page-head', { arch }), golden('health')]));
    });

    it('HEAD /health is golden, without body', async () => {
      const { bytes } = await send(request('HEAD', '/health') + request('GET', '/health'), 2, false, [true]);
      expectBytes(bytes, Buffer.concat([golden('health-head'), golden('health')]));
    });

    it('HEAD through undici has the same status and headers as GET', async () => {
      for (const path of ['/', '/health']) {
        const get = await client.request({ path, method: 'GET' });
        await get.body.dump();
        const head = await client.request({ path, method: 'HEAD' });
        expect(head.statusCode).toBe(get.statusCode);
        // undici sends HEAD with Connection: close (so the server rightly answers close); all else is equal.
        const { connection: _headConnection, ...headHeaders } = head.headers;
        const { connection: _getConnection, ...getHeaders } = get.headers;
        expect(headHeaders).toEqual(getHeaders);
        expect((await head.body.arrayBuffer()).byteLength).toBe(0);
      }
    });

    it.each(['/health?probe=1', '/health?', '/health?a=b&c=/nope', '/health??'])('%s routes to /health', async (target) => {
      const { bytes } = await send(request('GET', target));
      expectBytes(bytes, golden('health'));
    });

    it.each(['/?', '/?page=1', '/?/health'])('%s routes to the page', async (target) => {
      const { bytes } = await send(request('GET', target));
      expectBytes(bytes, Buffer.concat([golden('page-head', { arch }), builtPage(arch)]));
    });

    it('undici with a query string gets OK', async () => {
      const response = await client.request({ path: '/health?probe=1', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('OK');
    });
  });

  describe('3. errors', () => {
    it.each(['/nope', '/healthz', '/health/', '/HEALTH', '/index.html', '//', '/%68ealth', '/health#x', '/./health'])(
      'GET %s is 404 and keeps the connection',
      async (target) => {
        const { bytes } = await send(request('GET', target) + request('GET', '/health'), 2);
        expectBytes(bytes, Buffer.concat([golden('404'), golden('health')]));
      },
    );

    it.each(['POST', 'DELETE', 'PUT', 'OPTIONS', 'get', 'X-CUSTOM'])('%s on an unknown path is 404', async (method) => {
      const { bytes } = await send(request(method, '/nope'));
      expectBytes(bytes, golden('404'));
    });

    it('HEAD on an unknown path is the 404 head without body', async () => {
      const { bytes } = await send(request('HEAD', '/nope') + request('GET', '/health'), 2, false, [true]);
      expectBytes(bytes, Buffer.concat([golden('404-head'), golden('health')]));
    });

    it.each([
      ['POST', '/'], ['PUT', '/health'], ['DELETE', '/'], ['OPTIONS', '/health'], ['PATCH', '/'], ['TRACE', '/'],
      ['CONNECT', '/health'], ['get', '/'], ['Head', '/health'], ['BREW', '/health?x=1'],
    ])('%s %s is 405 with Allow: GET, HEAD and keeps the connection', async (method, target) => {
      const { bytes } = await send(request(method, target) + request('GET', '/health'), 2);
      expectBytes(bytes, Buffer.concat([golden('405'), golden('health')]));
    });

    it('405 through undici carries Allow', async () => {
      const response = await client.request({ path: '/health', method: 'POST', body: 'x' });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
      expect(await response.body.text()).toBe('Method Not Allowed\r\n');
    });

    it('404 through undici', async () => {
      const response = await client.request({ path: '/missing', method: 'GET' });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(await response.body.text()).toBe('Not Found\r\n');
    });

    /** Error answers that leave the connection in doubt: exact bytes, then FIN, and what followed is ignored. */
    const closing: [string, string, string][] = [
      ['400', 'malformed request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['400', 'missing version', 'GET /\r\n\r\n'],
      ['400', 'missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
      ['400', 'header without colon', 'GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n'],
      ['505', 'HTTP/2.0', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'],
      ['505', 'HTTP/3.0', 'GET /health HTTP/3.0\r\nHost: x\r\n\r\n'],
      ['505', 'HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n'],
      ['501', 'Transfer-Encoding: chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ];
    it.each(closing)('%s for %s, then the server closes and ignores the rest', async (status, _what, bad) => {
      const { bytes, ending, closeAfterMs } = await send(bad + request('GET', '/health'), 1, true);
      expectBytes(bytes, golden(status));
      expect(ending).toBe('fin');
      // Half-close comes right after the answer, not after the 2 s drain of what the client still sends.
      expect(closeAfterMs).toBeLessThan(1500 * slowdown(arch));
    });

    it('a head of exactly 8192 bytes is served; 8193 bytes is 431 and close', async () => {
      const fits = await send(headOfSize(8192, '/health'));
      expectBytes(fits.bytes, golden('health'));
      const tooLong = await send(headOfSize(8193, '/health'), 1, true);
      expectBytes(tooLong.bytes, golden('431'));
      expect(tooLong.ending).toBe('fin');
    });

    it('a 200 KiB head gets 431 and a clean FIN (the server drains instead of resetting)', async () => {
      const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(200 * 1024)}\r\n\r\n`;
      const { bytes, ending } = await send(huge, 1, true);
      expectBytes(bytes, golden('431'));
      expect(ending).toBe('fin');
    });

    it('Connection: close gets the close variant and a FIN', async () => {
      const cases: [string, Buffer][] = [
        [request('GET', '/health', ['Connection: close']), golden('health', { close: true })],
        [request('GET', '/nope', ['Connection: close']), golden('404', { close: true })],
        [request('POST', '/', ['Connection: close']), golden('405', { close: true })],
        [request('HEAD', '/health', ['Connection: close']), golden('health-head', { close: true })],
        [request('GET', '/', ['Connection: close']), Buffer.concat([golden('page-head', { arch, close: true }), builtPage(arch)])],
      ];
      for (const [bytesOut, expected] of cases) {
        const { bytes, ending } = await send(bytesOut, 1, true, [bytesOut.startsWith('HEAD')]);
        expectBytes(bytes, expected);
        expect(ending).toBe('fin');
      }
    });

    it('error bodies are short text that says what happened', async () => {
      const answers: ParsedResponse[] = [];
      for (const bad of ['GET / HTTP/3.0\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\n\r\n']) {
        answers.push(...(await send(bad, 1, true)).responses);
      }
      expect(answers.map((answer) => answer.body.toString())).toEqual(['HTTP Version Not Supported\r\n', 'Not Implemented\r\n']);
    });
  });
});
