// Readers of /proc for the benchmark: a server's process tree, its resident memory, CPU time, open sockets and
// write counters, and the per-core busy time of the machine. Linux only, like the server.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc (USER_HZ, 100 on every Linux architecture we build for). */
const USER_HZ = 100;

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process exited between listing and reading
  }
}

/** Fields of /proc/PID/stat after the command name (which may contain spaces): index 0 is the state. */
function statFields(pid: number): string[] {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const end = stat.lastIndexOf(')');
  return end < 0 ? [] : stat.slice(end + 2).trim().split(' ');
}

/** The process and all its descendants (a server's master and workers), root first. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields.length < 2 || fields[0] === 'Z') continue; // zombies hold no memory
    const parent = Number(fields[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.shift()!;
    const state = statFields(pid)[0];
    if (state === undefined || state === 'Z') continue;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The parent of a process (0 if it is gone). */
export function parentPid(pid: number): number {
  return Number(statFields(pid)[1] ?? 0);
}

/** VmRSS of one process in KiB (0 if it is gone). */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readOrEmpty(`/proc/${pid}/status`));
  return match ? Number(match[1]) : 0;
}

/**
 * Resident KiB of one process per mapping (file path, [stack], [heap], [vdso]; anonymous ones as [anon]), from
 * /proc/PID/smaps, largest first: where a small server's resident pages go.
 */
export function rssByMapping(pid: number): Record<string, number> {
  const byName = new Map<string, number>();
  let name = '';
  for (const line of readOrEmpty(`/proc/${pid}/smaps`).split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      name = mapping[1] || '[anon]';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss && Number(rss[1]) > 0) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]));
  }
  return Object.fromEntries([...byName].sort((a, b) => b[1] - a[1]));
}

/** The thread ids of one process (its tasks); empty when it is gone. */
function tasks(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU seconds one process has used so far, all its threads: the scheduler's nanosecond run time
 * (/proc/PID/task/TID/schedstat), else utime + stime in clock ticks, whose 10 ms steps are too coarse to tell a few
 * microseconds per request over a short paced run.
 */
export function cpuSeconds(pid: number): number {
  let nanoseconds = 0;
  let counted = false;
  for (const tid of tasks(pid)) {
    const field = readOrEmpty(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0];
    if (field) {
      nanoseconds += Number(field);
      counted = true;
    }
  }
  if (counted) return nanoseconds / 1e9;
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of stat, so 11 and 12 after the name.
  return fields.length > 12 ? (Number(fields[11]) + Number(fields[12])) / USER_HZ : 0;
}

/** Voluntary plus involuntary context switches of one process so far, all its threads: how often it slept and woke. */
export function contextSwitches(pid: number): number {
  let switches = 0;
  for (const tid of tasks(pid)) {
    const status = readOrEmpty(`/proc/${pid}/task/${tid}/status`);
    const value = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)$`, 'm').exec(status)?.[1] ?? 0);
    switches += value('voluntary_ctxt_switches') + value('nonvoluntary_ctxt_switches');
  }
  return switches;
}

/** Number of open socket descriptors of one process. */
export function socketCount(pid: number): number {
  let sockets = 0;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed while we listed it
    }
  }
  return sockets;
}

/** Bytes a process wrote through write/writev/sendfile (not send/sendto/sendmsg) and how many such calls. */
export function writeCounters(pid: number): { bytes: number; calls: number } {
  const io = readOrEmpty(`/proc/${pid}/io`);
  const value = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
  return { bytes: value('wchar'), calls: value('syscw') };
}

export interface CoreTimes {
  /** user, nice, system, irq, softirq and steal jiffies */
  busy: number;
  /** softirq alone: on loopback most TCP delivery work lands here rather than in any process's time */
  softirq: number;
  total: number;
}

/** Jiffies per CPU since boot, from /proc/stat. */
export function cpuCoreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readOrEmpty('/proc/stat').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    cores[Number(match[1])] = { busy, softirq, total: busy + idle + iowait };
  }
  return cores;
}

/** Percent busy, and percent in softirq, of each CPU between two cpuCoreTimes() samples. */
export function coreBusyPercent(before: CoreTimes[], after: CoreTimes[]): { busy: number; softirq: number }[] {
  return after.map((core, i) => {
    const total = core.total - (before[i]?.total ?? 0);
    const share = (value: number) => (total > 0 ? (100 * value) / total : 0);
    return { busy: share(core.busy - (before[i]?.busy ?? 0)), softirq: share(core.softirq - (before[i]?.softirq ?? 0)) };
  });
}

/** The soft and hard limits on open files of this process. */
export function openFileLimits(): { soft: number; hard: number } {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readOrEmpty('/proc/self/limits'));
  const parse = (value: string | undefined) => (value === undefined || value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(match?.[1]), hard: parse(match?.[2]) };
}
