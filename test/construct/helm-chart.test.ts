/**
 * `npm run synth:helm`: the app as a Helm chart, checked by helm itself (built from the Go module proxy by
 * scripts/helm.sh into the project's cache): `helm lint --strict` passes, and `helm template` renders exactly the
 * objects cdk8s synthesized. The chart goes to a temporary folder (HELM_OUTDIR), never to the repository's build/.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { run } from '../support/packages.js';
import { repoRoot } from '../support/server.js';

const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'4e1f'.repeat(16)}`;
const VERSION = JSON.parse(readFileSync(join(repoRoot, 'lib/package.json'), 'utf8')).version;

let scratch: string;
let chart: string;
let helm: string;

beforeAll(() => {
  const build = run('bash', [join(repoRoot, 'scripts/helm.sh')], repoRoot);
  expect(build.status, build.output).toBe(0);
  helm = build.stdout.trim();
  scratch = mkdtempSync(join(tmpdir(), 'asm-web-service-helm-'));
  const synth = run('npm', ['run', 'synth:helm'], repoRoot, { IMAGE, HELM_OUTDIR: scratch });
  expect(synth.status, synth.output).toBe(0);
  chart = join(scratch, 'asm-web-service');
}, 1_800_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The objects of a multi-document YAML text, in kind/name order (helm template sorts them by install order). */
function objectsOf(yamlText: string): any[] {
  const key = (object: any) => `${object.kind}/${object.metadata.name}`;
  return parseAllDocuments(yamlText).map((doc) => doc.toJS()).filter((object) => object)
    .sort((a, b) => key(a).localeCompare(key(b)));
}

describe('npm run synth:helm', () => {
  it("writes a chart named asm-web-service with the package's version", () => {
    const chartYaml = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));
    expect(chartYaml).toMatchObject({ apiVersion: 'v2', name: 'asm-web-service', version: VERSION, type: 'application' });
    expect(chartYaml.keywords).toContain('cdk8s');
  });

  it('passes helm lint --strict', () => {
    const lint = run(helm, ['lint', '--strict', chart], scratch);
    expect(lint.status, lint.output).toBe(0);
    expect(lint.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders with helm template to exactly the objects cdk8s synthesized', () => {
    const rendered = run(helm, ['template', 'shop', chart, '--namespace', 'shop'], scratch);
    expect(rendered.status, rendered.output).toBe(0);
    const synthesized = objectsOf(readFileSync(join(chart, 'templates/asm-web-service.k8s.yaml'), 'utf8'));
    expect(synthesized.map((object) => object.kind)).toEqual(['Deployment', 'PodDisruptionBudget', 'Service']);
    expect(synthesized[0].spec.template.spec.containers[0].image).toBe(IMAGE);
    expect(objectsOf(rendered.stdout)).toEqual(synthesized);
  });

  it('is checked by a lint that can fail: a chart version that is not SemVer is an error', () => {
    const broken = join(scratch, 'broken', 'asm-web-service');
    cpSync(chart, broken, { recursive: true });
    const chartYaml = join(broken, 'Chart.yaml');
    writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(`version: ${VERSION}`, 'version: not-a-version'));
    const lint = run(helm, ['lint', '--strict', broken], scratch);
    expect(lint.status).not.toBe(0);
    expect(lint.output).toMatch(/version.*not-a-version|not-a-version.*version/i);
  });
});
