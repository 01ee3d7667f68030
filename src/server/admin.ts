/**
 * `whirl admin`: operator commands against a data directory (the running server notices within a second):
 *   user create SUBJECT [-u UUID:KEY] [-ns NAMESPACE]   prints the new UUID:KEY
 *   user delete SUBJECT [-ns NAMESPACE]
 *   user get SUBJECT [-ns NAMESPACE]                    namespaces and uuids (keys are stored hashed)
 *   user list NAMESPACE                                 subjects and uuids of a namespace
 *   user whois UUID:KEY                                 whose key this is
 *   user block|unblock SUBJECT...
 *   limits set NAMESPACE [--invocationsPerMinute N] [--concurrentInvocations N] [--firesPerMinute N]
 *              [--allowedKinds K...] [--storeActivations true|false] [--outboundNetwork true|false]
 *              [--min|maxAction{Memory,Logs,Timeout,Concurrency} N]
 *   limits get NAMESPACE
 *   limits delete NAMESPACE
 * All take --data-dir DIR (default $WHIRL_DATA_DIR or ~/.whirl), or, for a cluster, --database-url URL
 * [--database-schema S] (default $WHIRL_DATABASE_URL, $WHIRL_DATABASE_SCHEMA).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  generateCredentials,
  keyMatches,
  newIdentity,
  parseCredentials,
  KEY_LENGTH,
} from '../core/identity.js';
import { NAMESPACE_LIMIT_KEYS, type NamespaceLimits } from '../core/limits.js';
import { isValidName } from '../core/names.js';
import { resolveKind } from '../core/runtimes.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { UsageError } from '../core/errors.js';

export const ADMIN_USAGE = `Usage: whirl admin <user|limits> <verb> ... [--data-dir DIR]

  user create SUBJECT [-u UUID:KEY] [-ns NAMESPACE]   create a key (prints UUID:KEY)
  user delete SUBJECT [-ns NAMESPACE]                 delete the subject's keys (of one namespace)
  user get SUBJECT [-ns NAMESPACE]                    show the subject's namespaces and uuids
  user list NAMESPACE                                 show who has keys for a namespace
  user whois UUID:KEY                                 show whose key this is
  user block SUBJECT... | user unblock SUBJECT...
  limits set NAMESPACE [--invocationsPerMinute N] [--concurrentInvocations N] [--firesPerMinute N]
                       [--allowedKinds KIND...] [--storeActivations true|false] [--outboundNetwork true|false]
                       [--minActionMemory MB] [--maxActionMemory MB] [--minActionLogs MB] [--maxActionLogs MB]
                       [--minActionTimeout MS] [--maxActionTimeout MS]
                       [--minActionConcurrency N] [--maxActionConcurrency N]
  limits get NAMESPACE
  limits delete NAMESPACE

Keys are stored hashed: a key is shown once, when it is created.
A cluster's keys and limits live in its PostgreSQL: pass --database-url URL [--database-schema S]
(or set WHIRL_DATABASE_URL) instead of --data-dir; every controller notices within a second.
`;

interface Parsed {
  positional: string[];
  options: Map<string, string[]>;
}

/** wskadmin-style options: `-ns X`, `-u X`, `--name X`, and `--allowedKinds a b c` (many values). */
function parse(argv: string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    const name = a.replace(/^--?/, '');
    const values: string[] = [];
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      values.push(argv[++i]!);
      if (name !== 'allowedKinds') break;
    }
    options.set(name, values);
  }
  return { positional, options };
}

function one(p: Parsed, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = p.options.get(n);
    if (v !== undefined) {
      if (v.length === 0) throw new UsageError(`-${n} needs a value`);
      return v[0];
    }
  }
  return undefined;
}

