/**
 * Media types for web actions: which bodies are text and which are bytes (bytes travel to and from actions
 * as base64), the JSON family, and `Accept` negotiation (406). No I/O.
 */

/** `type/subtype` in lower case, without parameters; '' when absent or unparseable. */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const main = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(main) ? main : '';
}

/** True when `contentType` parses as `type/subtype[; params]`. */
export function isValidContentType(contentType: string): boolean {
  return mediaTypeOf(contentType) !== '';
}

/** `application/json` and every `+json` type. */
export function isJsonFamily(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

const TEXT_APPLICATION_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'application/yaml',
  'application/x-yaml',
  'application/sql',
]);

/**
 * Whether bodies of this type are text (passed as strings) rather than bytes (passed as base64): `text/*`,
 * the JSON and XML families and a few textual `application/` types. Images — SVG included, as in OpenWhisk —
 * audio, video, archives, unknown types and a missing type are bytes.
 */
export function isTextual(mediaType: string): boolean {
  if (mediaType === '') return false;
  if (mediaType.startsWith('text/')) return true;
  if (TEXT_APPLICATION_TYPES.has(mediaType) || mediaType.endsWith('+json')) return true;
  return mediaType.endsWith('+xml') && !mediaType.startsWith('image/');
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';');
    const [type, subtype] = range.trim().toLowerCase().split('/');
    if (type === undefined || subtype === undefined || type === '' || subtype === '') continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    out.push({ type, subtype, q: Number.isFinite(q) ? q : 1 });
  }
  return out;
}

/**
 * Whether a response of `mediaType` satisfies the request's `Accept` header. No header (or one that names
 * no valid range) accepts everything; ranges with `q=0` accept nothing.
 */
export function isAcceptable(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return true;
  const [type, subtype] = mediaType.split('/');
  return ranges.some(
    (r) =>
      r.q > 0 &&
      (r.type === '*' || r.type === type) &&
      (r.subtype === '*' || (r.type !== '*' && r.subtype === subtype)),
  );
}
