/**
 * The CLI's properties: `~/.wskprops` (or the file named by `WSK_CONFIG_FILE`), `KEY=value` lines as
 * `wsk` writes them. Effective settings are resolved flag > environment > file > default.
 *
 * APIHOST without a scheme: loopback hosts (`localhost`, `127.x.x.x`, `::1`, `0.0.0.0`) get `http://`
 * (that is how `whirl standalone` serves); every other host gets `https://`, as `wsk` assumes. A trailing
 * `/` is dropped.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_APIVERSION = 'v1';
export const DEFAULT_NAMESPACE = '_';

/** Property keys this CLI understands (others in the file are kept untouched). */
export const PROPERTY_KEYS = ['AUTH', 'APIHOST', 'APIVERSION', 'NAMESPACE'] as const;
export type PropertyKey = (typeof PROPERTY_KEYS)[number];

export type Env = Record<string, string | undefined>;

export function propsPath(env: Env = process.env): string {
  const file = env.WSK_CONFIG_FILE;
  return file !== undefined && file !== '' ? file : join(homedir(), '.wskprops');
}

/** Parses `KEY=value` lines; blank lines and `#` comments are skipped, later keys win. */
export function parseProps(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return props;
}

export function readProps(file: string): Map<string, string> {
  if (!existsSync(file)) return new Map();
  return parseProps(readFileSync(file, 'utf8'));
}

/** Writes the properties (only the owner may read the file: it holds the key). */
export function writeProps(file: string, props: Map<string, string>): void {
  const text = [...props].map(([k, v]) => `${k}=${v}\n`).join('');
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|\[::1\]|::1)$/i;

/** `host[:port]` → URL with scheme, no trailing slash (see the module comment for the scheme rule). */
export function normalizeApiHost(raw: string): string {
  let host = raw.trim().replace(/\/+$/, '');
  if (host === '') return host;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(/[:/]/)[0]!;
    host = `${LOOPBACK.test(hostname) ? 'http' : 'https'}://${host}`;
  }
  return host;
}

export type Source = 'flag' | 'env' | 'file' | 'default';

export interface Setting {
  value: string | undefined;
  source: Source;
}

export interface Config {
  auth: Setting;
  /** Normalized (scheme, no trailing slash). */
  apihost: Setting;
  apiversion: Setting;
  namespace: Setting;
  insecure: boolean;
  file: string;
}

export interface ConfigFlags {
  auth?: string | undefined;
  apihost?: string | undefined;
  apiversion?: string | undefined;
  insecure?: boolean | undefined;
}

const pick = (
  flag: string | undefined,
  env: string | undefined,
  file: string | undefined,
  dflt?: string,
): Setting => {
  if (flag !== undefined && flag !== '') return { value: flag, source: 'flag' };
  if (env !== undefined && env !== '') return { value: env, source: 'env' };
  if (file !== undefined && file !== '') return { value: file, source: 'file' };
  return { value: dflt, source: 'default' };
};

/** Effective settings: flag > environment (`WHISK_*`) > properties file > default. */
export function resolveConfig(flags: ConfigFlags, env: Env = process.env, file = propsPath(env)): Config {
  const props = readProps(file);
  const apihost = pick(flags.apihost, env.WHISK_APIHOST, props.get('APIHOST'));
  return {
    auth: pick(flags.auth, env.WHISK_AUTH, props.get('AUTH')),
    apihost: { ...apihost, value: apihost.value === undefined ? undefined : normalizeApiHost(apihost.value) },
    apiversion: pick(flags.apiversion, env.WHISK_APIVERSION, props.get('APIVERSION'), DEFAULT_APIVERSION),
    namespace: pick(undefined, undefined, props.get('NAMESPACE'), DEFAULT_NAMESPACE),
    insecure: flags.insecure === true,
    file,
  };
}

/** Where a setting came from, for `--debug` and error hints. */
export function describeSource(name: string, s: Setting, file: string): string {
  switch (s.source) {
    case 'flag':
      return 'the command line';
    case 'env':
      return `the environment (WHISK_${name.toUpperCase()})`;
    case 'file':
      return file;
    default:
      return 'the default';
  }
}
