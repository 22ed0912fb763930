// What the kernel says about a server's connections: whether the server process still holds the socket of a
// given client (its descriptor open), read from /proc/net/tcp{,6} and /proc/PID/fd. It tells when the server
// closed a connection even where the client cannot see it (a client that does not read, a lingering close).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sleep } from './http.js';

/** Socket inodes of the TCP sockets with this local and remote port (hex fields of /proc/net/tcp and tcp6). */
function socketInodes(localPort: number, remotePort: number): Set<string> {
  const found = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const local = parseInt(fields[1].split(':')[1], 16);
      const remote = parseInt(fields[2].split(':')[1], 16);
      if (local === localPort && remote === remotePort && fields[9] !== '0') found.add(fields[9]);
    }
  }
  return found;
}

/** Whether process `pid` holds an open descriptor on its end of the connection from client port `clientPort`. */
export function serverHolds(pid: number, serverPort: number, clientPort: number): boolean {
  const inodes = socketInodes(serverPort, clientPort);
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // the server has exited
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match && inodes.has(match[1])) return true;
    } catch {
      // closed while we looked
    }
  }
  return false;
}

/** Polls every `everyMs` until the server no longer holds the connection; returns performance.now() then. */
export async function whenServerDrops(pid: number, serverPort: number, clientPort: number, timeoutMs: number, everyMs = 20): Promise<number | undefined> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (!serverHolds(pid, serverPort, clientPort)) return performance.now();
    await sleep(everyMs);
  }
  return undefined;
}
