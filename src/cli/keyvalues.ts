/**
 * Parameters and annotations from the command line (`-p KEY VALUE`, `-P FILE`, `-a`, `-A`) and the
 * web-action flags (`--web`, `--web-secure`) as annotations (spec §4.3).
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jsonOrString, UsageError } from './args.js';
import type { KeyValue } from './types.js';

/** A JSON file holding one object: its entries become key/values. */
export function readKeyValueFile(path: string, flag: string): KeyValue[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${flag}: cannot read the file '${path}'`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: '${path}' is not valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${flag}: '${path}' must hold a JSON object, e.g. {"name": "value"}`);
  }
  return Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: v }));
}

/** File entries first, then `KEY VALUE` pairs (values parsed as JSON when they are JSON); later keys win. */
export function collectKeyValues(
  pairs: readonly [string, string][],
  files: readonly string[],
  fileFlag: string,
): KeyValue[] {
  const out = new Map<string, KeyValue>();
  for (const file of files) for (const kv of readKeyValueFile(file, fileFlag)) out.set(kv.key, kv);
  for (const [key, raw] of pairs) {
    out.delete(key);
    out.set(key, { key, value: jsonOrString(raw) });
  }
  return [...out.values()];
}

export function toObject(kvs: readonly KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]));
}

/** `--web true|yes|false|no|raw` → `web-export`, `raw-http`, `final`. */
export function webAnnotations(web: string): KeyValue[] {
  const v = web.trim().toLowerCase();
  const set = (exported: boolean, raw: boolean, final: boolean): KeyValue[] => [
    { key: 'web-export', value: exported },
    { key: 'raw-http', value: raw },
    { key: 'final', value: final },
  ];
  if (v === 'true' || v === 'yes') return set(true, false, true);
  if (v === 'raw') return set(true, true, true);
  if (v === 'false' || v === 'no') return set(false, false, false);
  throw new UsageError(`--web is true, false or raw, not '${web}'`);
}

/** Whether a `--web` value turns web export on. */
export function webEnabled(web: string): boolean {
  return ['true', 'yes', 'raw'].includes(web.trim().toLowerCase());
}

/**
 * `--web-secure SECRET|true|false` → `require-whisk-auth`: `true` picks a random number secret (shown
 * with `whirl action get NAME annotations`), `false` removes the requirement, anything else is the secret.
 */
export function webSecureAnnotation(
  secure: string,
  random: () => number = () => randomInt(1, 2 ** 47),
): KeyValue {
  const v = secure.trim();
  if (v.toLowerCase() === 'true') return { key: 'require-whisk-auth', value: random() };
  if (v.toLowerCase() === 'false') return { key: 'require-whisk-auth', value: false };
  if (v === '') throw new UsageError('--web-secure needs a secret, true or false');
  return { key: 'require-whisk-auth', value: v };
}

/** Merges key/value lists; later lists win for the same key, order of first appearance kept. */
export function mergeKeyValues(...lists: readonly (readonly KeyValue[])[]): KeyValue[] {
  const out = new Map<string, KeyValue>();
  for (const list of lists) for (const kv of list) out.set(kv.key, kv);
  return [...out.values()];
}
