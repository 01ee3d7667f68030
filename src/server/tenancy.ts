/**
 * Whether this server may run at all when its sandboxes are not isolated. One user on a loopback-only
 * server risks only themselves; several tenants, or a server reachable from elsewhere, would let any action
 * read the others' data — so Whirl refuses unless the operator accepts it with --insecure-sandbox.
 */
import type { IsolationReport } from '../sandbox/sandbox.js';
import type { Store } from '../store/store.js';

const BUILT_IN = new Set(['guest', 'whisk.system']);

function loopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The namespaces the built-in ones always are: a standalone Whirl's own developer. */
export const BUILT_IN_NAMESPACES: readonly string[] = [...BUILT_IN];

/**
 * Why this server is shared by several people: namespaces beyond the built-in ones, or a listening address
 * other hosts can reach. Empty: one developer on their own machine.
 */
export async function sharedBecause(store: Store, host: string): Promise<string[]> {
  const tenants = new Set(
    (await store.listIdentities()).map((i) => i.namespace).filter((ns) => !BUILT_IN.has(ns)),
  );
  return [
    ...(tenants.size > 0
      ? [`namespaces other than guest exist (${[...tenants].slice(0, 5).join(', ')})`]
      : []),
    ...(loopback(host) ? [] : [`it listens on ${host}, not only on loopback`]),
  ];
}

/** Throws with what to do when the server must not start; returns warnings to print otherwise. */
export async function checkTenancy(
  store: Store,
  isolation: IsolationReport,
  host: string,
  insecureAccepted: boolean,
): Promise<string[]> {
  if (isolation.isolated) return [];
  const reasons = await sharedBecause(store, host);
  const warnings = [
    "SANDBOXES ARE NOT ISOLATED: actions can read this machine's files and reach its services.",
    ...isolation.notes.map((n) => `  ${n}`),
  ];
  if (reasons.length === 0) return warnings;
  if (insecureAccepted)
    return [...warnings, `  serving several tenants anyway (--insecure-sandbox): ${reasons.join('; ')}`];
  throw new Error(
    `this host cannot isolate actions (${isolation.notes.join('; ')}), and this server is multi-tenant: ${reasons.join('; ')}. ` +
      'Run Whirl as root on Linux with util-linux and nftables installed, or pass --insecure-sandbox to accept that tenants can reach each other.',
  );
}
