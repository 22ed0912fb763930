// The end of the drain delay must not cut a lingering close: a client that sent more after its closing request
// and reads slowly still gets every response. Closing such a connection with its input unread sends a reset,
// and the kernel then drops what the client has not received yet. The client is Python (Debian's python3), for
// a small receive buffer (SO_RCVBUF before connect), which keeps most of the answer in the server's send queue.
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { golden, sleep } from '../support/http.js';
import { archs, builtPage, slowdown, startServer, stopAllServers } from '../support/server.js';

/** argv: port, requests. Sends them pipelined (the last closing, then 100 stray bytes), says "sent", sends 10 bytes
 * every 100 ms for 1.2 s, then reads to the end and prints what it got as JSON. */
const slowClient = `
import json, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', port))
s.sendall(b'GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n' * (count - 1) + b'GET / HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n' + b'x' * 100)
print('sent', flush=True)
for _ in range(12):
    time.sleep(0.1)
    try:
        s.send(b'y' * 10)
    except OSError:
        break
data, end = b'', 'fin'
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as error:
    end = error.strerror
print(json.dumps({'responses': data.count(b'HTTP/1.1 200 OK'), 'bytes': len(data), 'end': end}))
`;

describe.each(archs)('%s: the end of the drain', (arch) => {
  const slow = slowdown(arch);
  afterAll(stopAllServers);

  it('a lingering close that is still sending when the drain ends is not reset: the slow reader gets every page', async () => {
    const server = await startServer(arch, { env: { DRAIN_SECONDS: '1' } });
    const count = 300;
    const client = execa('python3', ['-c', slowClient, String(server.port), String(count)], { reject: false, buffer: true });
    await new Promise<void>((resolve) => client.stdout?.once('data', () => resolve()));
    await sleep(50 * slow); // every response is written: the server lingers, the kernel still holds most of them
    server.signal('SIGTERM');
    const result = await client;
    const got = JSON.parse(String(result.stdout).split('\n').filter(Boolean).pop() ?? '{}');
    const exit = await server.exited;
    console.log(`${arch}: ${count} pages asked for, lingering across the drain's end: ${JSON.stringify(got)}; exit ${exit.code}`);
    // Every response whole: the keep-alive page answers, then the closing one (Date lines have a fixed length).
    const page = (close: boolean) => golden('page-head', { arch, close }).length + builtPage(arch).length;
    expect(got).toEqual({ responses: count, bytes: (count - 1) * page(false) + page(true), end: 'fin' });
    expect(exit.code).toBe(0);
  });
});
