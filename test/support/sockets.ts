// What the kernel says about a server's connections: whether the server process still holds the socket of a
// given client (its descriptor open), from `ss` (iproute2: the socket's inode) and /proc/PID/fd. It tells when the
// server closed a connection even where the client cannot see it (a client that does not read, a lingering close).
import { execa } from 'execa';
import { readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sleep } from './http.js';

/** Socket inodes of the TCP sockets with this local and remote port, from `ss` (the kernel filters them). */
async function socketInodes(localPort: number, remotePort: number): Promise<Set<string>> {
  const { stdout } = await execa('ss', ['-tnHe', 'state', 'all', `( sport = :${localPort} and dport = :${remotePort} )`], { reject: false });
  return new Set([...stdout.matchAll(/\bino:(\d+)/g)].map((match) => match[1]).filter((inode) => inode !== '0'));
}

/** The socket inodes among process `pid`'s open descriptors (none once it has exited). */
function heldInodes(pid: number): Set<string> {
  const held = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return held; // the server has exited
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) held.add(match[1]);
    } catch {
      // closed while we looked
    }
  }
  return held;
}

/** The inode of the server's end of the connection from client port `clientPort`, if process `pid` holds it. */
export async function serverSocket(pid: number, serverPort: number, clientPort: number): Promise<string | undefined> {
  const inodes = await socketInodes(serverPort, clientPort);
  const held = heldInodes(pid);
  return [...inodes].find((inode) => held.has(inode));
}

/**
 * Polls every `everyMs` until the server holds the connection (a busy server may not have accepted it yet), then
 * until that socket is no longer among its descriptors; returns performance.now() then, or undefined if either did
 * not happen in time. (Once found, only the server's own descriptor table is read.)
 */
export async function whenServerDrops(pid: number, serverPort: number, clientPort: number, timeoutMs: number, everyMs = 20): Promise<number | undefined> {
  const end = performance.now() + timeoutMs;
  let inode: string | undefined;
  while (performance.now() < end) {
    if (inode === undefined) inode = await serverSocket(pid, serverPort, clientPort);
    else if (!heldInodes(pid).has(inode)) return performance.now();
    await sleep(everyMs);
  }
  return undefined;
}
