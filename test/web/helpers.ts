/** Helpers for the web action and API gateway tests: REST calls, action creation, a tiny PNG encoder. */
import { deflateSync, crc32 } from 'node:zlib';

export interface Rest {
  status: number;
  headers: Headers;
  body: unknown;
}

export const basic = (key: string): string => `Basic ${Buffer.from(key).toString('base64')}`;

/** A REST API call as `key` (JSON in, JSON out); `path` is below /api/v1. */
export async function rest(
  url: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Rest> {
  const r = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      authorization: basic(key),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (YAML, empty)
  }
  return { status: r.status, headers: r.headers, body: parsed };
}

export interface ActionSpec {
  code: string;
  /** `true`, `raw` or undefined (not a web action). */
  web?: true | 'raw';
  annotations?: Record<string, unknown>;
  params?: Record<string, unknown>;
  kind?: string;
}

/** Creates (or replaces) an action in the key's namespace; `name` may be `pkg/name`. */
export async function putAction(url: string, key: string, name: string, spec: ActionSpec): Promise<void> {
  const annotations: Record<string, unknown> = {
    ...(spec.web === undefined ? {} : { 'web-export': true, 'raw-http': spec.web === 'raw', final: true }),
    ...spec.annotations,
  };
  const r = await rest(url, key, 'PUT', `/namespaces/_/actions/${name}?overwrite=true`, {
    exec: { kind: spec.kind ?? 'nodejs:20', code: spec.code },
    annotations: Object.entries(annotations).map(([k, value]) => ({ key: k, value })),
    parameters: Object.entries(spec.params ?? {}).map(([k, value]) => ({ key: k, value })),
  });
  if (r.status !== 200) throw new Error(`cannot create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([len, typed, crc]);
}

/** A valid RGBA PNG of `width`×`height` pixels whose colours come from `pixel` (deterministic). */
export function makePng(width: number, height: number, pixel: (x: number, y: number) => number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const rows = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4);
    rows[row] = 0; // filter: none
    for (let x = 0; x < width; x++) rows.writeUInt32BE(pixel(x, y) >>> 0, row + 1 + x * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A pseudo-random but repeatable 32-bit value per pixel (so the PNG barely compresses). */
export const noise = (x: number, y: number): number => {
  let h = (x * 374761393 + y * 668265263) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return (h ^ (h >>> 16)) >>> 0;
};
