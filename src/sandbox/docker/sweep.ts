/**
 * Leftovers. Containers do not die with the Whirl that started them (a process sandbox does), so:
 * - at start-up an instance removes every container and network labelled with its own name (a restart
 *   after a crash or `kill -9`);
 * - and those of instances that are gone for good: everything Whirl creates is labelled with its owner's
 *   pid and pid namespace, and a resource whose owner pid no longer runs in our pid namespace is removed
 *   (invokers with generated names, test runs). Owners in another pid namespace (a Whirl in a container)
 *   are never judged: their pids mean nothing here;
 * - and, while Whirl runs, a watchdog process (watchdog.ts) waits for it to die, however it dies, and then
 *   removes what it owned (`sweepOwner`), so a `kill -9` leaves no container running for long.
 */
import { readlinkSync } from 'node:fs';
import { DockerError, type DockerEngine } from './engine.js';
import { networkHash, removeRules } from './network.js';

const PID = 'whirl.pid';
const PIDNS = 'whirl.pidns';

export function pidNamespace(): string {
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

export function alive(pid: number): boolean {
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
export function sweep(engine: DockerEngine, instance: string): Promise<number> {
  return removeWhere(engine, (labels) => orphaned(labels, instance));
}

/** Removes what the process `pid` of the pid namespace `pidns` owned (it died). */
export function sweepOwner(engine: DockerEngine, pid: number, pidns: string): Promise<number> {
  return removeWhere(engine, (labels) => labels?.[PID] === String(pid) && labels[PIDNS] === pidns);
}

async function removeWhere(engine: DockerEngine, gone: (labels: Labels) => boolean): Promise<number> {
  const containers = await engine.json<{ Id: string; Labels?: Labels }[]>('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: ['whirl.managed=true'] }) },
  });
  const doomed = containers.filter((c) => gone(c.Labels));
  // Failures are not fatal: a stubborn leftover must not keep this instance from starting.
  await Promise.all(
    doomed.map((c) =>
      engine
        .call('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } })
        .catch(() => undefined),
    ),
  );
  const networks = await engine.json<{ Name: string; Labels?: Labels }[]>('GET', '/networks', {
    query: { filters: JSON.stringify({ label: ['whirl.managed=true'] }) },
  });
  for (const n of networks.filter((x) => gone(x.Labels))) {
    try {
      await engine.call('DELETE', `/networks/${encodeURIComponent(n.Name)}`);
    } catch (err) {
      if (!(err instanceof DockerError && err.status === 404)) continue; // still in use: leave it
    }
    await removeRules(networkHash(n.Name));
  }
  return doomed.length;
}
