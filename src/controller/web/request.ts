/**
 * An HTTP request as a web action payload (spec §4.2): the `__ow_*` context, then query parameters, then the
 * body (JSON objects and forms merged at the top level, other media as `__ow_body`), or for `raw-http`
 * actions the untouched query and body. The action's parameters go below it, as for any invoke. Pure
 * functions; the route feeds them what Fastify parsed.
 */
import type { KeyValue } from '../../core/entities.js';
import { Messages, badRequest } from '../../core/errors.js';
import { MAX_JSON_DEPTH, withinDepth } from '../../core/json.js';
import { isJsonFamily, isTextual, mediaTypeOf } from './media.js';

/** Argument names the platform fills in; a request may not supply them. */
export const RESERVED_ARGUMENTS: readonly string[] = [
  '__ow_method',
  '__ow_headers',
  '__ow_path',
  '__ow_user',
  '__ow_query',
  '__ow_body',
];

export interface WebRequest {
  /** HTTP method, any case. */
  method: string;
  /** Node's header map: names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw query string, without `?` ('' when none). */
  query: string;
  /** The request body as received (undefined or empty when none). */
  body: Buffer | undefined;
  /** The path after the action (web actions) or the base path (API routes): `__ow_path`. */
  path: string;
  /** Namespace of a caller who presented valid credentials: `__ow_user`. */
  user?: string;
  /** Header names to keep out of `__ow_headers` (credentials the platform consumed). */
  omitHeaders?: readonly string[];
}

export interface ArgumentOptions {
  /** `raw-http`: query and body handed over unparsed. */
  raw: boolean;
  /** The action's parameters (package < binding < action), which the payload goes on top of. */
  params: readonly KeyValue[];
  /** `final`: the request may not override parameters the action defines. */
  final: boolean;
  /** Values of an API route's path placeholders (`/books/{id}`), highest precedence. */
  pathParams?: Record<string, string>;
}

/** Header names and values as the action sees them; repeated headers joined by `, `. */
export function owHeaders(
  headers: WebRequest['headers'],
  omit: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || omit.includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Query parameters as strings; of a repeated name, the last value wins. */
export function parseQuery(raw: string): Record<string, string> {
  // fromEntries defines own properties, so a `__proto__` name stays a plain argument.
  return Object.fromEntries(new URLSearchParams(raw));
}

/**
 * What a non-raw action receives from the body: fields to merge (JSON objects, forms) or an `__ow_body`
 * value (other JSON, text as a string, bytes as base64). Nothing for an empty body.
 */
export function parseBody(
  body: Buffer | undefined,
  contentType: string | undefined,
): { fields: Record<string, unknown> } | { value: unknown } | undefined {
  if (body === undefined || body.length === 0) return undefined;
  const media = mediaTypeOf(contentType);
  if (isJsonFamily(media)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest(Messages.malformed((err as Error).message));
    }
    if (!withinDepth(parsed)) {
      throw badRequest(Messages.malformed(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    return isPlainObject(parsed) ? { fields: parsed } : { value: parsed };
  }
  if (media === 'application/x-www-form-urlencoded') return { fields: parseQuery(body.toString('utf8')) };
  return { value: isTextual(media) ? body.toString('utf8') : body.toString('base64') };
}

/**
 * The raw-http `__ow_body`: text as a string; bytes, and (as OpenWhisk does, for compatibility) JSON, as
 * base64, so that a signature can be checked over the exact bytes received. '' when there is no body.
 */
export function rawBody(body: Buffer | undefined, contentType: string | undefined): string {
  if (body === undefined || body.length === 0) return '';
  const media = mediaTypeOf(contentType);
  return isTextual(media) && media !== 'application/json' ? body.toString('utf8') : body.toString('base64');
}

/**
 * The payload for the action, to go on top of its parameters: `__ow_*` context < query < body < path
 * parameters. A request that supplies a reserved name, or (with `final`) a name the action defines, is a 400.
 */
export function webPayload(req: WebRequest, o: ArgumentOptions): Record<string, unknown> {
  const context: Record<string, unknown> = {
    __ow_method: req.method.toLowerCase(),
    __ow_headers: owHeaders(req.headers, req.omitHeaders),
    __ow_path: req.path,
  };
  if (req.user !== undefined) context.__ow_user = req.user;
  const contentType = headerValue(req.headers['content-type']);

  let supplied: Record<string, unknown>;
  if (o.raw) {
    supplied = { __ow_query: req.query, __ow_body: rawBody(req.body, contentType) };
  } else {
    const body = parseBody(req.body, contentType);
    // Spreads, not Object.assign: a `__proto__` key must stay data, never become a prototype.
    supplied = { ...parseQuery(req.query), ...(body !== undefined && 'fields' in body ? body.fields : {}) };
    checkOverrides(Object.keys(supplied), o);
    if (body !== undefined && 'value' in body) supplied = { ...supplied, __ow_body: body.value };
  }
  if (o.pathParams !== undefined) {
    checkOverrides(Object.keys(o.pathParams), o);
    supplied = { ...supplied, ...o.pathParams };
  }
  return { ...context, ...supplied };
}

function checkOverrides(keys: readonly string[], o: ArgumentOptions): void {
  const frozen = o.final ? new Set(o.params.map((p) => p.key)) : undefined;
  for (const k of keys) {
    if (RESERVED_ARGUMENTS.includes(k) || frozen?.has(k) === true) throw badRequest(Messages.reservedParams);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
