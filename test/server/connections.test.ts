// Contract point 4: persistent connections (HTTP/1.1 and 1.0, the Connection token list), pipelining in order,
// requests split anywhere (down to one byte at a time), and request bodies that never desynchronise a connection.
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, exchange, golden, request, show, sleep } from '../support/http.js';
import { archs, builtPage, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

/** Small deterministic PRNG (mulberry32) so split points are reproducible. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(archs)('%s: connections (point 4)', (arch) => {
  let server: ServerHandle;
  const patience = 3000 * slowdown(arch);
  const page = () => Buffer.concat([golden('page-head', { arch }), builtPage(arch)]);
  const expectBytes = (actual: Buffer, expected: Buffer) => expect(show(actual)).toBe(show(expected));

  beforeAll(async () => {
    server = await startServer(arch);
  });
  afterAll(stopAllServers);

  describe('persistence', () => {
    it('an HTTP/1.1 connection serves request after request and stays open', async () => {
      const connection = await RawConnection.open(server.port);
      try {
        for (let i = 1; i <= 5; i++) {
          await connection.write(request('GET', i % 2 ? '/health' : '/nope'));
          await connection.waitForResponses(i, patience);
        }
        const expected = [1, 2, 3, 4, 5].map((i) => golden(i % 2 ? 'health' : '404'));
        expectBytes(connection.received(), Buffer.concat(expected));
        await sleep(200);
        expect(connection.ending).toBe('open');
      } finally {
        connection.destroy();
      }
    });

    it.each(['close', 'CLOSE', 'Close', 'keep-alive, close', 'foo,close', ' close ', 'upgrade ,\tclose'])(
      'HTTP/1.1 with Connection: %j closes after the answer',
      async (value) => {
        const { bytes, ending } = await exchange(server.port, request('GET', '/health', [`Connection:${value}`]) + request('GET', '/health'), {
          responses: 1,
          untilEnd: true,
          timeoutMs: patience,
        });
        expectBytes(bytes, golden('health', { close: true }));
        expect(ending).toBe('fin');
      },
    );

    it.each(['keep-alive', 'closed', 'upgrade', 'clos', 'close-ish'])('HTTP/1.1 with Connection: %s stays open', async (value) => {
      const { bytes, ending } = await exchange(server.port, request('GET', '/health', [`Connection: ${value}`]) + request('GET', '/health'), {
        responses: 2,
        timeoutMs: patience,
      });
      expectBytes(bytes, Buffer.concat([golden('health'), golden('health')]));
      expect(ending).toBe('open');
    });

    it('HTTP/1.0 closes by default, with or without Host', async () => {
      for (const headers of [[], ['Host: 127.0.0.1']]) {
        const { bytes, ending } = await exchange(server.port, request('GET', '/health', headers, 'HTTP/1.0') + request('GET', '/health'), {
          responses: 1,
          untilEnd: true,
          timeoutMs: patience,
        });
        expectBytes(bytes, golden('health', { close: true }));
        expect(ending).toBe('fin');
      }
    });

    it.each(['keep-alive', 'Keep-Alive', 'foo, keep-alive'])('HTTP/1.0 with Connection: %s stays open', async (value) => {
      const twice = request('GET', '/health', [`Connection: ${value}`], 'HTTP/1.0').repeat(2);
      const { bytes, ending } = await exchange(server.port, twice, { responses: 2, timeoutMs: patience });
      expectBytes(bytes, Buffer.concat([golden('health'), golden('health')]));
      expect(ending).toBe('open');
    });

    it('HTTP/1.0 errors and the page close too', async () => {
      const { bytes, ending } = await exchange(server.port, request('GET', '/', [], 'HTTP/1.0'), {
        responses: 1,
        untilEnd: true,
        timeoutMs: patience,
      });
      expectBytes(bytes, Buffer.concat([golden('page-head', { arch, close: true }), builtPage(arch)]));
      expect(ending).toBe('fin');
    });
  });

  describe('pipelining and split requests', () => {
    it('undici with pipelining 10: 40 requests on one connection, answered in order', async () => {
      const client = new Client(`http://127.0.0.1:${server.port}`, { pipelining: 10 });
      let connects = 0;
      client.on('connect', () => connects++);
      try {
        const paths = Array.from({ length: 40 }, (_, i) => ['/health', '/', '/nope', '/health?n=' + i][i % 4]);
        const answers = await Promise.all(
          paths.map(async (path) => {
            const response = await client.request({ path, method: 'GET' });
            return { status: response.statusCode, body: await response.body.text() };
          }),
        );
        expect(answers.map((answer) => answer.status)).toEqual(paths.map((path) => (path === '/nope' ? 404 : 200)));
        expect(answers.map((answer) => answer.body)).toEqual(
          paths.map((path) => (path === '/nope' ? 'Not Found\r\n' : path === '/' ? builtPage(arch).toString() : 'OK')),
        );
        expect(connects).toBe(1);
      } finally {
        await client.close();
      }
    });

    it('100 pipelined requests in one write come back in order, byte for byte', async () => {
      const kinds = ['health', 'page', '404', '405', 'head'] as const;
      const requestFor = { health: request('GET', '/health'), page: request('GET', '/'), '404': request('GET', '/x'), '405': request('PUT', '/'), head: request('HEAD', '/health') };
      const answerFor = { health: golden('health'), page: page(), '404': golden('404'), '405': golden('405'), head: golden('health-head') };
      const order = Array.from({ length: 100 }, (_, i) => kinds[(i * 7) % kinds.length]);
      const { bytes } = await exchange(server.port, order.map((kind) => requestFor[kind]).join(''), {
        responses: 100,
        timeoutMs: patience * 2,
        isHead: (index) => order[index] === 'head',
      });
      expectBytes(bytes, Buffer.concat(order.map((kind) => answerFor[kind])));
    });

    it('a request sent one byte at a time is served', async () => {
      const connection = await RawConnection.open(server.port);
      try {
        await connection.writeByteByByte(request('GET', '/health?slow=1'));
        await connection.waitForResponses(1, patience);
        expectBytes(connection.received(), golden('health'));
      } finally {
        connection.destroy();
      }
    });

    it('a request with bare LF line ends, one byte at a time, then a pipelined pair split byte by byte', async () => {
      const connection = await RawConnection.open(server.port);
      try {
        await connection.writeByteByByte('GET /health HTTP/1.1\nHost: x\n\n');
        await connection.writeByteByByte(request('GET', '/nope') + request('HEAD', '/health'), 0);
        await connection.waitForResponses(3, patience, (index) => index === 2);
        expectBytes(connection.received(), Buffer.concat([golden('health'), golden('404'), golden('health-head')]));
      } finally {
        connection.destroy();
      }
    });

    it('30 pipelined requests cut at random points into many writes', async () => {
      const random = seeded(20261128);
      const stream = Buffer.from(Array.from({ length: 30 }, (_, i) => request(i % 3 ? 'GET' : 'DELETE', i % 2 ? '/health' : '/nope')).join(''), 'latin1');
      const connection = await RawConnection.open(server.port);
      try {
        for (let offset = 0; offset < stream.length; ) {
          const size = 1 + Math.floor(random() * 40);
          await connection.write(stream.subarray(offset, offset + size));
          offset += size;
          if (random() < 0.2) await sleep(2);
        }
        await connection.waitForResponses(30, patience);
        const expected = Array.from({ length: 30 }, (_, i) => (i % 2 ? (i % 3 ? golden('health') : golden('405')) : golden('404')));
        expectBytes(connection.received(), Buffer.concat(expected));
      } finally {
        connection.destroy();
      }
    });
  });

  describe('request bodies never desynchronise the connection', () => {
    it('a body declared with Content-Length is discarded and the next request is answered', async () => {
      const bytes = request('POST', '/health', ['Content-Length: 5']) + 'hello' + request('GET', '/health');
      const answer = await exchange(server.port, bytes, { responses: 2, timeoutMs: patience });
      expectBytes(answer.bytes, Buffer.concat([golden('405'), golden('health')]));
    });

    it('a body that looks like a request is not answered as one (no smuggling)', async () => {
      const hidden = request('GET', '/nope');
      for (const name of ['Content-Length', 'content-length', 'CONTENT-LENGTH']) {
        const bytes = request('POST', '/', [`${name}: ${hidden.length}`]) + hidden + request('GET', '/health');
        const answer = await exchange(server.port, bytes, { responses: 3, timeoutMs: 600 * slowdown(arch) });
        expectBytes(answer.bytes, Buffer.concat([golden('405'), golden('health')]));
      }
    });

    it('GET with a body, Content-Length: 0, and padded Content-Length values', async () => {
      const bytes =
        request('GET', '/health', ['Content-Length: 3']) + 'abc' +
        request('GET', '/nope', ['Content-Length: 0']) +
        request('GET', '/health', ['Content-Length:   4 \t']) + 'wxyz' +
        request('GET', '/health', ['Content-Length: 000000000000002']) + 'hi' +
        request('GET', '/health');
      const answer = await exchange(server.port, bytes, { responses: 5, timeoutMs: patience });
      expectBytes(answer.bytes, Buffer.concat([golden('health'), golden('404'), golden('health'), golden('health'), golden('health')]));
    });

    it('a body arriving in pieces, with pauses, is still discarded exactly', async () => {
      const connection = await RawConnection.open(server.port);
      try {
        await connection.write(request('POST', '/health', ['Content-Length: 12']));
        for (const piece of ['GET ', '/nope', ' HT']) {
          await sleep(30);
          await connection.write(piece);
        }
        await connection.write(request('GET', '/health'));
        await connection.waitForResponses(3, 600 * slowdown(arch));
        expectBytes(connection.received(), Buffer.concat([golden('405'), golden('health')]));
      } finally {
        connection.destroy();
      }
    });

    it('a 1 MiB body is read and discarded, then the connection serves on', async () => {
      const body = Buffer.alloc(1024 * 1024, 'G');
      const bytes = Buffer.concat([Buffer.from(request('PUT', '/', [`Content-Length: ${body.length}`])), body, Buffer.from(request('GET', '/health'))]);
      const answer = await exchange(server.port, bytes, { responses: 2, timeoutMs: patience * 3 });
      expectBytes(answer.bytes, Buffer.concat([golden('405'), golden('health')]));
    });

    it.each([
      ['chunked', ['Transfer-Encoding: chunked']],
      ['chunked with Content-Length', ['Content-Length: 5', 'Transfer-Encoding: chunked']],
      ['Content-Length after chunked', ['Transfer-Encoding: chunked', 'Content-Length: 0']],
      ['identity', ['transfer-encoding: identity']],
      ['gzip, chunked', ['Transfer-Encoding: gzip, chunked']],
    ])('Transfer-Encoding %s: 501 and close, the chunk is never parsed as a request', async (_what, headers) => {
      const hidden = request('GET', '/nope');
      const chunked = request('POST', '/', headers as string[]) + `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n` + request('GET', '/health');
      const answer = await exchange(server.port, chunked, { untilEnd: true, timeoutMs: patience });
      expectBytes(answer.bytes, golden('501'));
      expect(answer.ending).toBe('fin');
    });

    it.each([
      ['two Content-Length headers', ['Content-Length: 5', 'Content-Length: 5']],
      ['a list', ['Content-Length: 5, 5']],
      ['a sign', ['Content-Length: +5']],
      ['negative', ['Content-Length: -5']],
      ['16 digits', ['Content-Length: 1000000000000000']],
      ['empty', ['Content-Length:']],
      ['hex', ['Content-Length: 0x5']],
      ['inner space', ['Content-Length: 1 2']],
    ])('Content-Length with %s is 400 and close', async (_what, headers) => {
      const bytes = request('POST', '/', headers as string[]) + 'hello' + request('GET', '/nope');
      const answer = await exchange(server.port, bytes, { untilEnd: true, timeoutMs: patience });
      expectBytes(answer.bytes, golden('400'));
      expect(answer.ending).toBe('fin');
    });
  });
});
