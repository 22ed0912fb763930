// Small raw-socket HTTP/1.1 clients for the benchmark: wait for a port, fetch one exact response, and send a
// fixed number of sequential requests (for instruction counts, where the count must be exact, unlike wrk's).
import net from 'node:net';

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after timeoutMs or when gone() says so. */
export async function waitForPort(port: number, timeoutMs: number, gone: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    const why = gone();
    if (why !== undefined) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends `request` on a new connection and returns every byte received until the server closes it. */
export function fetchRaw(port: number, request: string, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(request));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no complete response from port ${port}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Splits a raw response into its head (up to and including the empty line) and body. */
export function splitResponse(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(raw.subarray(0, 80).toString('latin1'))}`);
  return { head: raw.subarray(0, end + 4).toString('latin1'), body: raw.subarray(end + 4) };
}

/** Length in bytes of the first complete response in buf (head plus Content-Length body), or 0 if incomplete. */
function completeResponseLength(buf: Buffer): number {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return 0;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
  if (!length) throw new Error('response without Content-Length');
  const total = end + 4 + Number(length[1]);
  return buf.length >= total ? total : 0;
}

/**
 * Sends `perConnection` GET / requests one after another (each after the previous response is complete) on each of
 * `connections` connections, `parallel` connections at a time. With close, each request says `Connection: close`
 * and gets its own connection (perConnection must then be 1). Resolves with the number of 200 responses.
 */
export async function sendSequentialRequests(
  port: number,
  options: { connections: number; perConnection: number; close: boolean; parallel: number },
): Promise<number> {
  const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${options.close ? 'Connection: close\r\n' : ''}\r\n`;
  let ok = 0;
  const oneConnection = () =>
    new Promise<void>((resolve, reject) => {
      let pending = Buffer.alloc(0);
      let answered = 0;
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(request));
      socket.setTimeout(60_000, () => socket.destroy(new Error('request timed out')));
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (let length = completeResponseLength(pending); length > 0; length = completeResponseLength(pending)) {
          if (pending.subarray(0, 13).toString('latin1') === 'HTTP/1.1 200 ') ok++;
          pending = pending.subarray(length);
          answered++;
          if (answered < options.perConnection) socket.write(request);
          else if (!options.close) socket.end();
        }
      });
      socket.once('error', reject);
      socket.once('close', () => (answered === options.perConnection ? resolve() : reject(new Error(`connection closed after ${answered} responses`))));
    });
  let started = 0;
  const lane = async () => {
    while (started < options.connections) {
      started++;
      await oneConnection();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, options.connections) }, lane));
  return ok;
}
