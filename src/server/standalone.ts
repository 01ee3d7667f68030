/**
 * `whirl standalone`: controller and invoker in one process, with the embedded backends — SQLite store in
 * the data directory, in-process bus, `process` sandboxes. The composition root: configuration in,
 * running server out; nothing else knows which backends were chosen.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MemoryBus } from '../bus/memory/memory-bus.js';
import { DEFAULT_SYSTEM_LIMITS, DEVELOPER_THROTTLES, type SystemLimits } from '../core/limits.js';
import { LocalActivationReader } from '../controller/activation-reader.js';
import { buildApp } from '../controller/app.js';
import { Entities } from '../controller/entities.js';
import { Identities } from '../controller/identities.js';
import { Invocations } from '../controller/invocations.js';
import { MemoryRateCounter, Throttles } from '../controller/throttles.js';
import { Invoker } from '../invoker/invoker.js';
import { installCatalog } from '../catalog/index.js';
import { Compositions } from '../controller/compositions/index.js';
import { AlarmsProvider, alarmRoutes } from '../events/alarms/index.js';
import type { PrewarmConfig } from '../invoker/pool.js';
import { openSandboxes, SANDBOX_BACKENDS, type SandboxBackend } from '../sandbox/index.js';
import { stopOnSignals } from './signals.js';
import { lockDataDir } from './data-dir-lock.js';
import { BUILT_IN_NAMESPACES, checkTenancy, sharedBecause } from './tenancy.js';
import type { IsolationReport } from '../sandbox/sandbox.js';
import { SingleInvokerBalancer } from '../scheduler/load-balancer.js';
import { ActivationWriter } from '../store/activation-writer.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { bootstrapNamespaces, writeWskpropsIfAbsent } from './bootstrap.js';
import { UsageError } from '../core/errors.js';
import { parseFlags } from './flags.js';
import { log } from './log.js';

export interface StandaloneOptions {
  host: string;
  port: number;
  dataDir: string;
  guestKey?: string;
  systemKey?: string;
  /** Memory for containers, in MB. */
  invokerMemoryMB: number;
  idleTimeoutMs: number;
  pauseGraceMs: number;
  prewarm: PrewarmConfig[];
  sandbox: SandboxBackend;
  /** Serve several tenants even where sandboxes cannot be isolated. */
  insecureSandbox: boolean;
  system: SystemLimits;
  /**
   * Default throttles: `developer` gives guest and whisk.system generous ones (DEVELOPER_THROTTLES) and
   * every other namespace `system`'s; `shared` gives every namespace `system`'s; `auto` is `developer` for
   * one developer on loopback and `shared` as soon as other namespaces exist or other hosts can connect.
   */
  throttles: ThrottleProfile | 'auto';
  writeWskprops: boolean;
}

export const THROTTLE_PROFILES = ['developer', 'shared'] as const;
export type ThrottleProfile = (typeof THROTTLE_PROFILES)[number];

export interface RunningStandalone {
  url: string;
  app: FastifyInstance;
  store: SqliteStore;
  invoker: Invoker;
  isolation: IsolationReport;
  /** Things the operator must know (unisolated sandboxes, ...). */
  warnings: string[];
  /** `uuid:key` of guest when it was created or given now. */
  guestKey?: string;
  stop(): Promise<void>;
}

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const INVOKER_ID = 'invoker0';

export const DEFAULT_PREWARM: PrewarmConfig[] = [
  { kind: 'nodejs:20', family: 'nodejs', memoryMB: 256, count: 2 },
  { kind: 'python:3', family: 'python', memoryMB: 256, count: 1 },
];

export function defaultOptions(): StandaloneOptions {
  return {
    host: '127.0.0.1',
    port: 3233,
    dataDir: process.env.WHIRL_DATA_DIR ?? join(homedir(), '.whirl'),
    invokerMemoryMB: 2048,
    idleTimeoutMs: 10 * 60_000,
    pauseGraceMs: 10_000,
    prewarm: DEFAULT_PREWARM,
    sandbox: 'process',
    insecureSandbox: false,
    system: DEFAULT_SYSTEM_LIMITS,
    throttles: 'auto',
    writeWskprops: true,
  };
}

/** The system limits with the throttle profile applied (see StandaloneOptions.throttles). */
async function withThrottles(o: StandaloneOptions, store: SqliteStore): Promise<SystemLimits> {
  const profile =
    o.throttles === 'auto'
      ? (await sharedBecause(store, o.host)).length > 0
        ? 'shared'
        : 'developer'
      : o.throttles;
  if (profile === 'shared') return o.system;
  return { ...o.system, developer: { namespaces: BUILT_IN_NAMESPACES, throttles: DEVELOPER_THROTTLES } };
}

/** A short, per-data-directory path: Unix socket paths must stay under 108 bytes. */
function runDirFor(dataDir: string): { runDir: string; instance: string } {
  const instance = `sa-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 10)}`;
  return { runDir: join(tmpdir(), `whirl-${instance}`), instance };
}

