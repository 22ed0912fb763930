/**
 * imports/k8s.ts: the Kubernetes API objects an app adds beside AsmWebService (here the Namespace that enforces
 * Pod Security "restricted", which users otherwise write by hand) synthesize to objects the API server accepts,
 * and they come from cdk8s-plus-28's public entry point, the same classes the construct's objects are made of.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { k8s } from '../../imports/k8s.js';
import { AsmWebService } from '../../lib/index.js';
import { KubernetesSchemaValidator, openApiSpecDir } from './kubernetes-openapi.js';

const REPO = resolve(import.meta.dirname, '../..');

describe('imports/k8s', () => {
  it('gives an app the Namespace for the construct, and both validate against the schema', () => {
    // GIVEN a chart in a namespace that enforces Pod Security "restricted"
    const chart = new Chart(Testing.app(), 'app', { namespace: 'web' });
    new k8s.KubeNamespace(chart, 'namespace', {
      metadata: { name: 'web', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    new AsmWebService(chart, 'server', { image: `127.0.0.1:5000/asm-web-service@sha256:${'a'.repeat(64)}` });

    // WHEN it is synthesized
    const manifests = Testing.synth(chart);

    // THEN the namespace carries the label, and every object is valid for its API version
    const namespace = manifests.find((object) => object.kind === 'Namespace');
    expect(namespace?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(manifests.map((object) => object.kind).sort()).toEqual(['Deployment', 'Namespace', 'PodDisruptionBudget', 'Service']);
    expect(new KubernetesSchemaValidator(openApiSpecDir()).validate(manifests)).toEqual([]);
  });

  it("are cdk8s-plus-28's public k8s classes, imported from its entry point only", () => {
    // The construct exposes objects of these very classes (e.g. web.podDisruptionBudget).
    expect(k8s).toBe(kplus.k8s);
    expect(k8s.KubePodDisruptionBudget).toBe(kplus.k8s.KubePodDisruptionBudget);
    // A deep path (cdk8s-plus-28/lib/...) is internal: not part of the package's API, and not what apps import.
    const { importedFiles } = ts.preProcessFile(readFileSync(join(REPO, 'imports/k8s.ts'), 'utf8'), true, true);
    expect(importedFiles.map((file) => file.fileName)).toEqual(['cdk8s-plus-28']);
  });
});
