/**
 * A `wsk`-style argument parser: long (`--param`) and short (`-p`) flags anywhere on the line,
 * `--flag=value`, bundled short booleans (`-br`), flags taking two values (`-p KEY VALUE`), repeatable
 * flags, and `--` to end flag parsing. Unknown flags are usage errors (with a suggestion), so a typo never
 * passes silently.
 */
import { UsageError } from '../core/errors.js';

export { UsageError };

export type FlagKind =
  /** present or not; `--flag=false` turns it off */
  | 'boolean'
  /** one value; the last one given wins */
  | 'string'
  /** one integer value */
  | 'number'
  /** one value, repeatable: every value is kept */
  | 'list'
  /** two values (`-p KEY VALUE`), repeatable */
  | 'pair';

export interface FlagDef {
  long: string;
  short?: string;
  kind: FlagKind;
  /** What the value is called in help, e.g. `MS`. */
  arg?: string;
  help: string;
}

type Value = boolean | string | number | string[] | [string, string][];

export class ParsedArgs {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, Value>,
  ) {}

  has(long: string): boolean {
    return this.values.has(long);
  }

  bool(long: string): boolean {
    return this.values.get(long) === true;
  }

  string(long: string): string | undefined {
    const v = this.values.get(long);
    return typeof v === 'string' ? v : undefined;
  }

  number(long: string): number | undefined {
    const v = this.values.get(long);
    return typeof v === 'number' ? v : undefined;
  }

  list(long: string): string[] {
    const v = this.values.get(long);
    return Array.isArray(v) ? (v as string[]) : [];
  }

  pairs(long: string): [string, string][] {
    const v = this.values.get(long);
    return Array.isArray(v) ? (v as [string, string][]) : [];
  }

  /** Names (long) of the flags that were given. */
  given(): string[] {
    return [...this.values.keys()];
  }
}

function display(def: FlagDef): string {
  return def.short === undefined ? `--${def.long}` : `-${def.short}/--${def.long}`;
}

/** Edit distance, for "did you mean" suggestions. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * The candidate closest to `typed`, if it is close enough to be what was meant (a third of the letters
 * wrong, at least two): `crate` finds `create`, `xyz` finds nothing.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  return candidates
    .map((c) => ({ c, n: distance(typed, c) }))
    .filter((x) => x.n <= Math.max(2, Math.floor(typed.length / 3)))
    .sort((x, y) => x.n - y.n)[0]?.c;
}

/** ` (did you mean 'create'?)`, or nothing when no candidate is close. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const best = closest(typed, candidates);
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

function unknownFlag(flag: string, defs: readonly FlagDef[]): UsageError {
  const name = flag.replace(/^-+/, '');
  const best = closest(
    name,
    defs.map((d) => d.long),
  );
  const hint = best === undefined ? '' : ` (did you mean --${best}?)`;
  return new UsageError(`unknown flag ${flag}${hint}`);
}

function parseNumber(def: FlagDef, raw: string): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`${display(def)} needs an integer, got '${raw}'`);
  return Number(raw);
}

/**
 * Parses `argv` against `defs`. When two definitions share a long or short name, the earlier one wins,
 * so a command's own flags can shadow the global ones.
 */
export function parseArgs(argv: readonly string[], defs: readonly FlagDef[]): ParsedArgs {
  const byLong = new Map<string, FlagDef>();
  const byShort = new Map<string, FlagDef>();
  for (const d of defs) {
    if (!byLong.has(d.long)) byLong.set(d.long, d);
    if (d.short !== undefined && !byShort.has(d.short)) byShort.set(d.short, d);
  }
  const values = new Map<string, Value>();
  const positionals: string[] = [];

  const take = (def: FlagDef, i: number, inline: string | undefined): number => {
    const need = def.kind === 'pair' ? 2 : 1;
    const got: string[] = inline === undefined ? [] : [inline];
    let next = i;
    while (got.length < need) {
      const v = argv[++next];
      if (v === undefined) {
        const what =
          def.kind === 'pair' ? `two values (${def.arg ?? 'KEY VALUE'})` : `a value (${def.arg ?? 'VALUE'})`;
        throw new UsageError(`${display(def)} needs ${what}`);
      }
      got.push(v);
    }
    switch (def.kind) {
      case 'string':
        values.set(def.long, got[0]!);
        break;
      case 'number':
        values.set(def.long, parseNumber(def, got[0]!));
        break;
      case 'list':
        values.set(def.long, [...((values.get(def.long) as string[] | undefined) ?? []), got[0]!]);
        break;
      case 'pair':
        values.set(def.long, [
          ...((values.get(def.long) as [string, string][] | undefined) ?? []),
          [got[0]!, got[1]!],
        ]);
        break;
      case 'boolean':
        break;
    }
    return next;
  };

  const setBoolean = (def: FlagDef, inline: string | undefined) => {
    if (inline === undefined || /^(true|yes|1)$/i.test(inline)) values.set(def.long, true);
    else if (/^(false|no|0)$/i.test(inline)) values.delete(def.long);
    else throw new UsageError(`${display(def)} is true or false, got '${inline}'`);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const def = byLong.get(name);
      if (def === undefined) throw unknownFlag(`--${name}`, defs);
      if (def.kind === 'boolean') setBoolean(def, inline);
      else {
        if (def.kind === 'pair' && inline !== undefined) {
          throw new UsageError(`${display(def)} takes two values: ${display(def)} KEY VALUE`);
        }
        i = take(def, i, inline);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const eq = arg.indexOf('=');
      const letters = arg.slice(1, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const first = byShort.get(letters[0]!);
      if (letters.length === 1) {
        if (first === undefined) throw unknownFlag(arg, defs);
        if (first.kind === 'boolean') setBoolean(first, inline);
        else i = take(first, i, inline);
        continue;
      }
      // Bundled booleans: -br == -b -r.
      for (const letter of letters) {
        const def = byShort.get(letter);
        if (def === undefined) throw unknownFlag(`-${letter}`, defs);
        if (def.kind !== 'boolean')
          throw new UsageError(`-${letter} takes a value and cannot be bundled in ${arg}`);
        values.set(def.long, true);
      }
      continue;
    }
    positionals.push(arg);
  }
  return new ParsedArgs(positionals, values);
}

/** `-p KEY VALUE` values: JSON when the text is valid JSON, else the text itself (as `wsk` does). */
export function jsonOrString(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Help lines for a set of flags, aligned. */
export function flagHelp(defs: readonly FlagDef[]): string {
  const rows = defs.map((d) => {
    const names = d.short === undefined ? `    --${d.long}` : `-${d.short}, --${d.long}`;
    const arg = d.kind === 'boolean' ? '' : ` ${d.arg ?? (d.kind === 'pair' ? 'KEY VALUE' : 'VALUE')}`;
    return [`  ${names}${arg}`, d.help] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, h]) => `${l.padEnd(width)}${h}`).join('\n');
}
