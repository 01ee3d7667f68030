/**
 * Configuration of the cluster processes (`whirl controller`, `whirl invoker`). Every setting has one
 * name, used three ways: a flag (`--nats-url URL`), an environment variable (`WHIRL_NATS_URL`) and a key of
 * the YAML or JSON config file (`nats-url: ...`, file given by `--config` or `WHIRL_CONFIG`). A flag beats
 * the environment, which beats the file, which beats the default. This table is the single source of the
 * usage text and of docs/cluster.md's table.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../../core/errors.js';

export type Role = 'controller' | 'invoker';
type Kind = 'string' | 'number' | 'boolean';

export interface Setting {
  name: string;
  kind: Kind;
  roles: readonly Role[];
  /** Per role when it differs. */
  default: string | number | boolean | undefined | Partial<Record<Role, string | number | boolean>>;
  help: string;
}

const both: readonly Role[] = ['controller', 'invoker'];

export const SETTINGS: readonly Setting[] = [
  {
    name: 'config',
    kind: 'string',
    roles: both,
    default: undefined,
    help: 'YAML or JSON file with any of these settings',
  },
  {
    name: 'id',
    kind: 'string',
    roles: both,
    default: { controller: 'controller0', invoker: 'invoker0' },
    help: 'unique name of this process in the cluster; an invoker restarted with the same id resumes its queued work',
  },
  {
    name: 'database-url',
    kind: 'string',
    roles: both,
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    help: 'PostgreSQL holding entities, keys, limits and activation records',
  },
  {
    name: 'database-schema',
    kind: 'string',
    roles: both,
    default: 'public',
    help: "schema for Whirl's tables (created when missing)",
  },
  {
    name: 'database-pool',
    kind: 'number',
    roles: both,
    default: 10,
    help: 'PostgreSQL connections of this process',
  },
  {
    name: 'nats-url',
    kind: 'string',
    roles: both,
    default: 'nats://127.0.0.1:4222',
    help: 'NATS server(s) with JetStream, comma-separated',
  },
  {
    name: 'nats-prefix',
    kind: 'string',
    roles: both,
    default: 'whirl',
    help: "prefix of this deployment's NATS subjects and streams (several deployments can share a server)",
  },
  {
    name: 'ack-wait',
    kind: 'number',
    roles: both,
    default: 30,
    help: 'seconds before work held by a dead invoker is delivered again (same value on every process)',
  },
  {
    name: 'host',
    kind: 'string',
    roles: ['controller'],
    default: '127.0.0.1',
    help: 'address the API listens on',
  },
  { name: 'port', kind: 'number', roles: ['controller'], default: 10001, help: 'port the API listens on' },
  {
    name: 'guest-key',
    kind: 'string',
    roles: ['controller'],
    default: undefined,
    help: 'UUID:KEY of the guest namespace (created when missing; generated and printed when not given)',
  },
  {
    name: 'system-key',
    kind: 'string',
    roles: ['controller'],
    default: undefined,
    help: 'UUID:KEY of whisk.system',
  },
  {
    name: 'offline-after',
    kind: 'number',
    roles: both,
    default: 10,
    help: 'seconds without a heartbeat before an invoker counts as offline (its queued work is taken over)',
  },
  {
    name: 'probe-interval',
    kind: 'number',
    roles: ['controller'],
    default: 10,
    help: 'seconds between health-test actions sent to an invoker that is not up',
  },
  {
    name: 'inline-code',
    kind: 'number',
    roles: ['controller'],
    default: 8192,
    help: 'action code up to this many bytes travels with each activation; bigger code is fetched by invokers (cached by revision)',
  },
  {
    name: 'invocations-per-minute',
    kind: 'number',
    roles: ['controller'],
    default: 60,
    help: "default throttle of every namespace (OpenWhisk's): invokes a minute; `whirl admin limits set` overrides it per namespace",
  },
  {
    name: 'concurrent-invocations',
    kind: 'number',
    roles: ['controller'],
    default: 30,
    help: 'default throttle of every namespace: activations in flight at once',
  },
  {
    name: 'fires-per-minute',
    kind: 'number',
    roles: ['controller'],
    default: 60,
    help: 'default throttle of every namespace: trigger fires a minute',
  },
  {
    name: 'drain-timeout',
    kind: 'number',
    roles: both,
    default: 65,
    help: 'seconds a stopping process waits for blocking callers (controller) or running activations (invoker)',
  },
  {
    name: 'memory',
    kind: 'number',
    roles: ['invoker'],
    default: 2048,
    help: 'MB of memory for action containers',
  },
  {
    name: 'api-host',
    kind: 'string',
    roles: ['invoker'],
    default: 'http://127.0.0.1:10001',
    help: 'URL actions use to call Whirl (__OW_API_HOST): the load balancer in front of the controllers',
  },
  {
    name: 'sandbox',
    kind: 'string',
    roles: ['invoker'],
    default: 'process',
    help: 'where actions run: process or docker',
  },
  {
    name: 'insecure-sandbox',
    kind: 'boolean',
    roles: ['invoker'],
    default: false,
    help: 'serve several namespaces even where this host cannot isolate sandboxes',
  },
  {
    name: 'max-in-flight',
    kind: 'number',
    roles: ['invoker'],
    default: 32,
    help: 'activations this invoker takes from the bus at once (running or waiting for memory); the rest stay on the bus',
  },
  {
    name: 'idle-timeout',
    kind: 'number',
    roles: ['invoker'],
    default: 600,
    help: 'seconds before an idle warm container is removed',
  },
  {
    name: 'prewarm',
    kind: 'boolean',
    roles: ['invoker'],
    default: true,
    help: 'keep prewarmed stem cells (nodejs, python)',
  },
  {
    name: 'adopt',
    kind: 'boolean',
    roles: ['invoker'],
    default: true,
    help: 'also take queued work of offline invokers, so it never waits for them to come back',
  },
];

