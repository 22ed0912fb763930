// Opens many idle TCP connections to a server and holds them, for the benchmark's memory-under-connections figure.
// A separate process so its descriptors do not count against the benchmark's own open-file limit.
//
//   tsx bench/hold-connections.ts PORT COUNT [PARALLEL]
//
// Prints {"opened":N,"failed":N} once every connection is up (or failed), then waits. A line on stdin makes it
// print {"open":N} (connections the server has not closed meanwhile) and exit, which closes them all.
import net from 'node:net';
import readline from 'node:readline';

const [port, count, parallel = 200] = process.argv.slice(2).map(Number);
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
      resolve();
    });
    socket.on('error', () => {}); // a reset after connecting shows up as 'close' below
    socket.once('close', () => {
      if (connected) closedByServer++;
      else {
        failed++;
        resolve();
      }
    });
    socket.resume(); // an idle connection receives nothing, but never let a stray byte stall it
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
