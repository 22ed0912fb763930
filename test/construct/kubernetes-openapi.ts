/**
 * Validates synthesized Kubernetes objects against the upstream OpenAPI v3 spec, the one the API server itself
 * serves: api/openapi-spec/v3/*.json inside the k8s.io/kubernetes Go module, fetched with `go mod download` from
 * the Go module proxy (and cached in the Go module cache, which the cluster build shares).
 *
 * The spec is used as published, with three mechanical tightenings that mirror what `kubectl apply` enforces:
 * unknown fields are errors (kubectl's default `--validate=strict`), int32/int64 formats are range-checked, and
 * list-type "map"/"set" lists must not repeat keys.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { isCelError, run as runCel } from '@bufbuild/cel';
import { parseAllDocuments } from 'yaml';

/** The Kubernetes release whose schema is used; keep it in step with scripts/cluster/versions.sh. */
export const KUBERNETES_SCHEMA_VERSION = 'v1.37.2';

type Schema = Record<string, unknown>;
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
interface GroupVersionKind { group: string; version: string; kind: string }

/** The `go` command: from PATH, else the usual install location. */
function goCommand(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('the schema check needs Go (to fetch k8s.io/kubernetes from the Go module proxy): install golang-go');
}

/**
 * The Gateway API releases whose HTTPRoute CRD (standard channel) the construct's HTTPRoute is checked against:
 * the first that serves gateway.networking.k8s.io/v1 and the newest this machine's Go can download (v1.7 needs
 * Go 1.27).
 */
export const GATEWAY_API_VERSIONS = ['v1.0.0', 'v1.6.3'];

/** Downloads (or finds in the module cache) a Go module; returns its folder. */
function goModuleDir(module: string, version: string): string {
  const output = execFileSync(goCommand(), ['mod', 'download', '-json', `${module}@${version}`], {
    cwd: tmpdir(), // outside any module, so no go.mod is read or changed
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    maxBuffer: 1 << 20,
    timeout: 600_000,
  });
  const { Dir, Error: downloadError } = JSON.parse(output) as { Dir?: string; Error?: string };
  if (downloadError || !Dir) throw new Error(`go mod download ${module}@${version}: ${downloadError ?? 'no Dir'}`);
  return Dir;
}

/** Downloads (or finds in the module cache) k8s.io/kubernetes@version; returns its api/openapi-spec/v3 folder. */
export function openApiSpecDir(version = KUBERNETES_SCHEMA_VERSION): string {
  return join(goModuleDir('k8s.io/kubernetes', version), 'api', 'openapi-spec', 'v3');
}

/** The standard-channel CRD files of a Gateway API release (sigs.k8s.io/gateway-api's config/crd/standard). */
export function gatewayApiCrdFiles(version: string): string[] {
  const dir = join(goModuleDir('sigs.k8s.io/gateway-api', version), 'config', 'crd', 'standard');
  return readdirSync(dir).filter((file) => file.endsWith('.yaml')).map((file) => join(dir, file));
}

/** The Prometheus Operator release whose ServiceMonitor CRD (monitoring.coreos.com/v1) the schema test uses. */
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';

/** The ServiceMonitor CRD of a Prometheus Operator release (its Go module's example/prometheus-operator-crd). */
export function serviceMonitorCrdFile(version = PROMETHEUS_OPERATOR_VERSION): string {
  return join(
    goModuleDir('github.com/prometheus-operator/prometheus-operator', version),
    'example', 'prometheus-operator-crd', 'monitoring.coreos.com_servicemonitors.yaml',
  );
}

/** The spec file that serves an apiVersion: `v1` is the core group, `GROUP/VERSION` the others. */
function specFileFor(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return group === '' ? `api__${version}_openapi.json` : `apis__${group}__${version}_openapi.json`;
}

