/**
 * An activation result as an HTTP response (spec §4.4), by the extension the request named: `.json`,
 * `.html`, `.svg`, `.text` take one field of the result, `.http` lets the action set the status, headers
 * and body. Pure functions: failures are WhirlErrors with OpenWhisk's messages.
 */
import { StatusCode, type ActivationRecord } from '../../core/activation.js';
import { WhirlError, badRequest } from '../../core/errors.js';
import { isJsonFamily, isTextual, isValidContentType, mediaTypeOf } from './media.js';

export const EXTENSIONS = ['http', 'json', 'html', 'svg', 'text'] as const;
export type Extension = (typeof EXTENSIONS)[number];

export const WebMessages = {
  invalidMedia: (media: string) => `Response is not valid '${media}'.`,
  propertyNotFound: 'Response does not include requested property.',
  unknownContentType: 'Response did not specify a known content-type.',
  contentTypeMismatch: 'Response type in header did not match generated content type.',
  processingError: 'There was an error processing your request.',
  notReady: 'Response not yet ready.',
  notAcceptable: (contentType: string) =>
    `Resource representation is only available with these types:\n${contentType}`,
} as const;

export interface WebResponse {
  status: number;
  /** Lower-case name → value(s); several values are sent as repeated headers (`set-cookie`). */
  headers: Map<string, string[]>;
  /** Absent for an empty response. */
  body?: Buffer;
  /** The body's content type (also in `headers`), for `Accept` negotiation. */
  contentType?: string;
}

const JSON_TYPE = 'application/json';
const HTML_TYPE = 'text/html; charset=UTF-8';
const SVG_TYPE = 'image/svg+xml';
const TEXT_TYPE = 'text/plain; charset=UTF-8';

/** Framing and connection headers belong to the server, whatever the action says. */
const SERVER_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function withBody(contentType: string, body: Buffer | string, status = 200): WebResponse {
  return {
    status,
    headers: new Map([['content-type', [contentType]]]),
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    contentType,
  };
}

/**
 * The response for a completed activation: the result (success) or its `error` field (application error)
 * rendered by `ext`; any other failure is OpenWhisk's 400.
 */
export function responseFor(record: ActivationRecord, ext: Extension): WebResponse {
  const code = record.response.statusCode;
  const result: unknown = record.response.result;
  if (code === StatusCode.Success) return transcode(ext, result ?? {});
  if (code === StatusCode.ApplicationError) {
    if (!isObject(result) || !('error' in result)) throw new WhirlError(404, WebMessages.propertyNotFound);
    return transcode(ext, result.error);
  }
  throw badRequest(WebMessages.processingError);
}

export function transcode(ext: Extension, result: unknown): WebResponse {
  switch (ext) {
    case 'json':
      if (result !== null && typeof result === 'object') return withBody(JSON_TYPE, JSON.stringify(result));
      throw badRequest(WebMessages.invalidMedia(JSON_TYPE));
    case 'html':
      return stringField(result, 'html', HTML_TYPE, 'text/html');
    case 'svg':
      return stringField(result, 'svg', SVG_TYPE, SVG_TYPE);
    case 'text':
      return asText(result);
    case 'http':
      return asHttp(result);
  }
}

/** `.html`/`.svg`: the `body` (else `html`/`svg`) field of an object result, or the result itself; a string. */
function stringField(result: unknown, field: string, contentType: string, media: string): WebResponse {
  const value = isObject(result) ? (result.body ?? result[field]) : result;
  if (typeof value !== 'string') throw badRequest(WebMessages.invalidMedia(media));
  return withBody(contentType, value);
}

function asText(result: unknown): WebResponse {
  let value: unknown = result;
  if (isObject(result)) {
    value = 'body' in result ? result.body : 'text' in result ? result.text : undefined;
    if (value === undefined) throw new WhirlError(404, WebMessages.propertyNotFound);
  }
  const text =
    typeof value === 'string'
      ? value
      : value !== null && typeof value === 'object'
        ? JSON.stringify(value, null, 2)
        : String(value);
  return withBody(TEXT_TYPE, text);
}

const invalidHttp = () => badRequest(WebMessages.invalidMedia('message/http'));

function headerValues(name: string, v: unknown): string[] {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    const s = String(v);
    if (!HEADER_VALUE.test(s)) throw invalidHttp();
    return [s];
  }
  if (Array.isArray(v)) return v.flatMap((inner) => headerValues(name, inner));
  throw invalidHttp();
}

function statusOf(v: unknown, dflt: number): number {
  let n: number;
  if (v === undefined) return dflt;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^[+-]?\d{1,9}$/.test(v)) n = Number(v);
  else throw invalidHttp();
  // 1xx are not final responses; other values are not HTTP at all.
  if (!Number.isInteger(n) || n < 200 || n > 599) throw invalidHttp();
  return n;
}

/** Text content types travel with a charset; the JSON family and bytes as given. */
function contentTypeHeader(given: string, media: string): string {
  if (!isTextual(media) || isJsonFamily(media) || /;\s*charset=/i.test(given)) return given;
  return `${given}; charset=UTF-8`;
}

/** A base64 string as bytes; undefined when it is not base64 (whitespace and line breaks are allowed). */
function decodeBase64(s: string): Buffer | undefined {
  const t = s.replace(/[\r\n\t ]/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

function isJsonText(b: Buffer): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
    return true;
  } catch {
    return false;
  }
}

/** `.http`: `statusCode`, `headers` and `body` of an object result. */
function asHttp(result: unknown): WebResponse {
  if (!isObject(result)) throw invalidHttp();
  const headers = new Map<string, string[]>();
  if (result.headers !== undefined) {
    if (!isObject(result.headers)) throw invalidHttp();
    for (const [name, value] of Object.entries(result.headers)) {
      if (!TOKEN.test(name)) throw invalidHttp();
      const key = name.toLowerCase();
      const values = headerValues(name, value);
      if (SERVER_HEADERS.has(key)) continue;
      headers.set(key, [...(headers.get(key) ?? []), ...values]);
    }
  }
  const givenType = headers.get('content-type')?.[0];
  headers.delete('content-type');
  const body = result.body;

  if (body === undefined || body === null || body === '') {
    // An empty response has no content type, whatever the headers said.
    return { status: statusOf(result.statusCode, 204), headers };
  }
  const status = statusOf(result.statusCode, 200);
  let contentType: string;
  let bytes: Buffer;
  if (typeof body === 'string') {
    const declared = givenType ?? 'text/html';
    if (!isValidContentType(declared)) throw badRequest(WebMessages.unknownContentType);
    const media = mediaTypeOf(declared);
    contentType = contentTypeHeader(declared, media);
    if (isTextual(media)) {
      // Older actions return JSON base64-encoded; decode it only when that yields JSON.
      const decoded = isJsonFamily(media) ? decodeBase64(body) : undefined;
      bytes = decoded !== undefined && isJsonText(decoded) ? decoded : Buffer.from(body, 'utf8');
    } else {
      const decoded = decodeBase64(body);
      if (decoded === undefined) throw badRequest(WebMessages.contentTypeMismatch);
      bytes = decoded;
    }
  } else {
    const declared = givenType ?? JSON_TYPE;
    if (!isValidContentType(declared)) throw badRequest(WebMessages.unknownContentType);
    if (!isJsonFamily(mediaTypeOf(declared))) throw badRequest(WebMessages.contentTypeMismatch);
    contentType = declared;
    bytes = Buffer.from(JSON.stringify(body), 'utf8');
  }
  headers.set('content-type', [contentType]);
  return { status, headers, body: bytes, contentType };
}
