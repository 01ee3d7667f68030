/**
 * How the CLI prints: `ok: ...` lines, JSON with 4-space indentation, entity and activation tables in
 * `wsk`'s layout, and the `--verbose` request/response trace (on stderr, bodies cut at 1000 bytes, the
 * key always masked).
 */
import type { Exchange } from './client.js';
import { MASKED } from './client.js';
import type { ActivationSummary, Entity } from './types.js';
import { annotation } from './types.js';

export interface IO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: IO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** An IO that records what was printed (tests). */
export function memoryIO(): IO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 4) ?? 'undefined';
}

/** Replaces every occurrence of the secrets (and their base64 forms) with a mask. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    for (const form of [s, Buffer.from(s).toString('base64')]) out = out.split(form).join(MASKED);
  }
  return out;
}

/** The auth key and its secret half, which must never be printed by `--verbose`/`--debug`. */
export function secretsOf(auth: string | undefined): string[] {
  if (auth === undefined || auth === '') return [];
  const colon = auth.indexOf(':');
  return colon < 0 ? [auth] : [auth, auth.slice(colon + 1)];
}

export const VERBOSE_BODY_LIMIT = 1000;

export function truncateBody(text: string, max = VERBOSE_BODY_LIMIT): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= max) return text;
  return `${Buffer.from(text).subarray(0, max).toString('utf8')}... (${bytes - max} more bytes not shown)`;
}

/** The `--verbose` trace of one exchange. */
export function formatExchange(e: Exchange, secrets: readonly (string | undefined)[]): string {
  const lines: string[] = [`> ${e.method} ${e.url}`];
  for (const [k, v] of Object.entries(e.requestHeaders)) lines.push(`> ${k}: ${v}`);
  if (e.requestBody !== undefined) {
    lines.push(`> body (${Buffer.byteLength(e.requestBody)} bytes):`, truncateBody(e.requestBody));
  }
  if (e.error !== undefined) {
    lines.push(`< no response after ${e.durationMs} ms: ${e.error.message}`);
  } else {
    lines.push(`< ${e.status ?? '?'} (${e.durationMs} ms)`);
    for (const [k, v] of Object.entries(e.responseHeaders ?? {})) {
      if (v !== undefined) lines.push(`< ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    }
    const body = e.responseBody ?? '';
    if (body !== '') lines.push(`< body (${Buffer.byteLength(body)} bytes):`, truncateBody(body));
  }
  return `${redact(lines.join('\n'), secrets)}\n\n`;
}

/** `/ns/name` of a listed entity (`namespace` may be `ns/pkg`). */
export function entityFqn(e: Pick<Entity, 'namespace' | 'name'>): string {
  return `/${e.namespace}/${e.name}`;
}

/** The kind shown in action lists: the `exec` annotation, else what the exec says. */
export function actionKind(e: Entity): string {
  const fromAnnotation = annotation(e, 'exec');
  if (typeof fromAnnotation === 'string') return fromAnnotation;
  const exec = e.exec as { kind?: unknown } | undefined;
  return typeof exec?.kind === 'string' ? exec.kind : '';
}

/** One table row: name padded to 70 columns, then `private`/`shared`, then extra columns. */
export function entityRow(e: Entity, ...extra: string[]): string {
  const fqn = entityFqn(e);
  const visibility = e.publish === true ? 'shared' : 'private';
  return [`${fqn.padEnd(70)} ${visibility}`, ...extra.filter((x) => x !== '')].join(' ');
}

export function sortByName<T extends Pick<Entity, 'namespace' | 'name'>>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => entityFqn(a).localeCompare(entityFqn(b)));
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

const STATUS_WORDS = ['success', 'application error', 'developer error', 'internal error'];

export function statusWord(statusCode: number | undefined): string {
  return statusCode === undefined ? 'unknown' : (STATUS_WORDS[statusCode] ?? `status ${statusCode}`);
}

export const ACTIVATION_HEADER =
  'Datetime            Activation ID                    Kind         Start Duration   Status            Entity';

/** A row of `activation list`. */
export function activationRow(a: ActivationSummary): string {
  const kind = annotation(a, 'kind');
  const path = annotation(a, 'path');
  const cold = annotation(a, 'initTime') !== undefined;
  const entity = `${typeof path === 'string' ? path : `${a.namespace}/${a.name}`}${a.version === undefined ? '' : `:${a.version}`}`;
  return [
    formatTime(a.start),
    a.activationId.padEnd(32),
    (typeof kind === 'string' ? kind : a.end === undefined ? 'trigger' : '').padEnd(12),
    (a.end === undefined ? '' : cold ? 'cold' : 'warm').padEnd(5),
    (a.duration === undefined ? '' : `${a.duration}ms`).padEnd(10),
    statusWord(a.statusCode).padEnd(17),
    entity,
  ].join(' ');
}

/** Removes the `<timestamp> <stream>: ` prefix of an activation log line. */
export function stripLogLine(line: string): string {
  const m = /^\S+\s+(stdout|stderr):\s?(.*)$/s.exec(line);
  return m === null ? line : m[2]!;
}

/** `a.b.c` inside a JSON value; undefined when absent. */
export function fieldOf(value: unknown, field: string): unknown {
  let cur = value;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
