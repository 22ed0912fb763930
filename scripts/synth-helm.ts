/**
 * `npm run synth:helm`: the app of main.ts (same image rules: IMAGE, else build/image.json) as a Helm chart,
 * `cdk8s synth --format helm --chart-version <lib/package.json version>`, in build/helm/asm-web-service/
 * (HELM_OUTDIR sets the parent folder). cdk8s-cli names the chart after the current folder, so Chart.yaml's name,
 * description and links are set here: the chart is asm-web-service wherever the checkout lives.
 * Then `helm lint build/helm/asm-web-service`, `helm template ...` or `helm install NAME build/helm/asm-web-service`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const repo = resolve(import.meta.dirname, '..');
const project = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const library = JSON.parse(readFileSync(join(repo, 'lib/package.json'), 'utf8'));
const chartDir = resolve(process.env.HELM_OUTDIR || join(repo, 'build/helm'), 'asm-web-service');

const synth = spawnSync(
  'cdk8s',
  ['synth', '--no-check-upgrade', '--format', 'helm', '--chart-version', library.version, '--output', chartDir],
  { cwd: repo, stdio: 'inherit' },
);
if (synth.error) throw synth.error;
if (synth.status !== 0) process.exit(synth.status ?? 1);

const chartYaml = join(chartDir, 'Chart.yaml');
const chart = parse(readFileSync(chartYaml, 'utf8'));
writeFileSync(chartYaml, stringify({
  ...chart,
  name: 'asm-web-service',
  description: project.description,
  appVersion: project.version,
  keywords: ['http', 'web-server', 'assembly', 'cdk8s'],
  home: library.homepage,
  sources: [project.repository.url],
}));
console.log(`Helm chart asm-web-service ${library.version} in ${chartDir}`);
