/**
 * What the entity commands (action, package, trigger, rule) share: the `-p/-P/-a/-A` flags, reading them,
 * `--shared yes|no`, `get NAME [FIELD]` printing and `--summary` text in `wsk`'s layout.
 */
import { UsageError, type FlagDef } from '../args.js';
import type { Context } from '../command.js';
import { collectKeyValues } from '../keyvalues.js';
import { fieldOf } from '../output.js';
import { annotation, type Entity, type KeyValue } from '../types.js';

export const PARAM_FLAGS: FlagDef[] = [
  {
    long: 'param',
    short: 'p',
    kind: 'pair',
    arg: 'KEY VALUE',
    help: 'parameter (VALUE is JSON if it parses, else a string)',
  },
  { long: 'param-file', short: 'P', kind: 'list', arg: 'FILE', help: 'parameters from a JSON object file' },
];

export const ANNOTATION_FLAGS: FlagDef[] = [
  {
    long: 'annotation',
    short: 'a',
    kind: 'pair',
    arg: 'KEY VALUE',
    help: 'annotation (VALUE is JSON if it parses)',
  },
  {
    long: 'annotation-file',
    short: 'A',
    kind: 'list',
    arg: 'FILE',
    help: 'annotations from a JSON object file',
  },
];

export const SUMMARY_FLAG: FlagDef = {
  long: 'summary',
  short: 's',
  kind: 'boolean',
  help: 'print a summary: description and parameters',
};

export const SHARED_FLAG: FlagDef = {
  long: 'shared',
  kind: 'string',
  arg: 'yes|no',
  help: 'share the package with every namespace (yes) or keep it private (no)',
};

/** `-p`/`-P` (or `-a`/`-A`) as key/values; undefined when none of them was given. */
export function optionalKeyValues(ctx: Context, which: 'param' | 'annotation'): KeyValue[] | undefined {
  const file = `${which}-file`;
  if (!ctx.args.has(which) && !ctx.args.has(file)) return undefined;
  return collectKeyValues(ctx.args.pairs(which), ctx.args.list(file), `--${file}`);
}

/** `--shared yes|no` (also true/false) → `publish`; undefined when not given. */
export function sharedFlag(ctx: Context): boolean | undefined {
  const v = ctx.args.string('shared');
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === 'yes' || t === 'true') return true;
  if (t === 'no' || t === 'false') return false;
  throw new UsageError(`--shared is yes or no, not '${v}'`);
}

/**
 * `ok: got <kind> NAME` and the entity as JSON, or with FIELD (a dotted path) that field only; an unknown
 * field is a usage error that lists the fields there are.
 */
export function printGot(ctx: Context, kind: string, name: string, entity: object, field?: string): void {
  if (field === undefined) {
    ctx.ok(`got ${kind} ${name}`);
    ctx.json(entity);
    return;
  }
  const value = fieldOf(entity, field);
  if (value === undefined) {
    throw new UsageError(`the ${kind} has no field '${field}' (fields: ${Object.keys(entity).join(', ')})`);
  }
  ctx.ok(`got ${kind} ${name}, displaying field ${field}`);
  ctx.json(value);
}

/** Parameter names for a summary: bound ones (with a value) marked `*`, then declared ones. */
export function parameterNames(e: { parameters?: KeyValue[] | undefined; annotations?: KeyValue[] }): string {
  const bound = (e.parameters ?? []).filter((p) => p.key !== '_actions').map((p) => p.key);
  const names = new Set(bound.map((k) => `*${k}`));
  const declared = annotation(e, 'parameters');
  if (Array.isArray(declared)) {
    for (const d of declared as { name?: unknown }[]) {
      if (typeof d.name === 'string' && !bound.includes(d.name)) names.add(d.name);
    }
  }
  return names.size === 0 ? 'none defined' : [...names].join(', ');
}

/** `<kind> /ns/name: description` and its parameters, as `wsk ... get --summary` prints them. */
export function summaryLines(
  kind: string,
  fqn: string,
  e: { parameters?: KeyValue[] | undefined; annotations?: KeyValue[] },
  indent = '',
): string[] {
  const description = annotation(e, 'description');
  return [
    `${indent}${kind} ${fqn}${typeof description === 'string' ? `: ${description}` : ''}`,
    `${indent}   (parameters: ${parameterNames(e)})`,
  ];
}

/** `/ns[/pkg]/name` of an entity as the server returns it. */
export function fqnOf(e: Pick<Entity, 'namespace' | 'name'>): string {
  return `/${e.namespace}/${e.name}`;
}
