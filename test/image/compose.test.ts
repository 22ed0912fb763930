// The README's run command: docker compose builds and starts the service, it turns healthy, serves its routes,
// runs hardened, and `down` stops it with SIGTERM alone (exit code 0). Uses `docker compose` (v2) where installed, else Debian's
// `docker-compose` (v1, building through BuildKit), on a free port and a project name of its own.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  containerHealth, docker, dockerEnv, fetchRaw, freePort, get, pageField, repoRoot,
} from './support.js';
import { golden, normaliseDates } from '../support/http.js';

const project = `asmwstest${process.pid}`;
let compose: [string, string[]];
let hostPort: number;
let container: string;
let downDone = false;

async function runCompose(args: string[]): Promise<string> {
  const [file, prefix] = compose;
  const { stdout } = await execa(file, [...prefix, '--project-name', project, ...args], {
    cwd: repoRoot, all: true, env: { ...dockerEnv, HOST_PORT: String(hostPort) },
  });
  return stdout.trim();
}

beforeAll(async () => {
  const v2 = await execa('docker', ['compose', 'version'], { env: dockerEnv, reject: false });
  compose = v2.exitCode === 0 ? ['docker', ['compose']] : ['docker-compose', []];
  hostPort = await freePort();
  await runCompose(['up', '--build', '--detach']);
  container = await runCompose(['ps', '-q', 'asm-web-service']);
});

afterAll(async () => {
  if (!downDone) await runCompose(['down']).catch(() => undefined);
  // The image compose built for this project only; the layers stay cached for the next build.
  await runCompose(['down', '--rmi', 'local']).catch(() => undefined);
});

describe('docker compose up --build', () => {
  test('starts one container that becomes healthy', async () => {
    expect(container).toMatch(/^[0-9a-f]{12,64}$/);
    await expect.poll(() => containerHealth(container), { timeout: 30_000, interval: 500 }).toBe('healthy');
  });

  test('serves / and /health on the published port', async () => {
    const page = await fetchRaw(hostPort, get('/'));
    // The page's length is the same on both platforms (fixed-width fields).
    expect(normaliseDates(page.head).toString('latin1')).toBe(golden('page-head', { arch: 'amd64' }).toString('latin1'));
    expect(pageField(page.body.toString('utf8'), 'platform')).toMatch(/^linux\/(amd64|arm64)$/);
    const health = await fetchRaw(hostPort, get('/health'));
    expect(normaliseDates(health.raw).toString('latin1')).toBe(golden('health').toString('latin1'));
  });

  test('serves /metrics on the published port, with the binary it runs in build_info', async () => {
    const metrics = await fetchRaw(hostPort, get('/metrics'));
    expect(metrics.status).toBe(200);
    expect(metrics.headers).toContainEqual(['Content-Type', 'text/plain; version=0.0.4; charset=utf-8']);
    const text = metrics.body.toString('utf8');
    expect(text).toMatch(/^asm_web_service_http_requests_total\{route="\/health",code="200"\} [1-9]\d*$/m); // the HEALTHCHECK's
    expect(text).toMatch(/^asm_web_service_build_info\{version="[^"]+",arch="(amd64|arm64)",binary_bytes="\d+",image_bytes=""\} 1$/m);
  });

  test('runs hardened: read-only root, all capabilities dropped, no-new-privileges, loopback-only port', async () => {
    const hostConfig = JSON.parse(await docker(['inspect', '--format', '{{json .HostConfig}}', container]));
    expect(hostConfig.ReadonlyRootfs).toBe(true);
    expect(hostConfig.CapDrop).toEqual(['ALL']);
    expect(hostConfig.SecurityOpt).toContain('no-new-privileges:true');
    expect(hostConfig.PortBindings['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]);
  });

  test('docker compose down stops it with SIGTERM alone: the server exits 0, before compose would resort to SIGKILL', async () => {
    // `docker wait` reports the exit code as the container stops, before `down` removes it. A server that ignored
    // SIGTERM would be killed after the timeout and exit 137; how fast it stops is the bench's job.
    const exitCode = execa('docker', ['wait', container], { env: dockerEnv });
    await runCompose(['down', '--timeout', '30']);
    downDone = true;
    expect((await exitCode).stdout.trim()).toBe('0');
  });
});
