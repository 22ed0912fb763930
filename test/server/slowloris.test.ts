// Memory under a slowloris: 16,000 connections each holding half of a browser's request head, then three quarters. An unfinished
// head costs the server far less than a page (the first part in a small slot, the rest left in the kernel's
// receive buffer until the head is complete), so the server's resident memory stays at most 8 MiB (x86_64;
// under qemu the emulator's own memory is excluded), and /health on another connection still answers in 10 ms.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { RawConnection, golden, normaliseDates, request, show, sleep } from '../support/http.js';
import { archs, slowdown, startServer, stopAllServers } from '../support/server.js';

/** A request head as Chromium sends it for a page (446 bytes). */
const browserHead =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nsec-ch-ua: "Chromium";v="120"\r\n' +
  'sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: "Linux"\r\nUpgrade-Insecure-Requests: 1\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n' +
  'Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n';

function residentKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** Kernel memory of all TCP sockets on the machine, in KiB (/proc/net/sockstat counts pages). */
function tcpKernelKiB(): number {
  return Number(/TCP:.* mem (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1]) * 4;
}

/** Opens a connection and sends `text`; resolves once it is written. */
function openWith(port: number, text: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text, () => resolve(socket)));
    socket.once('error', reject);
  });
}

describe.each(archs)('%s: slowloris', (arch) => {
  const slow = slowdown(arch);
  afterAll(stopAllServers);

  it('16,000 connections holding half a head, then three quarters: resident memory at most 8 MiB, /health still answers in 10 ms', { timeout: 240_000 }, async () => {
    const server = await startServer(arch, { env: { HEADER_TIMEOUT_SECONDS: '120', KEEPALIVE_SECONDS: '120' } });
    const count = 16_000;
    const half = browserHead.slice(0, browserHead.length / 2);
    const probe = await RawConnection.open(server.port);
    await probe.write(request('GET', '/health'));
    await probe.waitForResponses(1, 2000 * slow);
    const idleKiB = residentKiB(server.pid);
    const kernelBefore = tcpKernelKiB();
    const sockets: net.Socket[] = [];
    try {
      for (let opened = 0; opened < count; opened += 500) {
        sockets.push(...(await Promise.all(Array.from({ length: 500 }, () => openWith(server.port, half)))));
      }
      await sleep(1000 * slow); // the server has read every half head
      const halfKiB = residentKiB(server.pid);
      const halfKernelKiB = tcpKernelKiB() - kernelBefore;
      // Then a quarter more of the head each: it stays in the kernel until the head's end comes.
      const quarter = browserHead.slice(half.length, half.length + browserHead.length / 4);
      await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.write(quarter, resolve))));
      await sleep(1000 * slow);
      const heldKiB = residentKiB(server.pid);
      const kernelKiB = tcpKernelKiB() - kernelBefore;
      const latencies = await probe.timedHealthChecks(20, 10, 2000 * slow);
      console.log(
        `${arch}: ${count} connections; resident ${idleKiB} KiB idle; holding ${half.length} of ${browserHead.length} head bytes: ` +
          `${halfKiB} KiB (kernel TCP memory +${halfKernelKiB} KiB, machine-wide); holding ${half.length + quarter.length}: ` +
          `${heldKiB} KiB (${(((heldKiB - idleKiB) * 1024) / count).toFixed(0)} B a connection; kernel +${kernelKiB} KiB); /health median ${latencies[10].toFixed(2)} ms, max ${latencies[19].toFixed(2)} ms`,
      );
      // Every held connection is still open, and one that finishes its head gets its page.
      expect(sockets.filter((socket) => socket.destroyed || socket.readableEnded)).toEqual([]);
      const finisher = sockets[count / 2];
      let answer = '';
      finisher.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      finisher.write(browserHead.slice(half.length + quarter.length));
      const until = performance.now() + 3000 * slow;
      while (!answer.includes('</html>') && performance.now() < until) await sleep(20);
      expect(answer.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      expect(show(normaliseDates(probe.received()))).toBe(show(Buffer.concat(Array.from({ length: 21 }, () => golden('health')))));
      const limitKiB = 8 * 1024;
      for (const resident of [halfKiB, heldKiB]) {
        if (arch === 'amd64') expect(resident).toBeLessThanOrEqual(limitKiB);
        else expect(resident - idleKiB).toBeLessThanOrEqual(limitKiB); // qemu's own memory is not the server's
      }
      expect(latencies[10]).toBeLessThan(10 * slow);
    } finally {
      for (const socket of sockets) socket.destroy();
      probe.destroy();
    }
  });
});
