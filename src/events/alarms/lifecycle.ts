/**
 * The provider's side of the feed lifecycle. The feed actions `/whisk.system/alarms/{alarm,once,interval}`
 * pass their parameters here (POST /api/v1/namespaces/whisk.system/alarms, authenticated with the
 * trigger owner's key — the `authKey` the client gave the feed); this checks the caller owns the trigger
 * and applies CREATE, READ, UPDATE, DELETE, PAUSE or UNPAUSE.
 */
import { Messages, WhirlError, badRequest, forbidden } from '../../core/errors.js';
import type { Entities } from '../../controller/entities.js';
import type { Caller } from '../../controller/identities.js';
import { refFromString } from '../../controller/references.js';
import { getTrigger } from '../../controller/triggers/links.js';
import type { AlarmsProvider } from './provider.js';
import { FEEDS, hasConfigParams, readConfig, readView, type FeedKind, type Schedule } from './schedule.js';

export const LIFECYCLE_EVENTS = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'PAUSE', 'UNPAUSE'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

const noAlarm = (fqn: string) => new WhirlError(404, `Trigger '${fqn}' has no alarm.`);

function readFeed(value: unknown): FeedKind | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(FEEDS as readonly string[]).includes(value))
    throw badRequest(`feed parameter must be one of ${FEEDS.join(', ')}`);
  return value as FeedKind;
}

export async function handleLifecycle(
  provider: AlarmsProvider,
  entities: Entities,
  caller: Caller,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const event = typeof params.lifecycleEvent === 'string' ? params.lifecycleEvent.toUpperCase() : undefined;
  if (event === undefined || !(LIFECYCLE_EVENTS as readonly string[]).includes(event))
    throw badRequest(`unsupported lifecycleEvent '${String(params.lifecycleEvent)}'`);
  if (typeof params.triggerName !== 'string') throw badRequest('triggerName parameter is required');
  const ref = refFromString(params.triggerName, caller.namespace);
  if (ref === undefined || ref.pkg !== undefined)
    throw badRequest(`triggerName parameter '${params.triggerName}' is not a valid trigger name`);
  // Only the trigger's owner manages its alarm (OpenWhisk checks the same with the given authKey).
  if (ref.namespace !== caller.namespace) throw forbidden(`${ref.namespace}/${ref.name}`);
  const fqn = `/${ref.namespace}/${ref.name}`;
  const feed = readFeed(params.feed);
  const now = Date.now();
  const existing = await provider.get(ref.namespace, ref.name);

  switch (event as LifecycleEvent) {
    case 'CREATE': {
      if (feed === undefined) throw badRequest('feed parameter is required');
      if ((await getTrigger(entities, ref.namespace, ref.name)) === undefined)
        throw new WhirlError(404, Messages.notFoundNamed(`${ref.namespace}/${ref.name}`));
      if (existing !== undefined) throw new WhirlError(409, `Trigger '${fqn}' already has an alarm.`);
      const schedule: Schedule = {
        namespace: ref.namespace,
        trigger: ref.name,
        owner: { uuid: caller.uuid, subject: caller.subject },
        config: readConfig(feed, params, now),
        status: { active: true, dateChanged: now },
        created: now,
        fires: 0,
      };
      const next = await provider.put(schedule);
      return readView(schedule, next);
    }
    case 'READ': {
      if (existing === undefined) throw noAlarm(fqn);
      return readView(existing.schedule, existing.next);
    }
    case 'UPDATE': {
      if (existing === undefined) throw noAlarm(fqn);
      const old = existing.schedule;
      if (feed !== undefined && feed !== old.config.feed)
        throw badRequest(`Trigger '${fqn}' has an '${old.config.feed}' alarm: update it with that feed.`);
      if (!hasConfigParams(params)) throw badRequest('no updatable parameters were specified');
      const config = readConfig(old.config.feed, params, now, old.config);
      // A changed date makes a fired one-time alarm due again; an alarm the provider stopped restarts
      // with its new settings, one its owner paused stays paused.
      const rearmed = old.config.feed === 'once' && config.date !== old.config.date;
      const restart = !old.status.active && old.status.reason?.kind !== 'USER';
      const schedule: Schedule = {
        ...old,
        config,
        fires: rearmed ? 0 : old.fires,
        status: restart ? { active: true, dateChanged: now } : old.status,
      };
      const next = await provider.put(schedule);
      return readView(schedule, next);
    }
    case 'DELETE': {
      if (!(await provider.remove(ref.namespace, ref.name))) throw noAlarm(fqn);
      return {};
    }
    case 'PAUSE':
    case 'UNPAUSE': {
      if (existing === undefined) throw noAlarm(fqn);
      const active = event === 'UNPAUSE';
      const old = existing.schedule;
      const status =
        old.status.active === active
          ? old.status
          : active
            ? { active, dateChanged: now }
            : {
                active,
                dateChanged: now,
                reason: { kind: 'USER' as const, message: 'Paused by its owner.' },
              };
      const schedule: Schedule = { ...old, status };
      const next = await provider.put(schedule);
      const after = await provider.get(ref.namespace, ref.name);
      return readView(after?.schedule ?? schedule, next);
    }
  }
}
