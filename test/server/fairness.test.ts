// Fairness: one client that sends as fast as it can (a large body, discarded by the server) must not delay
// another. The uploader runs in its own process, so its writing does not delay the measuring client here.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, golden, normaliseDates, request, sleep } from '../support/http.js';
import { archs, slowdown, startServer, stopAllServers } from '../support/server.js';

/** Node code that sends a head (argv[2]), then bytes as fast as the socket takes them. */
const uploader = `
const options = { port: Number(process.argv[1]), host: '127.0.0.1', allowHalfOpen: true }; // sends on after a FIN
const socket = require('node:net').connect(options, () => {
  socket.write(process.argv[2]);
  const chunk = Buffer.alloc(1 << 20, 'x');
  let sent = 0;
  const pump = () => { while (socket.write(chunk)) sent += chunk.length; sent += chunk.length; };
  socket.on('drain', pump);
  pump();
  setInterval(() => console.log(sent), 250);
});
socket.on('error', () => process.exit(0));
`;

/** A request whose body the server reads and discards: as long as a client may send. */
const endlessBody = request('POST', '/health', ['Content-Length: 999999999999999']);

/** Starts the uploader against a port; `uploaded()` is what it has written so far. */
function startUploader(port: number, head = endlessBody) {
  const upload = execa(process.execPath, ['-e', uploader, String(port), head], { reject: false, buffer: false });
  let uploaded = 0;
  upload.stdout?.on('data', (text: Buffer) => (uploaded = Number(text.toString().trim().split('\n').pop())));
  return {
    uploaded: () => uploaded,
    async stop() {
      upload.kill('SIGKILL');
      await upload;
    },
  };
}

/** The longest run of reads from one descriptor with no epoll wait between them, in an strace log. */
function longestReadRun(log: string): { fd: number; reads: number } {
  let longest = { fd: -1, reads: 0 };
  let current = { fd: -1, reads: 0 };
  for (const line of log.split('\n')) {
    const read = /^(?:\d+ +)?read\((\d+),/.exec(line);
    if (read) {
      const fd = Number(read[1]);
      current = fd === current.fd ? { fd, reads: current.reads + 1 } : { fd, reads: 1 };
      if (current.reads > longest.reads) longest = current;
    } else if (/epoll_p?wait/.test(line)) {
      current = { fd: -1, reads: 0 };
    }
  }
  return longest;
}

describe.each(archs)('%s: fairness', (arch) => {
  const slow = slowdown(arch);
  afterAll(stopAllServers);

  it.each([
    ['a body the server discards', endlessBody, 8],
    // Bytes right after the request, so that the server sees more input coming and lingers; the read that
    // brought the request comes before the lingering close's own 8.
    ['input after a closing response, while the server lingers', request('GET', '/health', ['Connection: close']) + 'x'.repeat(4096), 1 + 8],
  ] as const)('a connection whose input keeps coming (%s) is read at most 8 times (64 KiB) before the others get their turn', async (what, head, most) => {
    // Under strace the server is slower than the uploader, so its socket never runs dry: a server that reads
    // until EAGAIN would read it forever, and the probe below would wait.
    const folder = mkdtempSync(path.join(tmpdir(), 'fairness-'));
    const log = path.join(folder, 'strace.log');
    try {
      const server = await startServer(arch, {
        env: { HEADER_TIMEOUT_SECONDS: '60' },
        prefix: ['strace', '-D', '-f', '-qq', '-s', '0', '-o', log, '-e', 'trace=read,epoll_pwait,epoll_wait', '--'],
      });
      const probe = await RawConnection.open(server.port);
      const upload = startUploader(server.port, head);
      try {
        await sleep(300);
        for (let i = 0; i < 5; i++) {
          await probe.write(request('GET', '/health'));
          await probe.waitForResponses(i + 1, 2000 * slow);
          await sleep(50);
        }
        expect(normaliseDates(probe.received())).toEqual(Buffer.concat(Array.from({ length: 5 }, () => golden('health'))));
      } finally {
        await upload.stop();
        probe.destroy();
        await server.stop();
      }
      const run = longestReadRun(readFileSync(log, 'utf8'));
      console.log(`${arch}: ${what}: longest run of reads from one descriptor between two epoll waits: ${run.reads} (descriptor ${run.fd})`);
      expect(run.reads).toBeGreaterThan(1);
      expect(run.reads).toBeLessThanOrEqual(most);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('while one client uploads a body as fast as it can, /health on another connection answers within 10 ms', async () => {
    const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '60' } });
    const probe = await RawConnection.open(server.port);
    const upload = startUploader(server.port);
    try {
      await sleep(500); // the upload is in full flow
      const uploadedBefore = upload.uploaded();
      const measuredFrom = performance.now();
      const latencies = await probe.timedHealthChecks(60, 20, 2000 * slow);
      const seconds = (performance.now() - measuredFrom) / 1000;
      const rate = (upload.uploaded() - uploadedBefore) / seconds / 2 ** 20;
      console.log(
        `${arch}: /health during a full-speed upload (${rate.toFixed(0)} MiB/s): median ${latencies[30].toFixed(2)} ms, ` +
          `p95 ${latencies[56].toFixed(2)} ms, max ${latencies[59].toFixed(2)} ms`,
      );
      expect(normaliseDates(probe.received())).toEqual(Buffer.concat(Array.from({ length: 60 }, () => golden('health'))));
      expect(rate).toBeGreaterThan(10); // the upload really flowed while we measured
      // The median: on a shared 2-core machine the uploader, this process and others compete for the CPU, and
      // single answers wait for the scheduler whatever the server does (the run above bounds the server itself).
      expect(latencies[30]).toBeLessThan(10 * slow);
    } finally {
      await upload.stop();
      probe.destroy();
    }
  });
});