export async function startStandalone(o: StandaloneOptions): Promise<RunningStandalone> {
  const unlock = lockDataDir(o.dataDir);
  try {
    const running = await start(o);
    return {
      ...running,
      stop: async () => {
        try {
          await running.stop();
        } finally {
          unlock();
        }
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}

async function start(options: StandaloneOptions): Promise<RunningStandalone> {
  const store = new SqliteStore(join(options.dataDir, 'whirl.db'));
  const boot = await bootstrapNamespaces(store, options.guestKey, options.systemKey);
  const o = { ...options, system: await withThrottles(options, store) };
  try {
    const catalog = await installCatalog(store, o.system);
    if (catalog.installed.length > 0) log.info(`installed whisk.system/{${catalog.installed.join(',')}}`);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { runDir, instance } = runDirFor(o.dataDir);
  const sandboxes = await openSandboxes({ backend: o.sandbox, runDir, instance, log: (l) => log.info(l) });
  let tenancyWarnings: string[];
  try {
    tenancyWarnings = await checkTenancy(store, sandboxes.isolation, o.host, o.insecureSandbox);
  } catch (err) {
    await sandboxes.close();
    await store.close();
    throw err;
  }
  const bus = new MemoryBus();
  const writer = new ActivationWriter(store, {
    onError: (err, pending) =>
      log.error(`cannot write activation records (${pending} waiting): ${String(err)}`),
  });
  const invocations = new Invocations(bus, new SingleInvokerBalancer(bus, INVOKER_ID), 'completed0');
  await invocations.start();
  const throttles = new Throttles(new MemoryRateCounter(), (ns) => invocations.inFlightOf(ns));
  const identities = new Identities(store, o.system);
  const entities = new Entities(store);
  const compositions = new Compositions({ entities, invocations, throttles, system: o.system, writer });
  const alarms = new AlarmsProvider({
    store,
    identities,
    entities,
    fire: { entities, throttles, invocations, compositions, activationWriter: writer },
    log,
  });
  const app = buildApp({
    entities,
    identities,
    invocations,
    throttles,
    activations: new LocalActivationReader(store, writer),
    system: o.system,
    info: { version: VERSION, sandbox: sandboxes.name, isolation: sandboxes.isolation, mode: 'standalone' },
    activationWriter: writer,
    compositions,
    triggerListeners: [alarms],
    plugins: [alarmRoutes(alarms)],
  });

  // Listen first: actions learn the real port (`__OW_API_HOST`), even when the OS picked it. Requests that
  // arrive before the invoker subscribes wait on the bus.
  await app.listen({ host: o.host, port: o.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  const apiHostForActions = `http://${o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host}:${port}`;
  const invoker = new Invoker({
    id: INVOKER_ID,
    bus,
    sandboxes,
    writer,
    apiHost: apiHostForActions,
    resultLimitBytes: o.system.resultSize,
    maxInFlight: 1000,
    pool: {
      memoryMB: o.invokerMemoryMB,
      prewarm: o.prewarm,
      idleTimeoutMs: o.idleTimeoutMs,
      pauseGraceMs: o.pauseGraceMs,
      maxQueue: 10_000,
    },
    onError: (err) => log.error(`invoker: ${err instanceof Error ? err.message : String(err)}`),
  });
  await invoker.start();
  await alarms.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Order matters: stop taking requests, let blocking callers get their answers, finish running
      // activations, then write the last records and close the store.
      await alarms.stop();
      app.draining = true;
      app.server.closeIdleConnections();
      await app.close();
      // Compositions start no new component; those waiting on one end when the invocations stop waiting.
      const compositionsDone = compositions.stop();
      await invocations.stop(5_000);
      await compositionsDone;
      await invoker.stop();
      await sandboxes.close();
      await writer.close();
      await bus.close();
      await store.close();
    })());
  return {
    url,
    app,
    store,
    invoker,
    isolation: sandboxes.isolation,
    warnings: tenancyWarnings,
    ...(boot.guestKey === undefined ? {} : { guestKey: boot.guestKey }),
    stop,
  };
}

const FLAGS = {
  host: 'string',
  port: 'number',
  'data-dir': 'string',
  'guest-key': 'string',
  'system-key': 'string',
  'invoker-memory': 'number',
  'idle-timeout': 'number',
  'pause-grace': 'number',
  'no-prewarm': 'boolean',
  sandbox: 'string',
  'insecure-sandbox': 'boolean',
  throttles: 'string',
  'invocations-per-minute': 'number',
  'concurrent-invocations': 'number',
  'fires-per-minute': 'number',
  'no-wskprops': 'boolean',
  help: 'boolean',
} as const;

export const STANDALONE_USAGE = `Usage: whirl standalone [options]

Runs controller and invoker in one process: SQLite store in the data directory, in-process bus,
process sandboxes.

Options:
  --host HOST             address to listen on (default 127.0.0.1)
  --port PORT             port to listen on (default 3233)
  --data-dir DIR          where state lives (default $WHIRL_DATA_DIR or ~/.whirl)
  --guest-key UUID:KEY    key of the guest namespace (default: generated on first start)
  --system-key UUID:KEY   key of the whisk.system namespace (default: generated on first start)
  --invoker-memory MB     memory for action containers (default 2048)
  --idle-timeout SECONDS  remove containers idle this long (default 600)
  --pause-grace SECONDS   pause containers idle this long (default 10; 0: never)
  --no-prewarm            start no stem cells
  --sandbox BACKEND       where actions run: process (default) or docker
  --insecure-sandbox      serve several tenants even where sandboxes cannot be isolated
  --throttles PROFILE     default throttles: developer (guest and whisk.system get 60000 invokes and
                          fires a minute, 1000 concurrent), shared (every namespace gets the values
                          below) or auto (default: developer until other namespaces exist or --host
                          is not loopback)
  --invocations-per-minute N  shared default (60)
  --concurrent-invocations N  shared default (30)
  --fires-per-minute N        shared default (60)
  --no-wskprops           do not write ~/.wskprops
`;

/** `--invocations-per-minute` and friends: the shared default throttles (positive integers). */
export function withSharedThrottleFlags(
  system: SystemLimits,
  flags: Partial<Record<'invocations-per-minute' | 'concurrent-invocations' | 'fires-per-minute', number>>,
): SystemLimits {
  const next = { ...system };
  const set = (
    flag: keyof typeof flags,
    key: 'invocationsPerMinute' | 'concurrentInvocations' | 'firesPerMinute',
  ) => {
    const v = flags[flag];
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${flag} must be a positive integer`);
    next[key] = v;
  };
  set('invocations-per-minute', 'invocationsPerMinute');
  set('concurrent-invocations', 'concurrentInvocations');
  set('fires-per-minute', 'firesPerMinute');
  return next;
}

/** The CLI entry: parse flags, start, print where to reach it, stop cleanly on a signal. */
export async function runStandalone(argv: string[]): Promise<void> {
  const { flags } = parseFlags(argv, FLAGS);
  if (flags.help === true) {
    process.stdout.write(STANDALONE_USAGE);
    return;
  }
  const o = defaultOptions();
  if (flags.host !== undefined) o.host = flags.host;
  if (flags.port !== undefined) o.port = flags.port;
  if (flags['data-dir'] !== undefined) o.dataDir = flags['data-dir'];
  if (flags['guest-key'] !== undefined) o.guestKey = flags['guest-key'];
  if (flags['system-key'] !== undefined) o.systemKey = flags['system-key'];
  if (flags['invoker-memory'] !== undefined) o.invokerMemoryMB = flags['invoker-memory'];
  if (flags['idle-timeout'] !== undefined) o.idleTimeoutMs = flags['idle-timeout'] * 1000;
  if (flags['pause-grace'] !== undefined) o.pauseGraceMs = flags['pause-grace'] * 1000;
  if (flags['no-prewarm'] === true) o.prewarm = [];
  if (flags.sandbox !== undefined) {
    if (!(SANDBOX_BACKENDS as readonly string[]).includes(flags.sandbox)) {
      throw new UsageError(`--sandbox must be one of ${SANDBOX_BACKENDS.join(', ')}`);
    }
    o.sandbox = flags.sandbox as SandboxBackend;
  }
  if (flags['insecure-sandbox'] === true) o.insecureSandbox = true;
  if (flags.throttles !== undefined) {
    const allowed: readonly string[] = [...THROTTLE_PROFILES, 'auto'];
    if (!allowed.includes(flags.throttles))
      throw new UsageError(`--throttles must be one of ${allowed.join(', ')}`);
    o.throttles = flags.throttles as StandaloneOptions['throttles'];
  }
  o.system = withSharedThrottleFlags(o.system, flags);
  if (flags['no-wskprops'] === true) o.writeWskprops = false;
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
    throw new UsageError('--port must be 0..65535');

  const running = await startStandalone(o);
  const isolation = running.isolation;
  for (const w of running.warnings) log.warn(w);
  log.info(`API host:  ${running.url}`);
  if (running.guestKey !== undefined) {
    log.info(`guest key: ${running.guestKey}`);
    if (o.writeWskprops) {
      const written = writeWskpropsIfAbsent(running.url, running.guestKey);
      if (written !== undefined) log.info(`wrote ${written} (the CLI now talks to this server as guest)`);
    }
  } else {
    log.info(
      'guest key: unchanged since it was first printed (see ~/.wskprops; `whirl admin user create` makes new keys)',
    );
  }

  stopOnSignals(() => running.stop(), 'draining in-flight work and stopping sandboxes...');
  log.info(
    `whirl standalone ready on ${running.url} (data ${resolve(o.dataDir)}, sandbox ${isolation.isolated ? 'isolated' : 'NOT isolated'})`,
  );
}
