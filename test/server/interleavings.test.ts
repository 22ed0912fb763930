// Interleavings: events that land in one epoll batch must each act on the connection they belong to. The
// server is stopped (SIGSTOP) while clients connect, half-close, close and reset and while its timers expire, then
// continued (SIGCONT), so all of it arrives at once, in an order set against the server's own tick
// (test/support/interleave.ts). Issue 9, defect 1 and "tests that find the next one".
import { afterAll, describe, expect, it } from 'vitest';
import { type Move, whileStopped } from '../support/interleave.js';
import { RawConnection, connectionsPerTest, golden, request, show, sleep } from '../support/http.js';
import { archs, eventually, slowdown, startServer, steadyFdCount, stopAllServers, type ServerHandle } from '../support/server.js';

const kinds = ['close', 'accept', 'timeout', 'half-close', 'reset'] as const;
type Kind = (typeof kinds)[number];

describe.each(archs)('%s: interleavings in one epoll batch', (arch) => {
  const slow = slowdown(arch);
  const patience = 3000 * slow;
  const open = connectionsPerTest();
  afterAll(stopAllServers);
  const expectBytes = (actual: Buffer, expected: Buffer, label: string) => expect(show(actual), label).toBe(show(expected));

  /** Sends one request after another on the connection and expects each answered, the connection left open. */
  async function expectServed(connection: RawConnection, label: string, requests = 2) {
    const before = connection.receivedLength;
    for (let i = 1; i <= requests; i++) {
      await connection.write(request('GET', '/health'));
      await connection.waitFor(() => connection.receivedLength >= before + i * golden('health').length, patience);
    }
    expectBytes(connection.received().subarray(before), Buffer.concat(Array.from({ length: requests }, () => golden('health'))), label);
    expect(connection.ending, `${label}: still open`).toBe('open');
  }

  it('the issue\'s repro: a connection accepted after the tick closed an idle one keeps its descriptor\'s events to itself', async () => {
    const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1' } });
    const idle = await open(server.port);
    await sleep(50);
    let accepted: RawConnection | undefined;
    server.signal('SIGSTOP');
    try {
      await sleep(1500);
      accepted = await open(server.port);
      await sleep(500);
      idle.end(); // shutdown(SHUT_WR): EPOLLRDHUP for a descriptor the tick closes in the same batch
      await sleep(500);
    } finally {
      server.signal('SIGCONT');
    }
    await sleep(100 * slow);
    await expectServed(accepted, 'the accepted connection');
    expect(await idle.waitForEnd(patience)).toBe('fin');
    expect(idle.receivedLength).toBe(0);
  });

  describe('input in the same batch as the tick that finds its connection\'s deadline passed counts, if it came before', () => {
    // The server is stopped just before a tick; the client's bytes arrive after that tick fired but before the
    // deadline; the server goes on after the deadline. Its timers must judge by when input came, not by when a slow
    // turn of the loop got to it: the tick's sweep runs after the batch's other events.
    /**
     * Sends `first` and waits for its answer (if `answered`), stops the server before a tick, sends `late` while it
     * is stopped and continues it 1.8 s after the stop. Returns how long after the answer (else after `first`) `late`
     * went out; tries again (up to 5 times, on a new connection) while that is not within `withinMs`, which the
     * test's claim needs.
     */
    async function lateInput(server: ServerHandle, first: string, late: string, withinMs: number, answered = true) {
      for (let attempt = 1; ; attempt++) {
        const connection = await open(server.port);
        const firstAt = performance.now();
        await connection.write(first);
        if (answered) await connection.waitForResponses(1, patience);
        const answeredAt = answered ? performance.now() : firstAt;
        let sentAfterMs = Infinity;
        await whileStopped(server, {
          beforeTickMs: 60,
          stoppedMs: 1800,
          moves: [{ atMs: 200, label: 'late input', run: () => { sentAfterMs = performance.now() - answeredAt; return connection.write(late); } }],
        });
        if (sentAfterMs <= withinMs || attempt === 5) return { connection, sentAfterMs };
        connection.destroy();
      }
    }

    it('a request sent before the keep-alive deadline is answered, not reset', async () => {
      const server = await startServer(arch, { env: { KEEPALIVE_SECONDS: '1' } });
      const { connection, sentAfterMs } = await lateInput(server, request('GET', '/health'), request('GET', '/nope'), 900);
      const label = `request sent ${sentAfterMs.toFixed(0)} ms after the last answer (KEEPALIVE_SECONDS=1), the server continued 1.8 s after it stopped`;
      console.log(`${arch}: ${label}`);
      expect(sentAfterMs).toBeLessThanOrEqual(900);
      await connection.waitForResponses(2, patience);
      expectBytes(connection.received(), Buffer.concat([golden('health'), golden('404')]), label);
      await expectServed(connection, 'the connection afterwards', 1);
    });

    it('a head completed before its deadline is answered, not 408', async () => {
      const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '1' } });
      const { connection, sentAfterMs } = await lateInput(server, 'GET /health HTTP/1.1\r\n', 'Host: a\r\n\r\n', 900, false);
      const label = `the head's end sent ${sentAfterMs.toFixed(0)} ms after its first byte (HEADER_TIMEOUT_SECONDS=1), the server continued 1.8 s after it stopped`;
      console.log(`${arch}: ${label}`);
      expect(sentAfterMs).toBeLessThanOrEqual(900);
      await connection.waitForResponses(1, patience);
      await sleep(100 * slow);
      expectBytes(connection.received(), golden('health'), label);
      await expectServed(connection, 'the connection afterwards', 1);
    });

    it('a body\'s bytes sent before its progress deadline keep it alive', async () => {
      const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '1' } });
      const head = request('POST', '/health', ['Content-Length: 20']) + 'a'.repeat(5);
      const { connection, sentAfterMs } = await lateInput(server, head, 'b'.repeat(5), 900);
      const label = `body bytes sent ${sentAfterMs.toFixed(0)} ms after the last (HEADER_TIMEOUT_SECONDS=1), the server continued 1.8 s after it stopped`;
      console.log(`${arch}: ${label}`);
      expect(sentAfterMs).toBeLessThanOrEqual(900);
      await sleep(100 * slow);
      await connection.write('c'.repeat(10) + request('GET', '/health'));
      await connection.waitForResponses(2, patience);
      expectBytes(connection.received(), Buffer.concat([golden('405'), golden('health')]), label);
      expect(connection.ending).toBe('open');
    });
  });

  /**
   * One scenario: the events `first` and `second` land in one batch in that order, with a witness connection
   * accepted between them. A timeout is the keep-alive expiry of connection T at the tick; close, half-close and
   * reset act on T when the pair has a timeout (T's own event then comes after its descriptor was closed and
   * perhaps reused), else on a connection of their own that sent a request.
   */
  async function scenario(server: ServerHandle, first: Kind, second: Kind) {
    const label = `${first} then ${second}`;
    const pair = [first, second];
    const timeouts = pair.filter((kind) => kind === 'timeout').length;
    const expired: RawConnection[] = [];
    for (let i = 0; i < timeouts; i++) {
      const connection = await open(server.port);
      await connection.write(request('GET', '/health'));
      await connection.waitForResponses(1, patience);
      expired.push(connection);
    }
    // KEEPALIVE_SECONDS=2: T's deadline (2-2.5 s after its answer) passes during the stop, the others' do not.
    if (timeouts > 0) await sleep(1500);
    const bystander = await open(server.port);
    await bystander.write(request('GET', '/health'));
    await bystander.waitForResponses(1, patience);
    const others: { kind: Kind; connection: RawConnection }[] = [];
    const subjects: RawConnection[] = []; // per place in the pair
    for (const kind of pair) {
      if (kind === 'accept' || kind === 'timeout') continue;
      if (timeouts > 0) {
        subjects.push(expired[0]);
        continue;
      }
      const connection = await open(server.port);
      await connection.write(request('GET', '/health'));
      await connection.waitForResponses(1, patience);
      others.push({ kind, connection });
      subjects.push(connection);
    }
    const acceptedLater: RawConnection[] = [];
    let witness: RawConnection | undefined;
    const act = (kind: Kind, atMs: number): Move | undefined => {
      if (kind === 'timeout') return undefined; // the tick
      if (kind === 'accept') return { atMs, label: kind, run: async () => void acceptedLater.push(await open(server.port)) };
      const subject = subjects.shift()!;
      const actOn = (connection: RawConnection) => {
        if (kind === 'close') connection.destroy();
        else if (kind === 'reset') connection.reset();
        else connection.end();
      };
      return {
        atMs,
        label: kind,
        run: async () => {
          if (timeouts === 0 && kind !== 'reset') await subject.write(request('GET', '/health'));
          actOn(subject);
        },
      };
    };
    const moves = [act(first, 20), act(second, 600)].filter((move): move is Move => move !== undefined);
    moves.push({ atMs: 350, label: 'witness', run: async () => void (witness = await open(server.port)) });
    await whileStopped(server, { beforeTickMs: first === 'timeout' ? 40 : 150, stoppedMs: 1200, moves });
    await sleep(50 * slow);

    await expectServed(witness!, `${label}: the witness accepted in between`);
    for (const [i, connection] of acceptedLater.entries()) await expectServed(connection, `${label}: accepted connection ${i}`);
    await expectServed(bystander, `${label}: the bystander`, 1);
    for (const connection of expired) {
      expect(await connection.waitForEnd(patience), `${label}: the expired connection ends`).not.toBe('open');
      expect(connection.receivedLength, `${label}: the expired connection got its one answer, nothing more`).toBe(golden('health').length);
    }
    for (const { kind, connection } of others) {
      if (kind !== 'half-close') continue;
      expect(await connection.waitForEnd(patience), `${label}: the half-closed connection is closed`).toBe('fin');
      expectBytes(connection.received(), Buffer.concat([golden('health'), golden('health')]), `${label}: the half-closed connection's answers`);
    }
    for (const connection of [witness!, ...acceptedLater, bystander, ...expired, ...others.map((other) => other.connection)]) connection.destroy();
  }

  it('every ordered pair of close, accept, timeout, half-close and reset, with an accept between them', async () => {
    const pairs = kinds.flatMap((first) => kinds.map((second) => [first, second] as const));
    // Five servers take the 25 scenarios in turns; each scenario stops its own server only.
    const servers = await Promise.all(Array.from({ length: 5 }, () => startServer(arch, { env: { KEEPALIVE_SECONDS: '2' } })));
    const baselines = await Promise.all(servers.map((server) => steadyFdCount(server, 1000)));
    const failures: string[] = [];
    await Promise.all(
      servers.map(async (server, index) => {
        for (const [first, second] of pairs.filter((_, i) => i % servers.length === index)) {
          await scenario(server, first, second).catch((error: Error) => failures.push(error.message.split('\n')[0]));
        }
      }),
    );
    expect(failures).toEqual([]);
    // Every descriptor comes back (closing answers linger up to 2 s), and each server still answers.
    for (const [index, server] of servers.entries()) {
      expect(await eventually(() => server.fdCount() === baselines[index], 4000 * slow, 50), `server ${index}'s descriptors`).toBe(true);
      await expectServed(await open(server.port), `server ${index} afterwards`, 1);
    }
  }, 240_000);
});
