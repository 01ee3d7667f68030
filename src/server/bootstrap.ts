/**
 * First-start set-up of a standalone Whirl: the `guest` and `whisk.system` namespaces with their keys, and
 * a `~/.wskprops` pointing the CLI at this server (only if the user has none yet).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  generateCredentials,
  keyMatches,
  newIdentity,
  parseCredentials,
  KEY_LENGTH,
} from '../core/identity.js';
import type { Store } from '../store/store.js';

export interface BootstrapResult {
  /** `uuid:key`, known only when created now or given on the command line. */
  guestKey?: string;
  created: string[];
}

/** Checks a `UUID:KEY` given on the command line. */
export function checkKeyFlag(flag: string, value: string): { uuid: string; key: string } {
  const c = parseCredentials(value);
  if (c === undefined || c.key.length !== KEY_LENGTH) {
    throw new Error(
      `${flag} must be UUID:KEY with a ${KEY_LENGTH}-character key (\`whirl admin user create\` prints one)`,
    );
  }
  return c;
}

/** Ensures a namespace of the same name as its subject exists, with the given key if any. */
async function ensureNamespace(
  store: Store,
  namespace: string,
  given: string | undefined,
): Promise<{ key?: string; created: boolean }> {
  const existing = await store.listIdentities({ namespace });
  if (given !== undefined) {
    const c = checkKeyFlag(namespace === 'guest' ? '--guest-key' : '--system-key', given);
    const same = existing.find((i) => i.uuid === c.uuid);
    // Already in place: nothing to announce (the operator passed it, and it was printed when created).
    if (same !== undefined && keyMatches(same, c.key)) return { created: false };
    await store.putIdentity(newIdentity(namespace, namespace, c.uuid, c.key));
    return { key: given, created: same === undefined };
  }
  if (existing.length > 0) return { created: false };
  const c = generateCredentials();
  await store.putIdentity(newIdentity(namespace, namespace, c.uuid, c.key));
  return { key: `${c.uuid}:${c.key}`, created: true };
}

export async function bootstrapNamespaces(
  store: Store,
  guestKey?: string,
  systemKey?: string,
): Promise<BootstrapResult> {
  const guest = await ensureNamespace(store, 'guest', guestKey);
  const system = await ensureNamespace(store, 'whisk.system', systemKey);
  const created = [...(guest.created ? ['guest'] : []), ...(system.created ? ['whisk.system'] : [])];
  return { ...(guest.key === undefined ? {} : { guestKey: guest.key }), created };
}

/** The CLI's properties file: `WSK_CONFIG_FILE` or `~/.wskprops`. */
export function wskpropsPath(): string {
  return process.env.WSK_CONFIG_FILE ?? join(homedir(), '.wskprops');
}

/** Writes APIHOST and AUTH unless the file exists; returns the path written, or undefined. */
export function writeWskpropsIfAbsent(apiHost: string, auth: string): string | undefined {
  const file = wskpropsPath();
  if (existsSync(file)) return undefined;
  writeFileSync(file, `APIHOST=${apiHost}\nAUTH=${auth}\n`, { mode: 0o600 });
  return file;
}
