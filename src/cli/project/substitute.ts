/**
 * wskdeploy's dollar notation: `$NAME` and `${NAME}` in manifest and deployment values are replaced by
 * the environment variable NAME. An unset variable becomes the empty string (the specification says the
 * type's default), and the caller is told which names were missing so that it can warn.
 */

/** `${NAME}` (spaces allowed inside the braces) or `$NAME`; names as shells have them. */
const REFERENCE = /\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const WHOLE = /^(?:\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}|\$([A-Za-z_][A-Za-z0-9_]*))$/;

export type Env = Readonly<Record<string, string | undefined>>;

export interface Substituted {
  text: string;
  /** Variables referenced but not set. */
  missing: string[];
  /** The whole text was one reference (`$PORT`): typed parameters convert what it gave. */
  whole: boolean;
}

export function substitute(text: string, env: Env): Substituted {
  const missing: string[] = [];
  const whole = WHOLE.test(text);
  const out = text.replace(REFERENCE, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = env[name];
    if (value === undefined) {
      missing.push(name);
      return '';
    }
    return value;
  });
  return { text: out, missing, whole };
}

/** Every string inside a JSON-like value substituted (objects and arrays walked). */
export function substituteDeep(value: unknown, env: Env, missing: string[]): unknown {
  if (typeof value === 'string') {
    const s = substitute(value, env);
    missing.push(...s.missing);
    return s.text;
  }
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, env, missing));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, substituteDeep(v, env, missing)]),
    );
  }
  return value;
}
