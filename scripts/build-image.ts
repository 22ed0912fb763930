// `npm run build:image`: builds the server's image for linux/amd64 and linux/arm64, pushes both, joins them in one
// image index (manifest list) and writes build/image.json with the image reference REPOSITORY@sha256:<index digest>.
//
// Each platform is built twice: first to measure the image's size with `docker image inspect`, then with that
// size on the page (IMAGE_SIZE). The page's fields are fixed-width, so both builds must have the same size; if
// not, the build fails.
//
// Environment:
//   REGISTRY     where to push, e.g. ghcr.io/alice (default: the project's local registry on 127.0.0.1:5000,
//                which scripts/registry.sh starts as this user when none answers; LOCAL_REGISTRY_PORT moves it)
//   IMAGE_NAME   repository name under REGISTRY (default: asm-web-service)
//   TAG          index tag (default: <package.json version>-<git short revision>); platforms get TAG-amd64 etc.
//   PLATFORMS    comma-separated (default: linux/amd64,linux/arm64)
//   REPO_URL     the page's repository link (default: package.json repository.url)
//   IMAGE_JSON   output file (default: build/image.json)
//   VERBOSE=1    stream Docker's own output (otherwise it is shown only when a step fails)
import { execa, ExecaError } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const localRegistry = `127.0.0.1:${process.env.LOCAL_REGISTRY_PORT || '5000'}`;

/** What build/image.json holds; the cluster and the tests read it. */
export interface ImageManifest {
  /** REPOSITORY@sha256:<index digest>: what to deploy. */
  image: string;
  repository: string;
  tag: string;
  indexDigest: string;
  /** Per platform ("linux/amd64"): the pushed manifest and the sizes the page shows. */
  platforms: Record<string, PlatformImage>;
}

export interface PlatformImage {
  manifestDigest: string;
  /** The image ID (config digest), what `docker image inspect` and a pull by digest show. */
  imageId: string;
  /** Size of /asm-web-service inside the image, bytes. */
  binarySize: number;
  /** `docker image inspect --format {{.Size}}`, bytes. */
  imageSize: number;
}

const verbose = process.env.VERBOSE === '1';
const started = performance.now();
let stepNumber = 0;
let stepTotal = 0;

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs one numbered step, prints what it did and how long it took, and shows Docker's output if it fails. */
async function step<T>(title: string, work: () => Promise<T>, done?: (value: T) => string): Promise<T> {
  stepNumber += 1;
  const label = `[${stepNumber}/${stepTotal}] ${title}`;
  process.stderr.write(`${label} ...\n`);
  const since = performance.now();
  try {
    const value = await work();
    process.stderr.write(`${label}: ${done ? done(value) : 'done'} (${seconds(since)})\n`);
    return value;
  } catch (error) {
    const output = error instanceof ExecaError ? `\n${String(error.all ?? error.stderr ?? '')}` : '';
    process.stderr.write(`${label}: FAILED (${seconds(since)})${output}\n`);
    throw error;
  }
}

/**
 * The Docker client to use and its environment. A client with buildx (a current Docker) is used as it is;
 * otherwise Debian's /usr/bin/docker, whose built-in BuildKit needs DOCKER_BUILDKIT=1 (on these machines
 * /usr/local/bin/docker is a client without buildx, so a plain `docker build` with BuildKit fails).
 */
async function dockerClient(): Promise<{ docker: string; env: NodeJS.ProcessEnv; buildx: boolean }> {
  const env = { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_CLI_EXPERIMENTAL: 'enabled' };
  const buildx = await execa('docker', ['buildx', 'version'], { env, reject: false });
  if (buildx.exitCode === 0) return { docker: 'docker', env, buildx: true };
  if (existsSync('/usr/bin/docker')) return { docker: '/usr/bin/docker', env, buildx: false };
  throw new Error('no Docker client with BuildKit found: install Docker with buildx (or Debian\'s docker.io)');
}

function packageJson(): { version: string; repository?: { url?: string } } {
  return JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
}

