/**
 * Validation of entity bodies: shapes, kinds, limits and sizes, with OpenWhisk's messages (400 "The request
 * content was malformed", 413 "... larger than allowed").
 */
import type { ActionLimits, Exec, KeyValue } from '../core/entities.js';
import { decodedCodeSize, isBinaryCode } from '../core/entities.js';
import { Messages, WhirlError, badRequest } from '../core/errors.js';
import type { EffectiveLimits, Range, SystemLimits } from '../core/limits.js';
import { resolveKind, validKindsList } from '../core/runtimes.js';

export const malformed = (detail: string): WhirlError => badRequest(Messages.malformed(detail));

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A request body that must be a JSON object (an empty body counts as `{}`). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (!isObject(body)) throw malformed('the body must be a JSON object');
  return body;
}

/** `[{key, value, init?}]`; later duplicates replace earlier ones. */
export function keyValues(value: unknown, field: string): KeyValue[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(`${field} must be an array of {"key", "value"} objects`);
  const out = new Map<string, KeyValue>();
  for (const item of value) {
    if (!isObject(item) || typeof item.key !== 'string') {
      throw malformed(`${field} must be an array of {"key", "value"} objects`);
    }
    const kv: KeyValue = { key: item.key, value: item.value === undefined ? null : item.value };
    if (item.init === true) kv.init = true;
    out.delete(item.key);
    out.set(item.key, kv);
  }
  return [...out.values()];
}

/** 413 when parameters or annotations exceed their limit (measured as JSON, like OpenWhisk). */
export function checkSize(field: string, kvs: readonly KeyValue[], max: number): void {
  const size = Buffer.byteLength(JSON.stringify(kvs));
  if (size > max) throw new WhirlError(413, Messages.entityTooLarge(field, size, max));
}

function limitValue(name: string, unit: string, v: unknown, range: Range, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw malformed(`${name} must be an integer (${what})`);
  const u = unit ? ` ${unit}` : '';
  if (v < range.min)
    throw malformed(`requirement failed: ${name} ${v}${u} below allowed threshold of ${range.min}${u}`);
  if (v > range.max)
    throw malformed(`requirement failed: ${name} ${v}${u} exceeds allowed threshold of ${range.max}${u}`);
  return v;
}

/** The action's limits: given values checked against the namespace's bounds, the rest kept or defaulted. */
export function actionLimits(
  value: unknown,
  previous: ActionLimits | undefined,
  ns: EffectiveLimits,
): ActionLimits {
  const base: ActionLimits = previous ?? {
    timeout: ns.timeoutMs.std,
    memory: ns.memoryMB.std,
    logs: ns.logsMB.std,
    concurrency: ns.concurrency.std,
  };
  if (value === undefined || value === null) return base;
  if (!isObject(value)) throw malformed('limits must be an object');
  return {
    timeout:
      value.timeout === undefined
        ? base.timeout
        : limitValue('timeout', 'milliseconds', value.timeout, ns.timeoutMs, 'ms'),
    memory:
      value.memory === undefined ? base.memory : limitValue('memory', 'MB', value.memory, ns.memoryMB, 'MB'),
    logs: value.logs === undefined ? base.logs : limitValue('logs', 'MB', value.logs, ns.logsMB, 'MB'),
    concurrency:
      value.concurrency === undefined
        ? base.concurrency
        : limitValue('concurrency', '', value.concurrency, ns.concurrency, 'activations'),
  };
}

/** The exec of a PUT: kind resolved, `binary` computed, code size checked. Sequences are checked by the caller. */
export function readExec(value: unknown, system: SystemLimits): Exec {
  if (!isObject(value) || typeof value.kind !== 'string')
    throw malformed('exec must be an object with a "kind"');
  const kind = value.kind.toLowerCase();
  const main = value.main;
  if (main !== undefined && (typeof main !== 'string' || main.length === 0))
    throw malformed('exec.main must be a non-empty string');
  const code = value.code;
  if (code !== undefined && typeof code !== 'string') throw malformed('exec.code must be a string');
  const checkCode = (c: string, binary: boolean) => {
    const size = decodedCodeSize(c, binary);
    if (size > system.codeSize)
      throw new WhirlError(413, Messages.entityTooLarge('exec', size, system.codeSize));
  };
  if (kind === 'sequence') {
    const components = value.components;
    if (!Array.isArray(components) || components.some((c) => typeof c !== 'string')) {
      throw malformed('exec.components must be an array of action names');
    }
    return { kind: 'sequence', components: components as string[] };
  }
  if (kind === 'blackbox') {
    if (typeof value.image !== 'string' || value.image.length === 0)
      throw malformed('exec.image must name a docker image');
    const binary = code !== undefined && isBinaryCode(code);
    if (code !== undefined) checkCode(code, binary);
    return {
      kind: 'blackbox',
      image: value.image,
      binary,
      ...(code === undefined ? {} : { code }),
      ...(main === undefined ? {} : { main: main }),
    };
  }
  const runtime = resolveKind(kind);
  if (runtime === undefined) throw badRequest(Messages.unsupportedKind(value.kind, validKindsList()));
  if (code === undefined) throw malformed('exec.code is required for this kind');
  const binary = isBinaryCode(code);
  checkCode(code, binary);
  return { kind: runtime.kind, code, binary, ...(main === undefined ? {} : { main: main }) };
}

/** 403 when the namespace may not use the kind (`allowedKinds`). */
export function checkKindAllowed(kind: string, limits: EffectiveLimits): void {
  if (limits.allowedKinds !== undefined && kind !== 'sequence' && !limits.allowedKinds.includes(kind)) {
    throw new WhirlError(403, Messages.kindNotAllowed(kind));
  }
}
