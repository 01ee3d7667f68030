/**
 * wskdeploy's parameter grammar (`inputs:`), resolved to the values that are deployed:
 *
 *   name: Ann                      a value (any YAML: string, number, boolean, list, map)
 *   name: string                   a type name alone: that type's default ('' / 0 / false / {})
 *   name: $USER_NAME               from the environment (`${USER_NAME}` works inside longer strings too)
 *   port:                          the multi-line form: `value`, else `default`, else the type's default;
 *     type: integer                a `$VAR` value is converted to the declared type
 *     value: $PORT
 *     description: where to listen
 */
import type { KeyValue } from '../types.js';
import type { Issues } from './source.js';
import { substitute, substituteDeep, type Env } from './substitute.js';

const TYPE_DEFAULTS: Readonly<Record<string, () => unknown>> = {
  string: () => '',
  integer: () => 0,
  int: () => 0,
  float: () => 0,
  number: () => 0,
  boolean: () => false,
  bool: () => false,
  json: () => ({}),
};

/** Keys of the multi-line form; a map made only of these (with `type`, `value` or `default`) is one. */
const SCHEMA_KEYS = new Set(['type', 'description', 'value', 'required', 'default', 'status', 'schema']);

function isSchema(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length > 0 &&
    keys.every((k) => SCHEMA_KEYS.has(k)) &&
    (keys.includes('type') || keys.includes('value') || keys.includes('default'))
  );
}

export interface InputContext {
  env: Env;
  issues: Issues;
  /** `file:line: a.b.inputs` of the map being read. */
  where: (key: string) => string;
}

/** Converts text from the environment to the declared type; undefined (with an error) if it cannot. */
function convert(text: string, type: string, where: string, issues: Issues): unknown {
  switch (type) {
    case 'integer':
    case 'int':
      if (/^[-+]?\d+$/.test(text.trim())) return Number(text);
      break;
    case 'float':
    case 'number':
      if (text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
      break;
    case 'boolean':
    case 'bool':
      if (/^(true|false)$/i.test(text.trim())) return text.trim().toLowerCase() === 'true';
      break;
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        break;
      }
    default:
      return text;
  }
  issues.error(where, `the value '${text}' is not of type ${type}`);
  return undefined;
}

function resolveOne(key: string, raw: unknown, c: InputContext): unknown {
  const where = c.where(key);
  const warnMissing = (missing: string[]) => {
    for (const name of missing) c.issues.warn(where, `$${name} is not set in the environment: using ''`);
  };
  if (typeof raw === 'string') {
    const typeDefault = TYPE_DEFAULTS[raw];
    if (typeDefault !== undefined) return typeDefault();
    const s = substitute(raw, c.env);
    warnMissing(s.missing);
    return s.text;
  }
  if (isSchema(raw)) {
    const type = typeof raw.type === 'string' ? raw.type.toLowerCase() : undefined;
    if (raw.type !== undefined && (type === undefined || !(type in TYPE_DEFAULTS))) {
      c.issues.error(
        where,
        `type ${JSON.stringify(raw.type)} is not one of ${Object.keys(TYPE_DEFAULTS).join(', ')}`,
      );
      return undefined;
    }
    const given = raw.value !== undefined && raw.value !== null ? raw.value : raw.default;
    if (given === undefined || given === null) return type === undefined ? '' : TYPE_DEFAULTS[type]!();
    if (typeof given === 'string') {
      const s = substitute(given, c.env);
      if (s.missing.length > 0 && s.whole) {
        warnMissing(s.missing);
        return type === undefined ? '' : TYPE_DEFAULTS[type]!();
      }
      warnMissing(s.missing);
      return type === undefined || type === 'string' ? s.text : convert(s.text, type, where, c.issues);
    }
    const missing: string[] = [];
    const value = substituteDeep(given, c.env, missing);
    warnMissing(missing);
    return value;
  }
  const missing: string[] = [];
  const value = substituteDeep(raw, c.env, missing);
  warnMissing(missing);
  return value;
}

/** The `inputs:` map as key/values, in the order written. */
export function resolveInputs(inputs: Record<string, unknown>, c: InputContext): KeyValue[] {
  return Object.entries(inputs).map(([key, raw]) => ({ key, value: resolveOne(key, raw, c) }));
}