/** A cluster's PostgreSQL (`--database-url`, `WHIRL_DATABASE_URL`), else a standalone data directory. */
async function openStore(p: Parsed): Promise<Store> {
  const url = one(p, 'database-url') ?? process.env.WHIRL_DATABASE_URL;
  if (url !== undefined && one(p, 'data-dir') === undefined) {
    const { PostgresStore } = await import('../store/postgres/postgres-store.js');
    const schema = one(p, 'database-schema') ?? process.env.WHIRL_DATABASE_SCHEMA;
    return PostgresStore.open({ url, poolSize: 1, ...(schema === undefined ? {} : { schema }) });
  }
  const dir = one(p, 'data-dir') ?? process.env.WHIRL_DATA_DIR ?? join(homedir(), '.whirl');
  const file = join(dir, 'whirl.db');
  if (!existsSync(file))
    throw new UsageError(`no Whirl data in ${dir} (start \`whirl standalone\` once, or pass --data-dir)`);
  return new SqliteStore(file);
}

const print = (s: string) => process.stdout.write(`${s}\n`);

async function user(store: Store, verb: string | undefined, p: Parsed): Promise<number> {
  const [subject, ...more] = p.positional;
  switch (verb) {
    case 'create': {
      if (subject === undefined) throw new UsageError('user create needs a SUBJECT');
      if (subject.length < 5) throw new UsageError('the subject must be at least 5 characters');
      const namespace = one(p, 'ns', 'namespace') ?? subject;
      if (!isValidName(namespace)) throw new UsageError(`'${namespace}' is not a valid namespace name`);
      const given = one(p, 'u', 'auth');
      const c = given === undefined ? generateCredentials() : parseCredentials(given);
      if (c === undefined || c.key.length !== KEY_LENGTH)
        throw new UsageError(`-u must be UUID:KEY with a ${KEY_LENGTH}-character key`);
      const clash = await store.getIdentity(c.uuid);
      if (clash !== undefined) throw new UsageError(`the uuid ${c.uuid} is already in use`);
      const existing = await store.listIdentities({ subject, namespace });
      if (existing.length > 0) {
        process.stderr.write(`The subject ${subject} already has a key for namespace ${namespace}.\n`);
        return 1;
      }
      await store.putIdentity(newIdentity(subject, namespace, c.uuid, c.key));
      print(`${c.uuid}:${c.key}`);
      return 0;
    }
    case 'delete': {
      if (subject === undefined) throw new UsageError('user delete needs a SUBJECT');
      const ns = one(p, 'ns', 'namespace');
      const ids = await store.listIdentities({ subject, ...(ns === undefined ? {} : { namespace: ns }) });
      if (ids.length === 0) {
        process.stderr.write(
          `Subject ${subject} does not exist${ns === undefined ? '' : ` in namespace ${ns}`}.\n`,
        );
        return 1;
      }
      for (const i of ids) await store.deleteIdentity(i.uuid);
      print(`Subject ${subject} deleted${ns === undefined ? '' : ` from namespace ${ns}`}.`);
      return 0;
    }
    case 'get': {
      if (subject === undefined) throw new UsageError('user get needs a SUBJECT');
      const ns = one(p, 'ns', 'namespace');
      const ids = await store.listIdentities({ subject, ...(ns === undefined ? {} : { namespace: ns }) });
      if (ids.length === 0) {
        process.stderr.write(`Subject ${subject} does not exist.\n`);
        return 1;
      }
      for (const i of ids) print(`${i.namespace}\t${i.uuid}${i.blocked === true ? '\t(blocked)' : ''}`);
      return 0;
    }
    case 'list': {
      if (subject === undefined) throw new UsageError('user list needs a NAMESPACE');
      for (const i of await store.listIdentities({ namespace: subject })) {
        print(`${i.subject}\t${i.uuid}${i.blocked === true ? '\t(blocked)' : ''}`);
      }
      return 0;
    }
    case 'whois': {
      const c = subject === undefined ? undefined : parseCredentials(subject);
      if (c === undefined) throw new UsageError('user whois needs UUID:KEY');
      const i = await store.getIdentity(c.uuid);
      if (i === undefined || !keyMatches(i, c.key)) {
        process.stderr.write('Subject id is not recognized.\n');
        return 1;
      }
      print(`subject: ${i.subject}\nnamespace: ${i.namespace}`);
      return 0;
    }
    case 'block':
    case 'unblock': {
      const subjects = [subject, ...more].filter((s): s is string => s !== undefined);
      if (subjects.length === 0) throw new UsageError(`user ${verb} needs at least one SUBJECT`);
      for (const s of subjects) {
        const ids = await store.listIdentities({ subject: s });
        for (const i of ids) await store.putIdentity({ ...i, blocked: verb === 'block' });
        print(ids.length === 0 ? `${s} does not exist` : `"${s}" ${verb}ed.`);
      }
      return 0;
    }
    default:
      throw new UsageError(
        `unknown user verb '${verb ?? ''}' (create, delete, get, list, whois, block, unblock)`,
      );
  }
}

