/**
 * Entity shapes as they travel on the wire and sit in the store (spec §1.6). Stored documents are the wire
 * JSON, so reads need no translation; only computed fields (a package's `actions`, a trigger's `rules`,
 * a rule's `status`) are added by the routes.
 */
export interface KeyValue {
  key: string;
  value: unknown;
  /** Parameters marked `init` are passed to the runtime's /init as environment, not to /run. */
  init?: boolean;
}

export type Exec = CodeExec | BlackboxExec | SequenceExec;

export interface CodeExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
}

export interface BlackboxExec {
  kind: 'blackbox';
  image: string;
  code?: string;
  binary: boolean;
  main?: string;
}

export interface SequenceExec {
  kind: 'sequence';
  components: string[];
}

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

interface EntityCommon {
  /** `ns`, or `ns/pkg` for an action inside a package. */
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

export interface ActionDoc extends EntityCommon {
  exec: Exec;
  parameters: KeyValue[];
  limits: ActionLimits;
}

export interface PackageDoc extends EntityCommon {
  parameters: KeyValue[];
  binding: { namespace: string; name: string } | Record<string, never>;
}

export interface TriggerDoc extends EntityCommon {
  parameters: KeyValue[];
  limits: Record<string, never>;
  /** Rule links, keyed `ns/rule`. Stored on the trigger, as OpenWhisk does, so firing needs one read. */
  rules?: Record<string, { action: { name: string; path: string }; status: 'active' | 'inactive' }>;
}

export interface RuleDoc extends EntityCommon {
  trigger: { path: string; name: string };
  action: { path: string; name: string };
}

/** How an API gateway route renders the action's result: the web action extension it uses. */
export type ApiResponseType = 'http' | 'json' | 'html' | 'text' | 'svg';

/** A `require-whisk-auth` value a route can present: a secret (string or number) or `true`. */
export type ApiSecureKey = string | number | true;

/** One operation of a published API: `method` on `path` (relative to the API's base path) runs `action`. */
export interface ApiRoute {
  /** `/books/{id}`: literal segments and `{param}` placeholders. */
  path: string;
  /** Upper-case HTTP method. */
  method: string;
  /** The action as the API's author named it (a binding path is resolved on each request). */
  action: { namespace: string; package?: string; name: string };
  responseType: ApiResponseType;
  /**
   * What the gateway presents to the action's `require-whisk-auth` (as OpenWhisk's gateway does): a secret
   * sent as the `X-Require-Whisk-Auth` header, or `true` for the API owner's own credentials.
   */
  secureKey?: ApiSecureKey;
  /** OpenAPI operation fields kept from an imported document (summary, parameters, ...), for export. */
  operation?: Record<string, unknown>;
}

/**
 * A published API (web/gateway module): routes under one base path of a namespace. Stored as an entity of
 * type `api` at the path equal to its base path (`/books`); a base path starts with `/`, which no other
 * entity path can, so APIs never collide with actions, packages, triggers or rules.
 */
export interface ApiDoc extends EntityCommon {
  basePath: string;
  routes: ApiRoute[];
  /** Top-level OpenAPI fields kept from an imported document (info, definitions, ...), for export. */
  spec?: Record<string, unknown>;
}

export type EntityType = 'action' | 'package' | 'trigger' | 'rule' | 'api';

export type EntityDoc = ActionDoc | PackageDoc | TriggerDoc | RuleDoc | ApiDoc;

export function getAnnotation(annotations: readonly KeyValue[] | undefined, key: string): unknown {
  if (annotations === undefined) return undefined;
  for (let i = annotations.length - 1; i >= 0; i--)
    if (annotations[i]!.key === key) return annotations[i]!.value;
  return undefined;
}

/** Sets or replaces one annotation, keeping the order of the others. */
export function setAnnotation(annotations: KeyValue[], key: string, value: unknown): KeyValue[] {
  const out = annotations.filter((a) => a.key !== key);
  out.push({ key, value });
  return out;
}

/** `base` overridden key by key with `update` (OpenWhisk merges annotations on update). */
export function mergeKeyValues(base: readonly KeyValue[], update: readonly KeyValue[]): KeyValue[] {
  const keys = new Set(update.map((kv) => kv.key));
  return [...base.filter((kv) => !keys.has(kv.key)), ...update];
}

/** Parameter arrays as a plain object; the later of two equal keys wins. */
export function toObject(params: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) out[p.key] = p.value;
  return out;
}

/** `0.0.1` → `0.0.2`: every update bumps the patch level. */
export function bumpVersion(version: string): string {
  const [major = '0', minor = '0', patch = '0'] = version.split('.');
  return `${major}.${minor}.${Number(patch) + 1}`;
}

// No groups or nested repetition: this runs over 64 MB strings, where a backtracking group overflows the stack.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** OpenWhisk's rule: code is binary (base64) iff non-empty after trimming, a multiple of 4 long and base64. */
export function isBinaryCode(code: string): boolean {
  const t = code.trim();
  return t.length > 0 && t.length % 4 === 0 && BASE64.test(t);
}

/** Bytes the code occupies once decoded: the quantity the 48 MB code limit is about. */
export function decodedCodeSize(code: string, binary: boolean): number {
  if (!binary) return Buffer.byteLength(code, 'utf8');
  const t = code.trim();
  const padding = t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0;
  return (t.length / 4) * 3 - padding;
}

export function isTruthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== 0 && value !== '';
}

export function isSequence(exec: Exec): exec is SequenceExec {
  return exec.kind === 'sequence';
}
