// Randomized hostile input (seeded): hundreds of thousands of mutated, random and well-formed request heads,
// pipelined a few per connection over many parallel connections. Every answer must be a response the contract
// allows, byte for byte (each Date value checked against the clock, then normalised), or a clean close (FIN, no
// reset, no hang), and the server must still serve afterwards.
// FUZZ_SEED replays a run; FUZZ_COUNT sets the number of heads per architecture.
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { batch, type HeadKind } from '../support/fuzz.js';
import { BadDate, MalformedResponse, allowedResponses, converse, exchange, golden, parseResponses, request, show, type ConversationEnding } from '../support/http.js';
import { archs, builtPage, eventually, slowdown, startServer, steadyFdCount, steadyValue, stopAllServers, type Arch } from '../support/server.js';

/**
 * Heads per architecture by default. The test client, not the server, sets the pace (about 13,000-20,000 heads/s
 * here on two cores, under emulation too), so arm64 gets the full count: about 25 s each.
 */
const defaultCount: Record<Arch, number> = { amd64: 300_000, arm64: 300_000 };
const parallelConnections = 48;

describe.each(archs)('%s: randomized hostile input', (arch) => {
  afterAll(stopAllServers);

  it('answers every head with allowed responses or a clean close, and still serves', { timeout: 600_000 }, async () => {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
    const count = process.env.FUZZ_COUNT ? Number(process.env.FUZZ_COUNT) : defaultCount[arch];
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(count) || count < 1) {
      throw new Error(`FUZZ_SEED and FUZZ_COUNT must be whole numbers (count at least 1), got ${process.env.FUZZ_SEED}, ${process.env.FUZZ_COUNT}`);
    }
    console.log(`${arch}: fuzz seed ${seed} (replay with FUZZ_SEED=${seed}), ${count} heads`);
    // With the access log on: whatever the heads hold, every line it writes must still be JSON (JSON.parse says).
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '2', HEADER_TIMEOUT_SECONDS: '2', ACCESS_LOG: 'json' } });
    // The baseline is the idle server in its loop: the startup line comes before the loop opens its epoll, timer,
    // signal and spare descriptors, so a count taken at once may miss them. One request, then a steady count.
    await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: 3000 * slowdown(arch) });
    const baselineDescriptors = await steadyFdCount(server, 2000 * slowdown(arch));
    let exited = false;
    void server.exited.then(() => (exited = true));
    const allowed = allowedResponses(arch, builtPage(arch));
    // Longest a connection may take: the 2 s head timeout plus the 2 s drain after a closing answer, and slack.
    const hangMs = 8000 * slowdown(arch);

    let nextConnection = 0;
    let headsSent = 0;
    const headsByKind: Record<HeadKind, number> = { 'well-formed': 0, mutated: 0, random: 0 };
    const statuses = new Map<number, number>();
    const endings = new Map<string, number>();
    const failures: string[] = [];

    const judge = (received: Buffer, ending: ConversationEnding): string | null => {
      if (ending !== 'fin') return `the connection ended with ${ending}, not a clean close`;
      let parsed;
      try {
        parsed = parseResponses(received, () => 'unknown');
      } catch (error) {
        if (error instanceof MalformedResponse) return `malformed answer: ${error.message}`;
        throw error;
      }
      if (parsed.rest.length > 0) return `an incomplete response at the end (${parsed.rest.length} bytes)`;
      for (const [index, response] of parsed.responses.entries()) {
        let known;
        try {
          known = allowed.get(response.raw); // Date checked, then normalised
        } catch (error) {
          if (error instanceof BadDate) return `response ${index}: ${error.message}`;
          throw error;
        }
        if (!known) return `response ${index} is not one the contract allows:\n${show(response.raw).slice(0, 600)}`;
        if (known.close && index !== parsed.responses.length - 1) return `response ${index} says close, yet more followed`;
        statuses.set(known.status, (statuses.get(known.status) ?? 0) + 1);
      }
      return null;
    };

    const started = performance.now();
    const worker = async () => {
      while (headsSent < count && failures.length < 5 && !exited) {
        const index = nextConnection++;
        const { heads, kinds } = batch(seed, index);
        headsSent += heads.length;
        for (const kind of kinds) headsByKind[kind]++;
        const sent = Buffer.concat(heads);
        const { received, ending } = await converse(server.port, sent, hangMs);
        endings.set(ending, (endings.get(ending) ?? 0) + 1);
        const problem = judge(received, ending);
        if (problem) {
          failures.push(`connection ${index} (seed ${seed}): ${problem}\nsent: ${JSON.stringify(sent.toString('latin1').slice(0, 2000))}\nreceived: ${JSON.stringify(received.toString('latin1').slice(0, 2000))}`);
        }
      }
    };
    await Promise.all(Array.from({ length: parallelConnections }, worker));
    const seconds = (performance.now() - started) / 1000;
    const responses = [...statuses.values()].reduce((sum, n) => sum + n, 0);
    console.log(
      `${arch}: fuzz seed ${seed}: ${headsSent} heads (${JSON.stringify(headsByKind)}) on ${nextConnection} connections ` +
        `in ${seconds.toFixed(1)} s (${Math.round(headsSent / seconds)} heads/s); ${responses} responses by status ` +
        `${JSON.stringify(Object.fromEntries([...statuses].sort()))}; endings ${JSON.stringify(Object.fromEntries(endings))}`,
    );

    expect(exited, 'the server died during the fuzz').toBe(false);
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(headsSent).toBeGreaterThanOrEqual(count);
    // Still serving, byte for byte, and every connection's descriptor released.
    const after = await exchange(server.port, request('GET', '/health'), { responses: 1, timeoutMs: 3000 * slowdown(arch) });
    expect(show(after.bytes)).toBe(show(golden('health')));
    expect(await eventually(() => server.fdCount() === baselineDescriptors, 5000 * slowdown(arch), 50)).toBe(true);

    // Every response has its log line, or is counted as a dropped line: the fuzz's, and the two /health.
    const accessLines = () => server.stdout().split('\n').filter((line) => line !== '' && !line.includes('"event":'));
    const lineCount = await steadyValue(() => accessLines().length, 5000 * slowdown(arch), 300);
    const scrape = await exchange(server.port, request('GET', '/metrics'), { responses: 1, timeoutMs: 3000 * slowdown(arch) });
    const dropped = Number(/^asm_web_service_access_log_dropped_lines_total (\d+)$/m.exec(scrape.responses[0].body.toString())?.[1]);
    const lines = accessLines().slice(0, lineCount).map((line) => JSON.parse(line) as { status: number; path: string });
    console.log(`${arch}: access log: ${lines.length} lines, ${dropped} dropped, for ${responses + 2} responses`);
    expect(lines.length + dropped).toBe(responses + 2);
    const logged = new Map<number, number>();
    for (const line of lines) logged.set(line.status, (logged.get(line.status) ?? 0) + 1);
    if (dropped === 0) {
      statuses.set(200, (statuses.get(200) ?? 0) + 2);
      expect(Object.fromEntries([...logged].sort())).toEqual(Object.fromEntries([...statuses].sort()));
    }
  });
});
