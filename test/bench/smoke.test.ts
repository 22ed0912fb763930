// The benchmark's harness (npm run bench -- --smoke): every server, part, mode and rate measured with figures that
// can be real. A benchmark never fails on a figure; this checks that the harness measures at all.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/server.js';

const servers = ['asm-web-service', 'floor', 'nginx', 'h2o', 'lighttpd'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'asm-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --smoke', () => {
  let result: any;
  let stdout = '';
  it('runs every part and writes its JSON', () => {
    stdout = execFileSync('npm', ['run', '--silent', 'bench', '--', '--smoke'], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_OUT: path.join(dir, 'smoke.json'), BENCH_SKIP_BUILD: '1' },
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    result = JSON.parse(readFileSync(path.join(dir, 'smoke.json'), 'utf8'));
    expect(Object.keys(result.paced.medians).sort()).toEqual([...servers].sort());
  }, 660_000);

  it('measures every paced mode and rate of every server with plausible figures', () => {
    for (const server of servers) {
      const rows = result.paced.medians[server];
      expect(Object.keys(rows).sort()).toEqual(['close 1000', 'close 10000', 'close 5000', 'keepalive 1000', 'keepalive 10000', 'keepalive 30000']);
      for (const [key, row] of Object.entries<any>(rows)) {
        // Smoke runs offer a tenth of each rate, for one second.
        expect(row.achievedRate, `${server} ${key}`).toBeGreaterThan(row.offeredRate / 10 / 3);
        expect(row.achievedRate, `${server} ${key}`).toBeLessThan((row.offeredRate / 10) * 1.5);
        expect(row.serverCpuUsPerRequest, `${server} ${key}`).toBeGreaterThan(0);
        expect(row.serverCpuUsPerRequest, `${server} ${key}`).toBeLessThan(5000);
        expect(row.p99Ms, `${server} ${key}`).toBeGreaterThan(0);
        expect(row.errors, `${server} ${key}`).toBe(0);
      }
    }
  });

  it('measures idle and slowloris figures of every server, and ours sleeps when idle', () => {
    for (const server of servers) {
      expect(result.idle[server].connections, server).toBe(1000);
      expect(result.slowloris[server].stillOpen, server).toBe(result.slowloris[server].opened);
      expect(result.slowloris[server].cgroupPeak.totalBytes, server).toBeGreaterThan(100_000);
      expect(result.slowloris[server].rssKiB, server).toBeGreaterThan(0);
    }
    expect(result.idle['asm-web-service'].none.wakeupsPerMinute).toBe(0);
  });

  it('prints the paced table and the issue\'s targets', () => {
    expect(stdout).toMatch(/\| keep-alive 1,000\/s \|/);
    expect(stdout).toMatch(/\| close 10,000\/s \|/);
    expect(stdout).toMatch(/Targets \(issue 10\):/);
  });
});