const BOOLEAN_LIMITS = ['storeActivations', 'outboundNetwork'] as const;
const NUMERIC_LIMITS = NAMESPACE_LIMIT_KEYS.filter(
  (k) => k !== 'allowedKinds' && !(BOOLEAN_LIMITS as readonly string[]).includes(k),
);

async function limits(store: Store, verb: string | undefined, p: Parsed): Promise<number> {
  const [namespace] = p.positional;
  if (namespace === undefined) throw new UsageError(`limits ${verb ?? ''} needs a NAMESPACE`);
  switch (verb) {
    case 'set': {
      const current: NamespaceLimits = (await store.getLimits(namespace)) ?? {};
      const next: NamespaceLimits = { ...current };
      let changed = false;
      for (const [name, values] of p.options) {
        if (name === 'data-dir' || name === 'database-url' || name === 'database-schema') continue;
        if (name === 'allowedKinds') {
          for (const k of values)
            if (resolveKind(k) === undefined && k !== 'blackbox') throw new UsageError(`unknown kind '${k}'`);
          next.allowedKinds = values;
        } else if ((BOOLEAN_LIMITS as readonly string[]).includes(name)) {
          if (values[0] !== 'true' && values[0] !== 'false')
            throw new UsageError(`--${name} must be true or false`);
          (next as Record<string, boolean>)[name] = values[0] === 'true';
        } else if ((NUMERIC_LIMITS as readonly string[]).includes(name)) {
          const n = Number(values[0]);
          if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`);
          (next as Record<string, number>)[name] = n;
        } else {
          throw new UsageError(`unknown limit --${name}`);
        }
        changed = true;
      }
      if (!changed) throw new UsageError('limits set needs at least one limit to set');
      await store.setLimits(namespace, next);
      print(`Limits successfully set for "${namespace}"`);
      return 0;
    }
    case 'get': {
      const l = await store.getLimits(namespace);
      if (l === undefined || Object.keys(l).length === 0) {
        print('No limits found, default system limits apply');
        return 0;
      }
      for (const [k, v] of Object.entries(l)) print(`${k} = ${Array.isArray(v) ? v.join(', ') : String(v)}`);
      return 0;
    }
    case 'delete': {
      const removed = await store.deleteLimits(namespace);
      print(removed ? 'Limits deleted' : 'No limits found, default system limits apply');
      return 0;
    }
    default:
      throw new UsageError(`unknown limits verb '${verb ?? ''}' (set, get, delete)`);
  }
}

export async function runAdmin(argv: string[]): Promise<number> {
  const [group, verb, ...rest] = argv;
  if (group === undefined || group === '--help' || group === 'help') {
    process.stdout.write(ADMIN_USAGE);
    return 0;
  }
  const p = parse(rest);
  if (group !== 'user' && group !== 'limits')
    throw new UsageError(`unknown admin command '${group}' (user, limits)`);
  const store = await openStore(p);
  try {
    return group === 'user' ? await user(store, verb, p) : await limits(store, verb, p);
  } finally {
    await store.close();
  }
}
