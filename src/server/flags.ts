/**
 * A small flag parser for the server commands: `--name value`, `--name=value`, boolean `--flag`.
 * Unknown flags are errors, so typos never pass silently.
 */
import { UsageError } from '../core/errors.js';

export interface FlagSpec {
  [name: string]: 'string' | 'boolean' | 'number';
}

export function parseFlags<S extends FlagSpec>(
  argv: string[],
  spec: S,
): {
  flags: { [K in keyof S]?: S[K] extends 'boolean' ? boolean : S[K] extends 'number' ? number : string };
  rest: string[];
} {
  const flags: Record<string, string | number | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const type = spec[name];
    if (type === undefined) throw new UsageError(`unknown option --${name}`);
    if (type === 'boolean') {
      flags[name] = eq < 0 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
      flags[name] = n;
    } else flags[name] = value;
  }
  return { flags: flags as never, rest };
}
