/**
 * The checks AsmWebService runs on its props. Each throws an Error whose message starts with the prop's name in
 * quotes (`'readinessPeriod' must be ...`), says what is allowed and ends with what it got. Internal: not exported
 * by the package.
 */
import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-28';

// distribution/reference's grammar: optional registry host[:port], then lowercase path components.
const IMAGE_REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)';
const IMAGE_PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DIGEST_PINNED_IMAGE = new RegExp(
  `^${IMAGE_REGISTRY}?${IMAGE_PATH_COMPONENT}(?:/${IMAGE_PATH_COMPONENT})*@sha256:[0-9a-f]{64}$`,
);
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const URL_PATH = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;
const IPV4_ADDRESS = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const CPU_QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m?)$/;

export function validateImage(image: string): string {
  if (typeof image !== 'string' || !DIGEST_PINNED_IMAGE.test(image)) {
    throw new Error(
      `'image' must be pinned by digest as REPOSITORY@sha256:<64 lowercase hex digits> ` +
        `(e.g. registry.example.com/asm-web-service@sha256:${'0'.repeat(64)}), got ${JSON.stringify(image)}`,
    );
  }
  return image;
}

export function validateInteger(prop: string, value: number, min: number, max: number, why = ''): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' must be an integer from ${min} to ${max}${why}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A boolean, not merely a truthy value: JavaScript callers (and YAML or JSON settings handed on) would otherwise
 * turn `'false'` into true.
 */