/** Rewrites refs to JSON-Schema definitions and forbids unknown fields, as the API server does with strict validation. */
function tighten(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tighten);
  if (node === null || typeof node !== 'object') return node;
  const schema: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === '$ref' && typeof value === 'string') {
      schema[key] = value.replace('#/components/schemas/', '#/definitions/');
    } else if (key === 'properties' && value && typeof value === 'object') {
      schema[key] = Object.fromEntries(Object.entries(value as Schema).map(([name, sub]) => [name, tighten(sub)]));
    } else {
      schema[key] = tighten(value);
    }
  }
  const open = schema['additionalProperties'] !== undefined || schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema['properties'] && !open) schema['additionalProperties'] = false;
  return schema;
}

function newAjv(options: { useDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, ...options });
  const integerIn = (min: number, max: number) => ({
    type: 'number' as const,
    validate: (value: number) => Number.isInteger(value) && value >= min && value <= max,
  });
  ajv.addFormat('int32', integerIn(-(2 ** 31), 2 ** 31 - 1));
  ajv.addFormat('int64', integerIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  // Formats the spec names but whose syntax the API server checks elsewhere.
  for (const format of ['byte', 'date-time', 'double', 'int-or-string']) ajv.addFormat(format, true);
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    schemaType: 'array',
    errors: false,
    validate: (keys: string[], items: Array<Record<string, unknown>>) => {
      const seen = new Set(items.map((item) => JSON.stringify(keys.map((key) => item?.[key]))));
      return seen.size === items.length;
    },
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    schemaType: 'string',
    errors: false,
    validate: (listType: string, items: unknown[]) =>
      listType !== 'set' || new Set(items.map((item) => JSON.stringify(item))).size === items.length,
  });
  return ajv;
}

/** One problem found in one object. */
export interface SchemaProblem { object: string; message: string }

/** A CustomResourceDefinition, as far as the schema check reads it. */
interface CustomResourceDefinition {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }> };
}

/**
 * Validates objects against the spec of one Kubernetes release (loading each API group's file once) and, for
 * custom resources, against the openAPIV3Schema of the CRD files given: its JSON Schema with its defaults applied,
 * then its CEL rules (x-kubernetes-validations), as the API server does on create.
 */
export class KubernetesSchemaValidator {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly loadedFiles = new Map<string, Schema>();
  private readonly customResources = new Map<string, Schema>();

  constructor(private readonly specDir: string, crdFiles: string[] = []) {
    for (const file of crdFiles) {
      for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const crd = document.toJS() as CustomResourceDefinition | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const version of crd.spec.versions) {
          if (!version.served || !version.schema) continue;
          this.customResources.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, tighten(version.schema.openAPIV3Schema) as Schema);
        }
      }
    }
  }

  /** Every problem of every object: a missing schema for its apiVersion/kind, or schema violations. */
  validate(objects: unknown[]): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    for (const object of objects) {
      const { apiVersion, kind, metadata } = (object ?? {}) as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
      const label = `${apiVersion} ${kind} ${metadata?.name ?? '(no name)'}`;
      const validator = typeof apiVersion === 'string' && typeof kind === 'string' ? this.validatorFor(apiVersion, kind) : undefined;
      if (!validator) {
        problems.push({ object: label, message: `no schema for apiVersion ${apiVersion} kind ${kind}` });
        continue;
      }
      // A custom resource is checked as the API server creates it: schema defaults applied, then the CRD's rules.
      const customResource = this.customResources.get(`${apiVersion} ${kind}`);
      const checked = customResource ? structuredClone(object) : object;
      if (!validator(checked)) {
        for (const error of validator.errors ?? []) {
          const detail = error.params && 'additionalProperty' in error.params ? ` (${error.params.additionalProperty})` : '';
          problems.push({ object: label, message: `${error.instancePath || '/'} ${error.message}${detail}` });
        }
      } else if (customResource) {
        for (const message of celRuleProblems(customResource, checked, '')) problems.push({ object: label, message });
      }
    }
    return problems;
  }

  private validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
    const key = `${apiVersion} ${kind}`;
    if (this.validators.has(key)) return this.validators.get(key);
    const customResource = this.customResources.get(key);
    if (customResource) {
      // The CRD leaves metadata as a bare object; the API server checks it as every object's ObjectMeta.
      const definitions = this.definitionsIn(specFileFor('v1'));
      const properties = { ...(customResource['properties'] as Schema), metadata: { $ref: `#/definitions/${OBJECT_META}` } };
      const validator = newAjv({ useDefaults: true }).compile({ ...customResource, properties, definitions });
      this.validators.set(key, validator);
      return validator;
    }
    const definitions = this.definitionsIn(specFileFor(apiVersion));
    if (!definitions) return undefined;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const name = Object.keys(definitions).find((candidate) => {
      const gvks = (definitions[candidate] as Schema)['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
      return gvks?.some((gvk) => gvk.group === group && gvk.version === version && gvk.kind === kind);
    });
    if (!name) return undefined;
    const validator = newAjv().compile({ $ref: `#/definitions/${name}`, definitions });
    this.validators.set(key, validator);
    return validator;
  }

  private definitionsIn(file: string): Schema | undefined {
    if (!this.loadedFiles.has(file)) {
      const path = join(this.specDir, file);
      if (!existsSync(path)) return undefined;
      const spec = JSON.parse(readFileSync(path, 'utf8')) as { components: { schemas: Schema } };
      this.loadedFiles.set(file, tighten(spec.components.schemas) as Schema);
    }
    return this.loadedFiles.get(file);
  }
}

