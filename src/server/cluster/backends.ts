/**
 * What every cluster process connects to first: the PostgreSQL store and the NATS JetStream bus. Opened
 * together, so that a process that cannot reach the bus does not keep a database pool open.
 */
import { NatsBus } from '../../bus/nats/nats-bus.js';
import { PostgresStore } from '../../store/postgres/postgres-store.js';

export interface BackendOptions {
  /** Names this process on the bus. */
  id: string;
  databaseUrl: string;
  databaseSchema: string;
  databasePool: number;
  natsUrl: string;
  natsPrefix: string;
  ackWaitMs: number;
}

export async function openClusterBackends(
  o: BackendOptions,
): Promise<{ store: PostgresStore; bus: NatsBus }> {
  const store = await PostgresStore.open({
    url: o.databaseUrl,
    schema: o.databaseSchema,
    poolSize: o.databasePool,
  });
  try {
    const bus = await NatsBus.open({
      url: o.natsUrl,
      prefix: o.natsPrefix,
      name: o.id,
      ackWaitMs: o.ackWaitMs,
    });
    return { store, bus };
  } catch (err) {
    await store.close();
    throw err;
  }
}