async function gitRevision(): Promise<string | undefined> {
  const result = await execa('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Loopback registries speak plain HTTP; `docker manifest` must be told so. */
function isLoopback(registryHost: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(registryHost);
}

async function main(): Promise<void> {
  const platforms = (process.env.PLATFORMS || 'linux/amd64,linux/arm64').split(',').map((p) => p.trim());
  for (const platform of platforms) {
    if (!/^linux\/(amd64|arm64)$/.test(platform)) throw new Error(`PLATFORMS: unsupported platform '${platform}'`);
  }
  const useLocalRegistry = !process.env.REGISTRY;
  const registry = (process.env.REGISTRY || localRegistry).replace(/\/+$/, '');
  const repository = `${registry}/${process.env.IMAGE_NAME || 'asm-web-service'}`;
  const revision = await gitRevision();
  const { version, repository: source } = packageJson();
  // One link for the page and the source label: REPO_URL, else package.json's, as asm/build.sh reads it.
  const repoUrl = (process.env.REPO_URL || source?.url || '').replace(/^git\+/, '').replace(/\.git$/, '');
  const tag = process.env.TAG || (revision ? `${version}-${revision.slice(0, 7)}` : version);
  const imageJsonPath = path.resolve(repoRoot, process.env.IMAGE_JSON || 'build/image.json');
  const insecure = isLoopback(registry.split('/')[0]);

  // Steps: (registry?) + per platform (measure, build, check, push) + index.
  stepTotal = (useLocalRegistry ? 1 : 0) + platforms.length * 4 + 1;
  process.stderr.write(`building ${repository}:${tag} for ${platforms.join(', ')}\n`);

  if (useLocalRegistry) {
    await step(`registry: ensure the project's answers on ${localRegistry}`, async () => {
      // Its message says what it started or whose registry it found (on failure: who holds the port).
      const { stderr } = await execa('bash', [path.join(repoRoot, 'scripts/registry.sh')], { all: true });
      return stderr.replace(/\x1b\[[0-9;]*m/g, '').replace(/^\[registry\] /gm, '').trim().split('\n').pop();
    }, (message) => message || 'it answers');
  }

  const { docker, env, buildx } = await dockerClient();
  const dockerOptions = { env, cwd: repoRoot, all: true, verbose: verbose ? ('full' as const) : ('none' as const) };
  const run = (args: string[]) => execa(docker, args, dockerOptions);
  // With a current Docker (buildx): load the result into the image store, and leave out the provenance and SBOM
  // attestations, which would turn each platform's push into an index that `docker manifest create` refuses.
  const buildHelp = (await run(['build', '--help'])).stdout;
  const buildxFlags = [
    ...(buildx ? ['--load'] : []),
    ...(buildHelp.includes('--provenance') ? ['--provenance=false'] : []),
    ...(buildHelp.includes('--sbom') ? ['--sbom=false'] : []),
  ];

  const imageSizeOf = async (image: string) =>
    Number((await run(['image', 'inspect', '--format', '{{.Size}}', image])).stdout.trim());

  const build = async (platform: string, extraArgs: string[]): Promise<string> => {
    const idFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-iid-')), 'id');
    try {
      await run([
        'build', '--platform', platform, '--progress', 'plain', '--iidfile', idFile, ...buildxFlags,
        '--build-arg', `VERSION=${version}`, '--build-arg', `REVISION=${revision ?? 'unknown'}`,
        ...(repoUrl ? ['--build-arg', `REPO_URL=${repoUrl}`] : []),
        ...extraArgs, '.',
      ]);
      return readFileSync(idFile, 'utf8').trim();
    } finally {
      rmSync(path.dirname(idFile), { recursive: true, force: true });
    }
  };

  /** Copies /asm-web-service out of the image (without running it) and returns its size. */
  const binarySizeIn = async (image: string, platform: string): Promise<number> => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-binary-'));
    const container = (await run(['create', '--platform', platform, image])).stdout.trim();
    try {
      await run(['cp', `${container}:/asm-web-service`, folder]);
      return statSync(path.join(folder, 'asm-web-service')).size;
    } finally {
      await run(['rm', container]);
      rmSync(folder, { recursive: true, force: true });
    }
  };

  const results: Record<string, PlatformImage> = {};
  for (const platform of platforms) {
    const arch = platform.split('/')[1];
    const platformTag = `${repository}:${tag}-${arch}`;

    const measured = await step(`${platform}: build to measure the image`, async () => {
      const id = await build(platform, []);
      return { id, size: await imageSizeOf(id) };
    }, ({ size }) => `${size} bytes`);

    const imageId = await step(`${platform}: build with IMAGE_SIZE=${measured.size} on the page`,
      () => build(platform, ['--build-arg', `IMAGE_SIZE=${measured.size}`, '--tag', platformTag]),
      (id) => `${platformTag} (${id.slice(0, 19)})`);

    // The measuring build's image is only a step: drop it (its build cache stays, so the next run is as fast).
    if (measured.id !== imageId) await execa(docker, ['rmi', measured.id], { ...dockerOptions, reject: false });

    const sizes = await step(`${platform}: check sizes`, async () => {
      const imageSize = await imageSizeOf(imageId);
      if (imageSize !== measured.size) {
        // Docker's containerd image store counts compressed layers (and disk blocks) in .Size, which shift with
        // the digits on the page; the classic store (overlay2) counts the files' bytes.
        const driver = (await run(['info', '--format', '{{json .DriverStatus}}'])).stdout;
        const hint = driver.includes('io.containerd.snapshotter')
          ? 'This Docker uses the containerd image store, whose image size includes compressed layers: ' +
            'set "features": {"containerd-snapshotter": false} in daemon.json to build with the classic store.'
          : 'Are the page\'s fields still fixed-width?';
        throw new Error(`${platform}: the image is ${imageSize} bytes with its size on the page, ` +
          `${measured.size} bytes without: the page would be wrong. ${hint}`);
      }
      return { imageSize, binarySize: await binarySizeIn(imageId, platform) };
    }, ({ imageSize, binarySize }) => `image ${imageSize} bytes, binary ${binarySize} bytes`);

    const manifestDigest = await step(`${platform}: push ${platformTag}`, async () => {
      const output = (await run(['push', platformTag])).stdout;
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
      if (!digest) throw new Error(`no digest in the output of docker push:\n${output}`);
      return digest;
    }, (digest) => digest);

    results[platform] = { manifestDigest, imageId, ...sizes };
  }

  const indexDigest = await step(`index: ${repository}:${tag} for ${platforms.join(', ')}`, async () => {
    const indexRef = `${repository}:${tag}`;
    const insecureFlag = insecure ? ['--insecure'] : [];
    // A manifest list left in the client's local store by an earlier run would make `create` fail.
    await execa(docker, ['manifest', 'rm', indexRef], { ...dockerOptions, reject: false });
    await run(['manifest', 'create', ...insecureFlag, indexRef,
      ...platforms.map((platform) => `${repository}@${results[platform].manifestDigest}`)]);
    const output = (await run(['manifest', 'push', ...insecureFlag, '--purge', indexRef])).stdout;
    const digest = /(sha256:[0-9a-f]{64})\s*$/.exec(output)?.[1];
    if (!digest) throw new Error(`no digest in the output of docker manifest push:\n${output}`);
    return digest;
  }, (digest) => digest);

  const manifest: ImageManifest = {
    image: `${repository}@${indexDigest}`,
    repository,
    tag,
    indexDigest,
    platforms: results,
  };
  mkdirSync(path.dirname(imageJsonPath), { recursive: true });
  writeFileSync(imageJsonPath, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), imageJsonPath) || imageJsonPath} in ${seconds(started)}\n`);
  process.stdout.write(`${manifest.image}\n`);
}

main().catch((error: unknown) => {
  // A failed command's output was shown by its step; here only the one-line reason.
  const reason = error instanceof ExecaError ? error.shortMessage : error instanceof Error ? error.message : String(error);
  process.stderr.write(`build-image: ${reason}\n`);
  process.exitCode = 1;
});