export type Config = Record<string, string | number | boolean | undefined>;

const defaultFor = (s: Setting, role: Role): string | number | boolean | undefined =>
  typeof s.default === 'object' ? s.default[role] : s.default;

const envName = (name: string) => `WHIRL_${name.toUpperCase().replaceAll('-', '_')}`;

function parse(s: Setting, raw: unknown, where: string): string | number | boolean {
  if (s.kind === 'number') {
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (typeof raw === 'boolean' || raw === '' || !Number.isFinite(n))
      throw new UsageError(`${where}: ${s.name} must be a number, got '${String(raw)}'`);
    return n;
  }
  if (s.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1' || raw === 'yes') return true;
    if (raw === 'false' || raw === '0' || raw === 'no') return false;
    throw new UsageError(`${where}: ${s.name} must be true or false, got '${String(raw)}'`);
  }
  if (typeof raw !== 'string' && typeof raw !== 'number')
    throw new UsageError(`${where}: ${s.name} must be a string`);
  return String(raw);
}

/** The settings of `role`: flags over environment over config file over defaults. */
export function loadConfig(
  role: Role,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Config & { help?: boolean } {
  const settings = SETTINGS.filter((s) => s.roles.includes(role));
  const byName = new Map(settings.map((s) => [s.name, s]));
  const flags = new Map<string, string | number | boolean>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    let negated = false;
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const s = byName.get(name);
    if (s === undefined) throw new UsageError(`unknown option --${name} (see whirl ${role} --help)`);
    if (s.kind === 'boolean' && (eq < 0 || negated)) {
      flags.set(name, !negated);
      continue;
    }
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, parse(s, value, 'option'));
  }
  const file = (flags.get('config') as string | undefined) ?? env[envName('config')];
  const fromFile = new Map<string, unknown>();
  if (file !== undefined && file !== '') {
    let doc: unknown;
    try {
      doc = YAML.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc))
        throw new UsageError(`${file}: expected a mapping of settings`);
      for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
        // One file may serve both roles: settings of the other role are allowed and ignored.
        if (!SETTINGS.some((s) => s.name === k)) throw new UsageError(`${file}: unknown setting '${k}'`);
        if (byName.has(k)) fromFile.set(k, v);
      }
    }
  }
  const out: Config & { help?: boolean } = { help };
  for (const s of settings) {
    const fallback = defaultFor(s, role);
    const fromEnv = env[envName(s.name)];
    out[s.name] = flags.has(s.name)
      ? flags.get(s.name)
      : fromEnv !== undefined && fromEnv !== ''
        ? parse(s, fromEnv, envName(s.name))
        : fromFile.has(s.name)
          ? parse(s, fromFile.get(s.name), file ?? 'config')
          : fallback;
  }
  return out;
}

/** `whirl controller --help` / `whirl invoker --help`. */
export function usage(role: Role, intro: string): string {
  const lines = SETTINGS.filter((s) => s.roles.includes(role)).map((s) => {
    const d = defaultFor(s, role);
    const flag = `--${s.name}${s.kind === 'boolean' ? '' : ' VALUE'}`;
    return `  ${flag.padEnd(24)} ${s.help}${d === undefined ? '' : ` (default ${String(d)})`}\n  ${''.padEnd(24)} env ${envName(s.name)}`;
  });
  return `Usage: whirl ${role} [options]\n\n${intro}\n\nOptions (also as environment variables, or keys of the --config file):\n${lines.join('\n')}\n`;
}

export { envName };
