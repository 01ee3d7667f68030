/**
 * Query-string parsing with OpenWhisk's exact error strings (spec §1.5).
 */
import { badRequest } from '../core/errors.js';

export const MAX_LIST_LIMIT = 200;
export const DEFAULT_LIST_LIMIT = 30;

export type Query = Record<string, string | string[] | undefined>;

function single(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** A 32-bit integer, as OpenWhisk parses these parameters: anything else (99999999999999999999) is not one. */
function integer(collection: string, raw: string): number {
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < -(2 ** 31) || n > 2 ** 31 - 1)
    throw badRequest(`The value '${raw}' is not an integer for ${collection}.`);
  return n;
}

/** `limit` (default 30, 0 = the maximum, at most 200), `skip` (≥ 0) and `count`. */
export function listParams(q: Query, collection: string): { limit: number; skip: number; count: boolean } {
  const rawLimit = single(q, 'limit');
  const rawSkip = single(q, 'skip');
  let limit = DEFAULT_LIST_LIMIT;
  if (rawLimit !== undefined) {
    limit = integer(collection, rawLimit);
    if (limit < 0 || limit > MAX_LIST_LIMIT) {
      throw badRequest(
        `The value '${limit}' is not in the range of 0 to ${MAX_LIST_LIMIT} for ${collection}.`,
      );
    }
    if (limit === 0) limit = MAX_LIST_LIMIT;
  }
  let skip = 0;
  if (rawSkip !== undefined) {
    skip = integer(collection, rawSkip);
    if (skip < 0)
      throw badRequest(`The value '${skip}' is not greater than or equal to 0 for ${collection}.`);
  }
  return { limit, skip, count: flag(q, 'count') };
}

/** A boolean query flag: only `true` (any case) turns it on. */
export function flag(q: Query, name: string, dflt = false): boolean {
  const v = single(q, name);
  if (v === undefined) return dflt;
  return v.toLowerCase() === 'true';
}

export function stringParam(q: Query, name: string): string | undefined {
  return single(q, name);
}
