/**
 * `whirl controller`: the REST API of a cluster, one of several behind a load balancer. Same routes and
 * behaviour as standalone; the backends differ: PostgreSQL store, NATS JetStream bus, invokers in other
 * processes chosen by the sharding balancer. Several controllers share everything through those two:
 * throttles count in PostgreSQL and the bus, caches are invalidated through the bus.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { NatsBus } from '../bus/nats/nats-bus.js';
import { NatsInvokerRegistry } from '../bus/nats/registry.js';
import { installCatalog } from '../catalog/index.js';
import type { ActivationRecord } from '../core/activation.js';
import { DEFAULT_SYSTEM_LIMITS, type SystemLimits } from '../core/limits.js';
import { LocalActivationReader } from '../controller/activation-reader.js';
import { buildApp } from '../controller/app.js';
import { Compositions } from '../controller/compositions/index.js';
import { Entities } from '../controller/entities.js';
import { Identities } from '../controller/identities.js';
import { Invocations } from '../controller/invocations.js';
import { invokerRoutes } from '../controller/routes/invokers.js';
import { Throttles } from '../controller/throttles.js';
import { ClusterBalancer } from '../scheduler/cluster-balancer.js';
import { InvokerHealth, type InvokerHeartbeat } from '../scheduler/health.js';
import { ControllerPeers } from '../scheduler/peers.js';
import { ActivationWriter } from '../store/activation-writer.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { bootstrapNamespaces } from './bootstrap.js';
import { announceAlarms, syncAlarms, syncEntityCaches } from './cluster/cache-sync.js';
import { stopOnSignals } from './signals.js';
import { openClusterBackends, type BackendOptions } from './cluster/backends.js';
import { loadConfig, usage, type Config } from './cluster/config.js';
import { UsageError } from '../core/errors.js';
import { RecentRecords } from './cluster/recent-records.js';
import { log } from './log.js';
import { VERSION } from './standalone.js';
import { AlarmsProvider, alarmRoutes } from '../events/alarms/index.js';
import type { Leadership } from '../core/ports.js';

export interface ControllerOptions extends BackendOptions {
  host: string;
  port: number;
  guestKey?: string;
  systemKey?: string;
  offlineAfterMs: number;
  probeIntervalMs: number;
  inlineCodeBytes: number;
  drainTimeoutMs: number;
  system: SystemLimits;
}

export interface RunningController {
  url: string;
  app: FastifyInstance;
  store: PostgresStore;
  bus: NatsBus;
  health: InvokerHealth;
  /** `uuid:key` of guest when this controller created it now. */
  guestKey?: string;
  stop(): Promise<void>;
}

export function controllerOptions(c: Config): ControllerOptions {
  const n = (k: string) => c[k] as number;
  const s = (k: string) => c[k] as string;
  return {
    id: s('id'),
    host: s('host'),
    port: n('port'),
    databaseUrl: s('database-url'),
    databaseSchema: s('database-schema'),
    databasePool: n('database-pool'),
    natsUrl: s('nats-url'),
    natsPrefix: s('nats-prefix'),
    ackWaitMs: n('ack-wait') * 1000,
    ...(c['guest-key'] === undefined ? {} : { guestKey: s('guest-key') }),
    ...(c['system-key'] === undefined ? {} : { systemKey: s('system-key') }),
    offlineAfterMs: n('offline-after') * 1000,
    probeIntervalMs: n('probe-interval') * 1000,
    inlineCodeBytes: n('inline-code'),
    drainTimeoutMs: n('drain-timeout') * 1000,
    // Several tenants share a cluster: every namespace gets the shared throttles, never the developer's.
    system: {
      ...DEFAULT_SYSTEM_LIMITS,
      invocationsPerMinute: positive(c, 'invocations-per-minute'),
      concurrentInvocations: positive(c, 'concurrent-invocations'),
      firesPerMinute: positive(c, 'fires-per-minute'),
    },
  };
}

function positive(c: Config, name: string): number {
  const v = c[name] as number;
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer`);
  return v;
}

/** Reads a record the invoker put in the store (it was too big for the bus), waiting briefly for its batch. */
async function storedRecord(
  store: PostgresStore,
  namespace: string,
  activationId: string,
): Promise<ActivationRecord | undefined> {
  for (let i = 0; i < 20; i++) {
    const r = await store.getActivation(namespace, activationId);
    if (r !== undefined) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** How often the alarms leader re-reads schedules anyway (changes are announced; this covers lost ones). */
const ALARM_SYNC_MS = 2000;
/** How often a controller that does not lead tries to take the alarms over. */
const ALARM_LEAD_RETRY_MS = 3000;

/**
 * Runs the alarms provider's timers on whichever controller holds the leadership, taking over within a few
 * seconds when the leader dies.
 */
function leadAlarms(leadership: Leadership, alarms: AlarmsProvider, id: string): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async () => {
    if (stopped) return;
    try {
      if (!leadership.leading && (await leadership.tryAcquire())) {
        log.info(`${id} leads the alarms provider`);
        await alarms.start();
      }
    } catch (err) {
      log.warn(`alarms leadership: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!stopped) timer = setTimeout(() => void attempt(), ALARM_LEAD_RETRY_MS);
    timer?.unref();
  };
  leadership.onLost(() => {
    log.warn(`${id} lost the alarms leadership (database connection)`);
    void alarms.stop();
  });
  void attempt();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await alarms.stop();
      await leadership.release();
    },
  };
}

