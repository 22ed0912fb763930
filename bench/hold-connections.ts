// Opens many idle TCP connections to a server and holds them, for the benchmark's memory-under-connections figure.
// A separate process so its descriptors do not count against the benchmark's own open-file limit.
//
//   tsx bench/hold-connections.ts PORT COUNT [PARALLEL] [idle|keep-alive|half-head|long-head]
//
// idle (the default) sends nothing; keep-alive sends one request and holds the connection once the response has
// arrived (an idle keep-alive connection); half-head sends the first half of a request head and nothing more
// (a slowloris client); long-head sends 7,000 bytes of a head without its end (the worst case for a server that
// keeps unfinished heads in its own memory).
// Prints {"opened":N,"failed":N} once every connection is up (or failed), then waits. A line on stdin makes it
// print {"open":N} (connections the server has not closed meanwhile) and exit, which closes them all.
import net from 'node:net';
import readline from 'node:readline';

const [port, count, parallel = 200] = process.argv.slice(2, 5).map(Number);
const kind = process.argv[5] ?? 'idle';
const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const HALF_HEAD = 'GET / HTTP/1.1\r\nHost: 127.0';
const LONG_HEAD = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'p'.repeat(7000 - 46)}\r\n`;
if (!['idle', 'keep-alive', 'half-head', 'long-head'].includes(kind)) {
  console.error(`hold-connections: unknown kind ${kind} (expected idle, keep-alive, half-head or long-head)`);
  process.exit(2);
}
if (!port || !count) {
  console.error('usage: tsx bench/hold-connections.ts PORT COUNT [PARALLEL]');
  process.exit(2);
}

let opened = 0;
let failed = 0;
let closedByServer = 0;

/** One connection; resolves when it is established or has failed, so at most PARALLEL handshakes are in flight. */
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    // A full accept queue drops SYNs, and the kernel retries them for two minutes: give up sooner.
    const handshakeTimer = setTimeout(() => socket.destroy(), 10_000);
    socket.once('connect', () => {
      clearTimeout(handshakeTimer);
      connected = true;
      opened++;
      if (kind === 'keep-alive') {
        socket.write(REQUEST);
        // Held once the whole response (its head and Content-Length bytes) has arrived.
        let received = '';
        const onData = (chunk: Buffer) => {
          received += chunk.toString('latin1');
          const headEnd = received.indexOf('\r\n\r\n');
          const length = Number(/content-length: *(\d+)/i.exec(received)?.[1] ?? NaN);
          if (headEnd >= 0 && received.length >= headEnd + 4 + length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
        return;
      }
      if (kind === 'half-head') socket.write(HALF_HEAD);
      if (kind === 'long-head') socket.write(LONG_HEAD);
      resolve();
    });
    socket.on('error', () => {}); // a reset after connecting shows up as 'close' below
    socket.once('close', () => {
      if (connected) {
        closedByServer++;
        resolve(); // a keep-alive connection closed before its response came must not hold its lane
      } else {
        failed++;
        resolve();
      }
    });
    if (kind !== 'keep-alive') socket.resume(); // an idle connection receives nothing, but never let a stray byte stall it
  });
}

let started = 0;
async function lane() {
  while (started < count) {
    started++;
    await openOne();
  }
}

await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
console.log(JSON.stringify({ opened, failed }));

const control = readline.createInterface({ input: process.stdin });
control.once('line', () => {
  console.log(JSON.stringify({ open: opened - closedByServer }));
  process.exit(0); // the kernel closes every socket at exit
});
control.once('close', () => process.exit(0)); // the benchmark went away
