/**
 * `whirl invoker`: one invoker of a cluster. Takes activations from its work topic on NATS JetStream, runs
 * them in its sandboxes, writes records to PostgreSQL and answers the controller that waits. It registers
 * itself, heartbeats every second, and — unless told not to — takes over the queued work of invokers that
 * went offline (competing with the other invokers for it), so no accepted activation waits for a dead
 * machine. SIGTERM drains: it tells the controllers it is leaving, finishes what it took, then stops.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsStartClaims } from '../bus/nats/claims.js';
import { NatsInvokerRegistry } from '../bus/nats/registry.js';
import { DEFAULT_SYSTEM_LIMITS } from '../core/limits.js';
import { Invoker } from '../invoker/invoker.js';
import { openSandboxes, SANDBOX_BACKENDS, type SandboxBackend } from '../sandbox/index.js';
import { probeTopic } from '../scheduler/cluster-balancer.js';
import { InvokerHealth, type InvokerHeartbeat } from '../scheduler/health.js';
import { ActivationWriter } from '../store/activation-writer.js';
import { stopOnSignals } from './signals.js';
import { loadConfig, usage, type Config } from './cluster/config.js';
import { UsageError } from '../core/errors.js';
import { log } from './log.js';
import { checkTenancy } from './tenancy.js';
import { DEFAULT_PREWARM } from './standalone.js';
import { openClusterBackends, type BackendOptions } from './cluster/backends.js';

export interface InvokerProcessOptions extends BackendOptions {
  memoryMB: number;
  apiHost: string;
  sandbox: SandboxBackend;
  insecureSandbox: boolean;
  maxInFlight: number;
  idleTimeoutMs: number;
  prewarm: boolean;
  adopt: boolean;
  offlineAfterMs: number;
  drainTimeoutMs: number;
}

export interface RunningInvoker {
  invoker: Invoker;
  stop(): Promise<void>;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function invokerOptions(c: Config): InvokerProcessOptions {
  const n = (k: string) => c[k] as number;
  const s = (k: string) => c[k] as string;
  if (!ID.test(s('id'))) throw new UsageError('--id must be letters, digits, _ or - (at most 64)');
  if (!(SANDBOX_BACKENDS as readonly string[]).includes(s('sandbox')))
    throw new UsageError(`--sandbox must be one of ${SANDBOX_BACKENDS.join(', ')}`);
  return {
    id: s('id'),
    databaseUrl: s('database-url'),
    databaseSchema: s('database-schema'),
    databasePool: n('database-pool'),
    natsUrl: s('nats-url'),
    natsPrefix: s('nats-prefix'),
    ackWaitMs: n('ack-wait') * 1000,
    memoryMB: n('memory'),
    apiHost: s('api-host'),
    sandbox: s('sandbox') as SandboxBackend,
    insecureSandbox: c['insecure-sandbox'] === true,
    maxInFlight: n('max-in-flight'),
    idleTimeoutMs: n('idle-timeout') * 1000,
    prewarm: c.prewarm === true,
    adopt: c.adopt === true,
    offlineAfterMs: n('offline-after') * 1000,
    drainTimeoutMs: n('drain-timeout') * 1000,
  };
}

export async function startInvoker(o: InvokerProcessOptions): Promise<RunningInvoker> {
  const startedAt = Date.now();
  const { store, bus } = await openClusterBackends(o);
  const onError = (err: unknown) => log.error(`${o.id}: ${err instanceof Error ? err.message : String(err)}`);
  const instance = `${o.natsPrefix}-${o.id}`;
  const sandboxes = await openSandboxes({
    backend: o.sandbox,
    // Short (Unix socket paths stay under 108 bytes) and unique per deployment and invoker.
    runDir: join(tmpdir(), `whirl-${createHash('sha256').update(instance).digest('hex').slice(0, 10)}`),
    instance: `inv-${createHash('sha256').update(instance).digest('hex').slice(0, 10)}`,
  });
  try {
    // An invoker listens on no port; only the tenants in the store decide whether unisolated is acceptable.
    for (const w of await checkTenancy(store, sandboxes.isolation, '127.0.0.1', o.insecureSandbox))
      log.warn(`${o.id}: ${w}`);
  } catch (err) {
    await sandboxes.close();
    await bus.close();
    await store.close();
    throw err;
  }
  const writer = new ActivationWriter(store, {
    onError: (err, pending) =>
      log.error(`cannot write activation records (${pending} waiting): ${String(err)}`),
  });
  const invoker = new Invoker({
    id: o.id,
    bus,
    sandboxes,
    writer,
    apiHost: o.apiHost,
    resultLimitBytes: DEFAULT_SYSTEM_LIMITS.resultSize,
    maxInFlight: o.maxInFlight,
    pool: {
      memoryMB: o.memoryMB,
      prewarm: o.prewarm ? DEFAULT_PREWARM : [],
      idleTimeoutMs: o.idleTimeoutMs,
      pauseGraceMs: 10_000,
      maxQueue: 10_000,
    },
    onError,
    claims: new NatsStartClaims(bus),
    store,
    ackAfterStore: true,
  });
  await invoker.start();
  invoker.listenForProbes(probeTopic(o.id));

  const registry = new NatsInvokerRegistry(bus);
  await registry.register({ id: o.id, memoryMB: o.memoryMB, registeredAt: startedAt });
  const heartbeat = (leaving = false) => {
    const hb: InvokerHeartbeat = {
      kind: 'invoker',
      id: o.id,
      memoryMB: o.memoryMB,
      startedAt,
      ...(leaving ? { leaving } : {}),
    };
    return bus.publish('health', hb, { durable: false });
  };
  await heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat().catch(onError), 1000);
  heartbeatTimer.unref();

  // Taking over the topics of offline invokers: the same health rules the controllers use, from the same
  // heartbeats. Not before this invoker has listened for a full offline period, or it would take over
  // invokers whose heartbeat it simply has not heard yet.
  const health = new InvokerHealth({ offlineAfterMs: o.offlineAfterMs });
  const heartbeats = bus.subscribe<InvokerHeartbeat>('health', (d) => {
    if (d.data.kind === 'invoker') health.heartbeat(d.data);
  });
  let adoptTimer: NodeJS.Timeout | undefined;
  if (o.adopt) {
    let lastRegistryRead = 0;
    const adoptInFlight = Math.max(1, Math.min(8, Math.floor(o.maxInFlight / 4)));
    const reviewAdoptions = async () => {
      if (Date.now() - startedAt < o.offlineAfterMs) return;
      if (Date.now() - lastRegistryRead > 5000) {
        lastRegistryRead = Date.now();
        for (const info of await registry.list()) health.known(info);
      }
      for (const v of health.list()) {
        if (v.id === o.id) continue;
        if (v.state === 'offline' && !invoker.adoptedTopics.includes(v.id)) {
          log.info(`${o.id}: ${v.id} is offline; taking over its queued work`);
          invoker.adopt(v.id, adoptInFlight);
        } else if (v.state !== 'offline' && invoker.adoptedTopics.includes(v.id)) {
          log.info(`${o.id}: ${v.id} is back; leaving its work to it`);
          void invoker.unadopt(v.id);
        }
      }
    };
    adoptTimer = setInterval(() => void reviewAdoptions().catch(onError), 1000);
    adoptTimer.unref();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Leave first, so the controllers stop sending work; then finish what was taken.
      clearInterval(heartbeatTimer);
      if (adoptTimer !== undefined) clearInterval(adoptTimer);
      await heartbeat(true).catch(() => undefined);
      await heartbeats.drain();
      const drained = invoker.stop();
      const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), o.drainTimeoutMs).unref());
      if ((await Promise.race([drained, limit])) === 'timeout')
        log.warn(`${o.id}: activations still running after ${o.drainTimeoutMs} ms; stopping anyway`);
      await sandboxes.close();
      await writer.close();
      await bus.close();
      await store.close();
    })());
  return { invoker, stop };
}

const INTRO = `Runs one invoker of a Whirl cluster: takes activations from NATS JetStream, runs them in
sandboxes, writes records to PostgreSQL (docs/cluster.md).`;

export async function runInvoker(argv: string[]): Promise<void> {
  const config = loadConfig('invoker', argv);
  if (config.help === true) {
    process.stdout.write(usage('invoker', INTRO));
    return;
  }
  const o = invokerOptions(config);
  const running = await startInvoker(o);
  stopOnSignals(() => running.stop(), `draining ${o.id} (finishing the activations it took)...`);
  log.info(`whirl invoker ${o.id} ready (${o.memoryMB} MB, nats ${o.natsUrl}, prefix ${o.natsPrefix})`);
}