export async function startController(o: ControllerOptions): Promise<RunningController> {
  const { store, bus } = await openClusterBackends(o);
  const onError = (what: string) => (err: unknown) =>
    log.error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  const boot = await bootstrapNamespaces(store, o.guestKey, o.systemKey);
  try {
    // Idempotent by version; when controllers start together one may lose the race, which is fine.
    const catalog = await installCatalog(store, o.system);
    if (catalog.installed.length > 0) log.info(`installed whisk.system/{${catalog.installed.join(',')}}`);
  } catch (err) {
    log.warn(`catalog not installed by ${o.id}: ${err instanceof Error ? err.message : String(err)}`);
  }

  // Who the invokers are: the registry (every invoker that ever started) and their heartbeats.
  const health = new InvokerHealth({ offlineAfterMs: o.offlineAfterMs });
  const registry = new NatsInvokerRegistry(bus);
  const learnInvokers = async () => {
    for (const info of await registry.list()) health.known(info);
  };
  await learnInvokers();
  const registryTimer = setInterval(() => void learnInvokers().catch(onError('invoker registry')), 10_000);
  registryTimer.unref();
  const heartbeats = bus.subscribe<InvokerHeartbeat>('health', (d) => {
    if (d.data.kind === 'invoker') health.heartbeat(d.data);
  });

  const replyTo = `completed.${o.id}`;
  // The balancer and the peers call back into invocations, which needs the balancer: the callbacks only
  // run once everything below exists.
  const peers: ControllerPeers = new ControllerPeers({
    bus,
    id: o.id,
    local: () => invocations.inFlightCounts(),
  });
  const balancer: ClusterBalancer = new ClusterBalancer({
    bus,
    health,
    controllerId: o.id,
    replyTo,
    controllers: () => peers.count(),
    onExpired: (id) => invocations.expire(id),
    probeIntervalMs: o.probeIntervalMs,
    inlineCodeBytes: o.inlineCodeBytes,
  });
  const invocations: Invocations = new Invocations(bus, balancer, replyTo);
  // Records this controller writes itself: trigger activations, sequences and conductors.
  const writer = new ActivationWriter(store, {
    onError: (err, pending) =>
      log.error(`cannot write activation records (${pending} waiting): ${String(err)}`),
  });
  const recent = new RecentRecords(new LocalActivationReader(store, writer));
  invocations.completionListeners.push(
    (c) => balancer.completed(c),
    (c) => {
      if (c.record !== undefined) recent.add(c.record);
    },
  );
  invocations.recordSource = (namespace, id) => storedRecord(store, namespace, id);
  await invocations.start();
  peers.start();

  const throttles = new Throttles(
    store.rateCounter(),
    (ns) => invocations.inFlightOf(ns) + peers.inFlightOf(ns),
  );
  const identities = new Identities(store, o.system);
  const entities = new Entities(store);
  const cacheSync = syncEntityCaches(bus, entities, o.id, onError('cache invalidation'));
  bus.onReconnect(() => entities.invalidateAll());

  const compositions = new Compositions({ entities, invocations, throttles, system: o.system, writer });
  // Every controller serves the alarms feed's lifecycle calls; the one that leads runs the timers.
  const alarms = new AlarmsProvider({
    store,
    identities,
    entities,
    fire: { entities, throttles, invocations, compositions, activationWriter: writer },
    log,
    syncIntervalMs: ALARM_SYNC_MS,
    announce: announceAlarms(bus, onError('alarm announcements')),
  });
  const alarmsSync = syncAlarms(bus, alarms);
  const alarmsLead = leadAlarms(store.leadership('alarms'), alarms, o.id);
  const app = buildApp({
    entities,
    identities,
    invocations,
    throttles,
    activations: recent,
    activationWriter: writer,
    compositions,
    system: o.system,
    info: {
      version: VERSION,
      sandbox: 'cluster',
      isolation: {
        isolated: false,
        namespaces: false,
        cgroups: false,
        network: false,
        notes: ['actions run on the invokers; each invoker reports its own sandbox isolation at start-up'],
      },
      mode: 'cluster',
    },
    triggerListeners: [alarms],
    plugins: [invokerRoutes(balancer), alarmRoutes(alarms)],
  });
  await app.listen({ host: o.host, port: o.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop taking requests, let blocking callers get their answers, then leave the cluster.
      app.draining = true;
      app.server.closeIdleConnections();
      await app.close();
      await alarmsLead.stop();
      // Compositions start no new component; those waiting on one end when the invocations stop waiting.
      const compositionsDone = compositions.stop();
      await invocations.stop(o.drainTimeoutMs);
      await compositionsDone;
      clearInterval(registryTimer);
      await peers.stop();
      await heartbeats.drain();
      await cacheSync.drain();
      await alarmsSync.drain();
      await balancer.close();
      await writer.close();
      await bus.close();
      await store.close();
    })());
  return {
    url,
    app,
    store,
    bus,
    health,
    ...(boot.guestKey === undefined ? {} : { guestKey: boot.guestKey }),
    stop,
  };
}

const INTRO = `Runs one controller of a Whirl cluster: the REST API, over PostgreSQL and NATS JetStream, with
work sent to the invokers (\`whirl invoker\`). Run several behind a load balancer (docs/cluster.md).`;

export async function runController(argv: string[]): Promise<void> {
  const config = loadConfig('controller', argv);
  if (config.help === true) {
    process.stdout.write(usage('controller', INTRO));
    return;
  }
  const o = controllerOptions(config);
  const running = await startController(o);
  if (running.guestKey !== undefined) log.info(`guest key: ${running.guestKey}`);
  stopOnSignals(() => running.stop(), 'finishing the requests that wait for results...');
  log.info(`whirl controller ${o.id} ready on ${running.url} (nats ${o.natsUrl}, prefix ${o.natsPrefix})`);
}
