// Contract points 3, 4 and 6 under hostile input: a table of hand-written malformed or abusive requests, each
// with the exact answer docs/server.md prescribes (a golden response) or a silent clean close. After every
// answer that keeps the connection, a second request shows the connection is still in step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, golden, request, show } from '../support/http.js';
import { hostileCases, type Expected } from '../support/hostile-cases.js';
import { archs, builtPage, slowdown, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

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