/**
 * The value as CEL sees it in Kubernetes: integer fields are CEL ints (bigint here), other numbers doubles; the
 * schema says which.
 */
function toCel(schema: Schema | undefined, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => toCel(schema?.['items'] as Schema | undefined, item));
  if (value !== null && typeof value === 'object') {
    const properties = (schema?.['properties'] ?? {}) as Record<string, Schema>;
    const additional = typeof schema?.['additionalProperties'] === 'object' ? (schema['additionalProperties'] as Schema) : undefined;
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toCel(properties[key] ?? additional, item)]));
  }
  if (typeof value === 'number' && schema?.['type'] === 'integer') return BigInt(value);
  return value;
}

/**
 * Evaluates every CEL rule (x-kubernetes-validations) of a CRD schema on the value at each node it applies to, as
 * the API server does on create (transition rules, which read oldSelf, apply only on update and are skipped), with
 * @bufbuild/cel, a CEL implementation by others. A rule the evaluator cannot run is a problem too, never a pass.
 */
function celRuleProblems(schema: Schema, value: unknown, path: string): string[] {
  if (value === undefined) return [];
  const problems: string[] = [];
  const rules = (schema['x-kubernetes-validations'] ?? []) as Array<{ rule: string; message?: string }>;
  for (const { rule, message } of rules) {
    if (rule.includes('oldSelf')) continue;
    const result = runCel(rule, { self: toCel(schema, value) as never });
    if (isCelError(result)) problems.push(`${path || '/'} rule could not be evaluated (${result.message}): ${rule}`);
    else if (result !== true) problems.push(`${path || '/'} ${message ?? `failed rule: ${rule}`}`);
  }
  if (Array.isArray(value)) {
    const items = schema['items'] as Schema | undefined;
    if (items) value.forEach((item, index) => problems.push(...celRuleProblems(items, item, `${path}/${index}`)));
  } else if (value !== null && typeof value === 'object') {
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    const additional = typeof schema['additionalProperties'] === 'object' ? (schema['additionalProperties'] as Schema) : undefined;
    for (const [key, item] of Object.entries(value)) {
      const itemSchema = properties[key] ?? additional;
      if (itemSchema) problems.push(...celRuleProblems(itemSchema, item, `${path}/${key}`));
    }
  }
  return problems;
}