export function validateBoolean(prop: string, value: boolean): boolean {
  if (typeof value !== 'boolean') {
    throw new Error(`'${prop}' must be a boolean, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A DNS-1035 label: what Kubernetes requires of a Service's name. */
export function validateDns1035Label(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length > 63 || !DNS_1035_LABEL.test(value)) {
    throw new Error(
      `'${prop}' must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A DNS-1123 label: a namespace's name. */
export function validateDns1123Label(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length > 63 || !DNS_1123_LABEL.test(value)) {
    throw new Error(
      `'${prop}' must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A DNS-1123 subdomain: the name of most objects (a Secret, an IngressClass, a Gateway, a listener). */
export function validateDns1123Subdomain(prop: string, value: string): string {
  if (typeof value !== 'string' || value.length > 253 || !DNS_1123_SUBDOMAIN.test(value)) {
    throw new Error(
      `'${prop}' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A host name an Ingress or HTTPRoute matches: a DNS name, optionally with a leading `*.` wildcard label. */
export function validateHostname(prop: string, value: string): string {
  const name = typeof value === 'string' && value.startsWith('*.') ? value.slice(2) : value;
  if (typeof value !== 'string' || value.length > 253 || !DNS_1123_SUBDOMAIN.test(name) || IPV4_ADDRESS.test(name)) {
    throw new Error(
      `'${prop}' must be a host name (a DNS-1123 subdomain, optionally starting with '*.', not an IP address), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * An HTTP path prefix as both Kubernetes' Ingress validation (pkg/apis/networking/validation) and the Gateway API's
 * HTTPRoute CRD accept it: absolute, URL path characters or %XX escapes, no `//`, `/./`, `/../` or encoded `/`,
 * not ending in `/.` or `/..`.
 */
export function validatePath(prop: string, value: string): string {
  const valid = typeof value === 'string' && value.startsWith('/') && value.length <= 1024 && URL_PATH.test(value) &&
    !['//', '/./', '/../', '%2f', '%2F'].some((sequence) => value.includes(sequence)) &&
    !['/.', '/..'].some((suffix) => value.endsWith(suffix));
  if (!valid) {
    throw new Error(
      `'${prop}' must be a URL path starting with '/' (at most 1024 characters of A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / or %XX; ` +
        `no '//', '/./', '/../' or '%2F'; not ending in '/.' or '/..'), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Whole seconds between min and max, from a cdk8s Duration. */
export function validateSeconds(prop: string, value: Duration, min: number, max: number, why = ''): number {
  if (typeof (value as Partial<Duration>)?.toMilliseconds !== 'function') {
    throw new Error(`'${prop}' must be a Duration (e.g. Duration.seconds(${min})), got ${JSON.stringify(value)}`);
  }
  const seconds = value.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new Error(`'${prop}' must be a whole number of seconds from ${min} to ${max}${why}, got ${seconds} s`);
  }
  return seconds;
}

/** Whole mebibytes between min and max, from a cdk8s Size (cdk8s-plus writes memory as `<n>Mi`). */
export function validateMebibytes(prop: string, value: Size, min: number, max: number, why = ''): number {
  if (typeof (value as Partial<Size>)?.toMebibytes !== 'function') {
    throw new Error(`'${prop}' must be a Size (e.g. Size.mebibytes(${min})), got ${JSON.stringify(value)}`);
  }
  const mebibytes = value.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mebibytes) || mebibytes < min || mebibytes > max) {
    throw new Error(`'${prop}' must be a whole number of mebibytes from ${min} to ${max}${why}, got ${mebibytes} MiB`);
  }
  return mebibytes;
}

/** Millicores between min and max, from a cdk8s-plus Cpu (`Cpu.millis(n)` or `Cpu.units(n)`). */
export function validateMillicores(prop: string, value: kplus.Cpu, min: number, max: number, why = ''): number {
  const amount = (value as Partial<kplus.Cpu>)?.amount;
  const match = typeof amount === 'string' ? CPU_QUANTITY.exec(amount) : null;
  if (!match) {
    throw new Error(`'${prop}' must be a Cpu (e.g. Cpu.millis(${min})), got ${JSON.stringify(value)}`);
  }
  const millicores = Number(match[1]) * (match[2] === 'm' ? 1 : 1000);
  if (!Number.isInteger(millicores) || millicores < min || millicores > max) {
    throw new Error(`'${prop}' must be a whole number of millicores from ${min} to ${max}${why}, got ${amount}`);
  }
  return millicores;
}

/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** Labels: qualified keys, none of `reserved`, values of at most 63 label characters. */
export function validateLabels(prop: string, labels: { [key: string]: string }, reserved: string[]): { [key: string]: string } {
  for (const [key, value] of Object.entries(labels)) {
    if (reserved.includes(key)) {
      throw new Error(`'${prop}' cannot set ${key}: the selectors use it (set 'name' to change the instance)`);
    }
    if (!isQualifiedName(key)) {
      throw new Error(`'${prop}' has an invalid key ${JSON.stringify(key)} (expected [prefix/]name, name at most 63 characters of [A-Za-z0-9-_.])`);
    }
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !QUALIFIED_NAME_PART.test(value))) {
      throw new Error(`'${prop}' has an invalid value ${JSON.stringify(value)} for ${key} (at most 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends)`);
    }
  }
  return labels;
}

export function validateAnnotations(prop: string, annotations: { [key: string]: string }): { [key: string]: string } {
  for (const [key, value] of Object.entries(annotations)) {
    if (!isQualifiedName(key)) {
      throw new Error(`'${prop}' has an invalid key ${JSON.stringify(key)} (expected [prefix/]name, name at most 63 characters of [A-Za-z0-9-_.])`);
    }
    if (typeof value !== 'string') {
      throw new Error(`'${prop}' value for ${key} must be a string, got ${JSON.stringify(value)}`);
    }
  }
  return annotations;
}

/**
 * Rejects keys that are not settings of an options object (a misspelling such as `maxReplica`), which JavaScript
 * callers would otherwise see silently ignored.
 */
export function validateKnownKeys(prop: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key) || (value as { [key: string]: unknown })[key] === undefined) continue;
    throw new Error(`'${prop}' has no setting ${JSON.stringify(key)}; known: ${known.join(', ')}`);
  }
}

/**
 * Rejects the props of an earlier version (`renamed` maps each to its replacement), which JavaScript callers would
 * otherwise see silently ignored. Other extra keys pass: an app may hand its own props, a superset, to the construct.
 */
export function rejectRenamedProps(props: object, renamed: { [old: string]: string }): void {
  for (const [old, replacement] of Object.entries(renamed)) {
    if ((props as { [key: string]: unknown })[old] !== undefined) {
      throw new Error(`'${old}' is no longer a prop: use ${replacement}`);
    }
  }
}
