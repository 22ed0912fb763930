// Interleavings: stop the server (SIGSTOP) while clients and its timers move on, then let it go on (SIGCONT), so
// that closes, accepts, timeouts, half-closes and resets land in one epoll batch, in an order the test chooses.
// The tick's place in that order comes from the server's own timerfd: /proc/PID/fdinfo tells how long until it
// next fires, so the test can stop the server just before a tick, or just after one.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sleep } from './http.js';
import type { ServerHandle } from './server.js';

/** The server's tick timer: ms until it next fires (0: due, not yet read), or undefined when off (idle) or not made yet. */
export function msToNextTick(pid: number): number | undefined {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    if (target !== 'anon_inode:[timerfd]') continue;
    const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    const value = /it_value: \((\d+), (\d+)\)/.exec(info);
    const interval = /it_interval: \((\d+), (\d+)\)/.exec(info);
    if (!value || !interval) throw new Error(`no it_value or it_interval in the timerfd's fdinfo: ${info}`);
    // Without an interval the timer is off (it_value 0 too), or set once: the doze of quiet connections, whose
    // expiry is the next tick (it_value 0 once it has expired, until the server reads it).
    if (interval[1] === '0' && interval[2] === '0' && value[1] === '0' && value[2] === '0') return undefined;
    // 0 until the server reads the expiry (timerfd moves its timer on only then): the tick is due now.
    return Number(value[1]) * 1000 + Number(value[2]) / 1e6;
  }
  return undefined; // not made yet: the startup line comes before the event loop
}

/**
 * Stops the server (SIGSTOP) when its next tick is `beforeTickMs` away (give or take the scheduler's few ms), so
 * that what the test does in the first `beforeTickMs` lands before the tick in the next epoll batch, and what it
 * does later lands after it. Returns performance.now() at the stop.
 */
export async function stopBeforeTick(server: ServerHandle, beforeTickMs: number): Promise<number> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const left = msToNextTick(server.pid);
    if (left === undefined) {
      await sleep(25); // off: the server has no connection yet (or has not woken up for the new one)
      continue;
    }
    // Sleep to the moment, unless it is too close to hit (timers are late by a few ms, never early).
    const wait = left - beforeTickMs;
    if (wait >= 8) {
      await sleep(wait - 4);
      const check = msToNextTick(server.pid);
      if (check !== undefined && Math.abs(check - beforeTickMs) <= 25) return server.signal('SIGSTOP');
    } else {
      await sleep(left + 2); // past this tick: aim at the next one
    }
  }
  throw new Error(`could not stop the server ${beforeTickMs} ms before a tick (is its tick running?)`);
}

/** One thing a client does while the server is stopped, at `atMs` after the stop. */
export interface Move {
  atMs: number;
  label: string;
  run: () => void | Promise<void>;
}

/**
 * Stops the server `beforeTickMs` before a tick, makes the moves at their times, keeps it stopped until
 * `stoppedMs` after the stop, then continues it. Returns the stop time (performance.now()).
 */
export async function whileStopped(server: ServerHandle, options: { beforeTickMs: number; stoppedMs: number; moves: Move[] }): Promise<number> {
  const stoppedAt = await stopBeforeTick(server, options.beforeTickMs);
  try {
    for (const move of [...options.moves].sort((a, b) => a.atMs - b.atMs)) {
      const wait = stoppedAt + move.atMs - performance.now();
      if (wait > 0) await sleep(wait);
      await move.run();
    }
    const rest = stoppedAt + options.stoppedMs - performance.now();
    if (rest > 0) await sleep(rest);
  } finally {
    server.signal('SIGCONT');
  }
  return stoppedAt;
}
