/**
 * Keeps entity caches coherent across controllers: every write through `Entities` is announced on the
 * `entities` fan-out topic and every other controller drops its cached copy. A controller that lost its
 * NATS connection may have missed announcements, so after a reconnect it drops its whole entity cache.
 * (Identities and limits are re-read when the store's change marker moves: identities.ts.)
 * Likewise the alarms leader's armed schedules: a controller that changed one announces it on `alarms`.
 */
import type { MessageBus, Subscription } from '../../bus/bus.js';
import type { Entities } from '../../controller/entities.js';
import type { AlarmsProvider } from '../../events/alarms/provider.js';

interface EntityWritten {
  from: string;
  namespace: string;
  path: string;
}

const TOPIC = 'entities';

export function syncEntityCaches(
  bus: MessageBus,
  entities: Entities,
  controllerId: string,
  onError: (err: unknown) => void,
): Subscription {
  // Awaited by the write: the server has the announcement before the client hears the write succeeded,
  // so a request that follows through another controller finds that controller's cache already dropped
  // (it travels on the same server, which forwards messages in order and at once).
  entities.onWrite = (namespace, path) => {
    const m: EntityWritten = { from: controllerId, namespace, path };
    return bus.publish(TOPIC, m, { durable: false }).catch(onError);
  };
  return bus.subscribe<EntityWritten>(TOPIC, (d) => {
    if (d.data.from !== controllerId) entities.invalidate(d.data.namespace, d.data.path);
  });
}

const ALARMS_TOPIC = 'alarms';

/** The announcement a controller makes after changing a stored schedule (AlarmsOptions.announce). */
export function announceAlarms(bus: MessageBus, onError: (err: unknown) => void): () => Promise<void> {
  return () => bus.publish(ALARMS_TOPIC, {}, { durable: false }).catch(onError);
}

/** Lets the alarms provider hear other controllers' announcements (it acts on them only when it leads). */
export function syncAlarms(bus: MessageBus, alarms: AlarmsProvider): Subscription {
  return bus.subscribe(ALARMS_TOPIC, () => alarms.changed());
}
