/**
 * Leftovers. Containers do not die with the Whirl that started them (a process sandbox does), so:
 * - at start-up an instance removes every container and network labelled with its own name (a restart
 *   after a crash or `kill -9`);
 * - and those of instances that are gone for good: everything Whirl creates is labelled with its owner's
 *   pid and pid namespace, and a resource whose owner pid no longer runs in our pid namespace is removed
 *   (invokers with generated names, test runs). Owners in another pid namespace (a Whirl in a container)
 *   are never judged: their pids mean nothing here.
 */
import { readlinkSync } from 'node:fs';
import { DockerError, type DockerEngine } from './engine.js';
import { networkHash, removeRules } from './network.js';

const PID = 'whirl.pid';
const PIDNS = 'whirl.pidns';

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'unknown';
  }
}

/** Labels every container and network of this process carries. */
export function ownerLabels(instance: string): Record<string, string> {
  return {
    'whirl.managed': 'true',
    'whirl.instance': instance,
    [PID]: String(process.pid),
    [PIDNS]: pidNamespace(),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Labels = Record<string, string> | null | undefined;

/** Whose owner is gone: an earlier run of `instance`, or a dead process of our pid namespace. */
function orphaned(labels: Labels, instance: string): boolean {
  if (labels?.['whirl.instance'] === instance) return true;
  if (labels?.[PIDNS] !== pidNamespace()) return false;
  const pid = Number(labels[PID]);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid);
}

/** Removes orphaned containers (with their anonymous volumes), then orphaned networks and their rules. */
export async function sweep(engine: DockerEngine, instance: string): Promise<number> {
  const containers = await engine.json<{ Id: string; Labels?: Labels }[]>('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: ['whirl.managed=true'] }) },
  });
  const gone = containers.filter((c) => orphaned(c.Labels, instance));
  // Failures are not fatal: a stubborn leftover must not keep this instance from starting.
  await Promise.all(
    gone.map((c) =>
      engine
        .call('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } })
        .catch(() => undefined),
    ),
  );
  const networks = await engine.json<{ Name: string; Labels?: Labels }[]>('GET', '/networks', {
    query: { filters: JSON.stringify({ label: ['whirl.managed=true'] }) },
  });
  for (const n of networks.filter((x) => orphaned(x.Labels, instance))) {
    try {
      await engine.call('DELETE', `/networks/${encodeURIComponent(n.Name)}`);
    } catch (err) {
      if (!(err instanceof DockerError && err.status === 404)) continue; // still in use: leave it
    }
    await removeRules(networkHash(n.Name));
  }
  return gone.length;
}
