/**
 * Published APIs as data: validation of base paths, route paths, methods and response types, and request
 * matching — path templates with `{placeholders}`, literal segments winning over placeholders, and the
 * difference between an unknown path (404) and a known path asked with another method (405). No I/O.
 */
import type { ApiDoc, ApiResponseType, ApiRoute, ApiSecureKey } from '../../../core/entities.js';
import { badRequest } from '../../../core/errors.js';

export const API_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;
export const RESPONSE_TYPES: readonly ApiResponseType[] = ['http', 'json', 'html', 'text', 'svg'];
/** Response type of a route created without one (as `wsk api create` does). */
export const DEFAULT_RESPONSE_TYPE: ApiResponseType = 'json';
/** Base paths have at most this many segments: serving tries each prefix of the request path. */
export const MAX_BASE_PATH_SEGMENTS = 4;
const MAX_PATH_LENGTH = 512;

export const BASE_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));

function segmentsOf(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

/** `/books`, `/v1/books` or `/`: leading slash, no trailing slash, URL-safe literal segments. */
export function checkBasePath(input: unknown): string {
  if (typeof input !== 'string' || !input.startsWith('/') || input.length > MAX_PATH_LENGTH) {
    throw badRequest(`The base path must start with '/': '${show(input)}'.`);
  }
  const path = input.length > 1 && input.endsWith('/') ? input.slice(0, -1) : input;
  const segments = segmentsOf(path);
  if (segments.length > MAX_BASE_PATH_SEGMENTS || segments.some((s) => !BASE_SEGMENT.test(s))) {
    throw badRequest(
      `The base path '${input}' is not valid: up to ${MAX_BASE_PATH_SEGMENTS} segments of letters, digits, '.', '_', '~' and '-'.`,
    );
  }
  return path;
}

/** `/books/{id}`: leading slash; segments of URL-safe characters and `{name}` placeholders, each name once. */
export function checkRoutePath(input: unknown): string {
  if (typeof input !== 'string' || !input.startsWith('/') || input.length > MAX_PATH_LENGTH) {
    throw badRequest(`The path must start with '/': '${show(input)}'.`);
  }
  const path = input.length > 1 && input.endsWith('/') ? input.slice(0, -1) : input;
  const names = new Set<string>();
  for (const segment of segmentsOf(path)) {
    const literal = segment.replace(PLACEHOLDER, (_m, name: string) => {
      if (names.has(name) || name.startsWith('__ow_')) {
        throw badRequest(`The path '${input}' repeats or reserves the parameter '${name}'.`);
      }
      names.add(name);
      return 'x';
    });
    if (!LITERAL.test(literal) || /\}\{/.test(segment)) {
      throw badRequest(`The path '${input}' is not valid.`);
    }
  }
  return path;
}

export function checkMethod(input: unknown): string {
  const method = typeof input === 'string' ? input.toUpperCase() : '';
  if (!(API_METHODS as readonly string[]).includes(method)) {
    throw badRequest(
      `The operation '${show(input)}' is not valid: use one of ${API_METHODS.join(', ').toLowerCase()}.`,
    );
  }
  return method;
}

export function checkResponseType(input: unknown): ApiResponseType {
  if (input === undefined || input === null || input === '') return DEFAULT_RESPONSE_TYPE;
  const t = typeof input === 'string' ? input.toLowerCase() : '';
  if (!(RESPONSE_TYPES as readonly string[]).includes(t)) {
    throw badRequest(
      `The response type '${show(input)}' is not valid: use one of ${RESPONSE_TYPES.join(', ')}.`,
    );
  }
  return t as ApiResponseType;
}

/** Longer secrets are refused: the key travels in a header on every request. */
const MAX_SECURE_KEY_LENGTH = 1024;

/**
 * A route's `require-whisk-auth` key: a secret (string or number) or `true`; absent for nothing, `false`
 * or an empty string (what "not secured" looks like in the documents tools send).
 */
export function checkSecureKey(input: unknown): ApiSecureKey | undefined {
  if (input === undefined || input === null || input === false || input === '') return undefined;
  if (input === true || (typeof input === 'number' && Number.isFinite(input))) return input;
  if (typeof input === 'string' && input.length <= MAX_SECURE_KEY_LENGTH) return input;
  throw badRequest(
    `The secure key '${show(input).slice(0, 64)}' is not valid: use a string or number secret of up to ${MAX_SECURE_KEY_LENGTH} characters, or true.`,
  );
}

/** The names of a route path's placeholders, in order. */
export function placeholders(path: string): string[] {
  return [...path.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

interface CompiledSegment {
  /** 2 for a literal, 1 for a segment mixing literal text and placeholders, 0 for a lone placeholder. */
  rank: number;
  literal?: string;
  pattern?: RegExp;
  names: string[];
}

interface CompiledRoute {
  route: ApiRoute;
  segments: CompiledSegment[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compileSegment(segment: string): CompiledSegment {
  const names = placeholders(segment);
  if (names.length === 0) return { rank: 2, literal: segment, names };
  const lone = /^\{[^}]+\}$/.test(segment);
  const source = segment
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '(.+?)' : escape(part)))
    .join('');
  return { rank: lone ? 0 : 1, pattern: new RegExp(`^${source}$`), names };
}

const compiled = new WeakMap<ApiDoc, CompiledRoute[]>();

function compile(api: ApiDoc): CompiledRoute[] {
  let routes = compiled.get(api);
  if (routes === undefined) {
    routes = api.routes.map((route) => ({ route, segments: segmentsOf(route.path).map(compileSegment) }));
    compiled.set(api, routes);
  }
  return routes;
}

export type RouteMatch =
  | { route: ApiRoute; params: Record<string, string> }
  /** The path exists, but not for this method: these are its methods. */
  | { methods: string[] };

function matchSegments(r: CompiledRoute, segments: readonly string[]): Record<string, string> | undefined {
  if (r.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const c = r.segments[i]!;
    const s = segments[i]!;
    if (c.literal !== undefined) {
      if (c.literal !== s) return undefined;
      continue;
    }
    const m = c.pattern!.exec(s);
    if (m === null) return undefined;
    c.names.forEach((name, j) => (params[name] = m[j + 1]!));
  }
  return params;
}

/** Literal segments beat mixed ones beat placeholders, from the left: `/books/new` before `/books/{id}`. */
function moreSpecific(a: CompiledRoute, b: CompiledRoute): boolean {
  for (let i = 0; i < a.segments.length; i++) {
    const d = a.segments[i]!.rank - b.segments[i]!.rank;
    if (d !== 0) return d > 0;
  }
  return false;
}

/**
 * The route for `method` on `relPath` (relative to the base path, as received). HEAD falls back to GET.
 * Undefined when no route has this path.
 */
export function matchRoute(api: ApiDoc, relPath: string, method: string): RouteMatch | undefined {
  let segments: string[];
  try {
    const trimmed = relPath.length > 1 && relPath.endsWith('/') ? relPath.slice(0, -1) : relPath;
    segments = segmentsOf(trimmed === '' ? '/' : trimmed).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const candidates: { r: CompiledRoute; params: Record<string, string> }[] = [];
  for (const r of compile(api)) {
    const params = matchSegments(r, segments);
    if (params !== undefined) candidates.push({ r, params });
  }
  if (candidates.length === 0) return undefined;
  // The most specific path template that matches decides; its methods are the ones on offer.
  let best = candidates[0]!;
  for (const c of candidates) if (moreSpecific(c.r, best.r)) best = c;
  const samePath = candidates.filter((c) => c.r.route.path === best.r.route.path);
  const find = (m: string) => samePath.find((c) => c.r.route.method === m);
  const hit = find(method) ?? (method === 'HEAD' ? find('GET') : undefined);
  if (hit !== undefined) return { route: hit.r.route, params: hit.params };
  return { methods: samePath.map((c) => c.r.route.method) };
}
