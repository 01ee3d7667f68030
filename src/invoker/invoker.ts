/**
 * The invoker: takes activation messages from its bus topic, runs each in a container from its pool,
 * writes the activation record (batched) and sends the completion back to the controller that asked.
 * Every message it accepts ends with a record, whatever goes wrong.
 */
import { activationRecord, type ActivationRecord, type ActivationResponse } from '../core/activation.js';
import { ActivationMessages, StatusCode } from '../core/activation.js';
import type { CodeExec, BlackboxExec, KeyValue } from '../core/entities.js';
import { getAnnotation, isTruthy } from '../core/entities.js';
import { MB } from '../core/limits.js';
import type { ActivationMessage, CompletionMessage } from '../core/messages.js';
import { resolveKind, SKELETON_IMAGE, type RuntimeFamily } from '../core/runtimes.js';
import type { Delivery, MessageBus, Subscription } from '../bus/bus.js';
import { MessageTooLargeError } from '../bus/bus.js';
import type { ActivationWriter } from '../store/activation-writer.js';
import type { Store } from '../store/store.js';
import { ActionCache } from './action-cache.js';
import type { StartClaims } from '../core/ports.js';
import type { SandboxFactory } from '../sandbox/sandbox.js';
import type { Container, InitPayload, Outcome, RunPayload } from './container.js';
import { ActivationLogs } from './logs.js';
import { ContainerPool, PoolBusyError, type PoolOptions } from './pool.js';

export interface InvokerOptions {
  /** `invoker0`: also the name of its work topic. */
  id: string;
  bus: MessageBus;
  sandboxes: SandboxFactory;
  writer: ActivationWriter;
  pool: Omit<PoolOptions, 'env'>;
  /** URL actions use to call Whirl (`__OW_API_HOST`). */
  apiHost: string;
  resultLimitBytes: number;
  /** Activations handed to this invoker at once; the rest wait on the bus. */
  maxInFlight: number;
  onError?: (err: unknown) => void;
  /**
   * Cluster mode. `claims`: mark each activation started before its code runs, so that work redelivered
   * after an invoker died is re-run only when it never started (or the action is `retry-safe`). `store`:
   * where code left out of messages is read (by revision, cached) and earlier records are looked up.
   * `ackAfterStore`: acknowledge a message only once its record is in the store, so that a crash
   * in between makes the bus deliver it again instead of losing the record.
   */
  claims?: StartClaims;
  store?: Pick<Store, 'getEntity' | 'getActivation'>;
  ackAfterStore?: boolean;
}

/** Annotation that lets an interrupted activation run again on another invoker (its effects are idempotent). */
export const RETRY_SAFE_ANNOTATION = 'retry-safe';

/** The activation did not start and must go back to the bus (shutting down, claims unreachable). */
class NotStarted extends Error {}

interface Executed {
  record: ActivationRecord;
  /** Another invoker's death ended this activation. */
  interrupted?: boolean;
  /** The record was in the store already (written before an earlier delivery was lost). */
  stored?: boolean;
}

const TOO_BIG = 'The activation result is too large to return here; read it with GET /activations/{id}.';

/** Which runtime proxy serves an exec, and its image for the docker backend. */
function runtimeOf(
  exec: CodeExec | BlackboxExec,
): { kind: string; family: RuntimeFamily; image?: string } | undefined {
  if (exec.kind === 'blackbox') {
    const image = (exec as BlackboxExec).image;
    return image === SKELETON_IMAGE || image.startsWith(`${SKELETON_IMAGE}:`)
      ? { kind: 'blackbox', family: 'native' }
      : { kind: 'blackbox', family: 'native', image };
  }
  const r = resolveKind(exec.kind);
  return r && { kind: r.kind, family: r.family };
}

/** Init-time environment values are strings: objects JSON-encoded, null and undefined empty. */
function envString(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export class Invoker {
  readonly pool: ContainerPool;
  private subscription: Subscription | undefined;
  private probes: Subscription | undefined;
  /** Work topics of offline invokers that this one helps empty (cluster mode). */
  private readonly adopted = new Map<string, Subscription>();
  private stopping = false;
  /**
   * Activations being handled here, with any further deliveries of the same message: the bus delivers a
   * message again when its in-progress signal came late (an event loop stalled past the acknowledgement
   * wait). Such a duplicate must neither run nor end the activation: it waits, and is acknowledged with
   * the original.
   */
  private readonly handling = new Map<string, Delivery<ActivationMessage>[]>();
  private readonly actions: ActionCache | undefined;
  /** Initialisations in progress, shared by activations that reached a concurrent container early. */
  private readonly initializing = new WeakMap<Container, Promise<Outcome | undefined>>();

  constructor(private readonly o: InvokerOptions) {
    this.pool = new ContainerPool(o.sandboxes, { ...o.pool, env: { __OW_API_HOST: o.apiHost } }, o.onError);
    this.actions = o.store === undefined ? undefined : new ActionCache(o.store);
  }

  get topic(): string {
    return this.o.id;
  }

  async start(): Promise<void> {
    await this.pool.start();
    this.subscription = this.o.bus.subscribe<ActivationMessage>(this.o.id, (d) => void this.handle(d), {
      durable: true,
      maxInFlight: this.o.maxInFlight,
    });
  }

  /**
   * Also takes work from another invoker's topic (that invoker is offline: its queued work must not wait
   * for it). Competing consumers: each message still runs once.
   */
  adopt(topic: string, maxInFlight: number): void {
    if (this.stopping || this.adopted.has(topic) || topic === this.o.id) return;
    this.adopted.set(
      topic,
      this.o.bus.subscribe<ActivationMessage>(topic, (d) => void this.handle(d), {
        durable: true,
        maxInFlight,
      }),
    );
  }

  /** Stops helping with `topic` (its invoker is back), after the work taken from it is done. */
  async unadopt(topic: string): Promise<void> {
    const sub = this.adopted.get(topic);
    if (sub === undefined) return;
    this.adopted.delete(topic);
    await sub.drain();
  }

  get adoptedTopics(): string[] {
    return [...this.adopted.keys()];
  }

  /**
   * Health tests come on their own fan-out topic (they must not queue behind work) and are never
   * redelivered, so they need no start claim.
   */
  listenForProbes(topic: string): void {
    this.probes ??= this.o.bus.subscribe<ActivationMessage>(topic, (d) => void this.handle(d, false));
  }

  private async handle(delivery: Delivery<ActivationMessage>, claim = true): Promise<void> {
    const msg = delivery.data;
    const duplicates = this.handling.get(msg.activationId);
    if (duplicates !== undefined) {
      duplicates.push(delivery);
      return;
    }
    this.handling.set(msg.activationId, []);
    let outcome: 'ack' | 'release' = 'ack';
    try {
      outcome = await this.handleOnce(delivery, claim);
    } finally {
      // Duplicates share the original's fate: acknowledged with it, or handed back with it.
      for (const d of this.handling.get(msg.activationId) ?? []) {
        if (outcome === 'ack') d.ack();
        else d.release();
      }
      this.handling.delete(msg.activationId);
    }
  }

  private async handleOnce(
    delivery: Delivery<ActivationMessage>,
    claim: boolean,
  ): Promise<'ack' | 'release'> {
    const msg = delivery.data;
    let done: Executed;
    try {
      done = await this.execute(msg, claim);
    } catch (err) {
      if (err instanceof NotStarted) {
        // Never started: back to the bus, for this or another invoker.
        delivery.release();
        return 'release';
      }
      this.o.onError?.(err);
      const now = Date.now();
      done = {
        record: this.record(
          msg,
          now,
          now,
          { statusCode: StatusCode.WhiskError, result: { error: ActivationMessages.provisionError } },
          [],
          {},
        ),
      };
    }
    // Work that reached this invoker again after another took it and died says so (operators and tests count it).
    if (delivery.redelivered && done.stored !== true)
      done.record.annotations.push({ key: 'redelivered', value: true });
    const write = msg.store && done.stored !== true;
    if (write) this.o.writer.add(done.record);
    await this.complete(msg, done, write);
    if (write && this.o.ackAfterStore === true) await this.o.writer.persisted(msg.activationId);
    delivery.ack();
    return 'ack';
  }

  /** Sends the completion to the controller that waits; a record too big for the bus is read from the store. */
  private async complete(msg: ActivationMessage, done: Executed, written: boolean): Promise<void> {
    const base = {
      activationId: msg.activationId,
      namespace: msg.user.namespace,
      invoker: this.o.id,
      ...(done.interrupted === true ? { interrupted: true } : {}),
    };
    const send = (c: CompletionMessage) => this.o.bus.publish(msg.replyTo, c, { durable: false });
    try {
      await send({ ...base, record: done.record });
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) {
        this.o.onError?.(err);
        return;
      }
      try {
        if (written || done.stored === true) {
          await this.o.writer.persisted(msg.activationId);
          await send(base);
        } else {
          // Not stored (the namespace keeps no records): the caller gets the outcome without the logs.
          const r = done.record;
          const slim = { ...r, logs: [] };
          await send({ ...base, record: slim }).catch(() =>
            send({
              ...base,
              record: {
                ...slim,
                response: { statusCode: r.response.statusCode, result: { error: TOO_BIG } },
              },
            }),
          );
        }
      } catch (e) {
        this.o.onError?.(e);
      }
    }
  }

  private async execute(original: ActivationMessage, claim: boolean): Promise<Executed> {
    let msg = original;
    if (msg.codeInStore === true) {
      const found = await this.actions?.get(msg.actionPath, msg.action.name, msg.rev);
      if (found === undefined) {
        const now = Date.now();
        const gone = {
          statusCode: StatusCode.ApplicationError,
          result: { error: ActivationMessages.actionRemoved },
        };
        return { record: this.record(msg, now, now, gone, [], {}) };
      }
      msg = { ...msg, action: found.doc, rev: found.rev };
    }
    const action = msg.action;
    const exec = action.exec as CodeExec | BlackboxExec;
    const runtime = runtimeOf(exec);
    const limits = action.limits;
    if (runtime === undefined) {
      const now = Date.now();
      return {
        record: this.record(
          msg,
          now,
          now,
          whiskError(`The runtime '${exec.kind}' is not available on this invoker.`),
          [],
          {},
        ),
      };
    }
    let lease;
    try {
      lease = await this.pool.acquire({
        actionKey: `${msg.user.namespace}|/${msg.actionPath}/${action.name}`,
        rev: msg.rev,
        kind: runtime.kind,
        family: runtime.family,
        memoryMB: limits.memory,
        concurrency: limits.concurrency,
        ...(runtime.image === undefined ? {} : { image: runtime.image }),
        ...(msg.network === undefined ? {} : { network: msg.network }),
      });
    } catch (err) {
      // Refused because this invoker is shutting down: it never started, another invoker will run it.
      if (err instanceof PoolBusyError && this.stopping) throw new NotStarted(err.message);
      const now = Date.now();
      const message =
        err instanceof PoolBusyError
          ? err.message
          : runtime.image !== undefined
            ? `${ActivationMessages.imagePullError(runtime.image)} (${this.o.sandboxes.name === 'process' ? 'the process sandbox runs only the built-in runtimes; docker images need the docker sandbox' : String(err)})`
            : ActivationMessages.provisionError;
      if (!(err instanceof PoolBusyError)) this.o.onError?.(err);
      return { record: this.record(msg, now, now, whiskError(message), [], {}) };
    }
    const container = lease.container;
    if (this.o.claims !== undefined && claim) {
      // Not run here after all: the container goes back to the pool (initialised or not, it can serve the
      // next activation of this action, or be evicted).
      const unused = () => this.pool.release(container, false);
      const earlier = await this.claim(msg, action.annotations).catch((err: unknown) => {
        unused();
        throw err;
      });
      if (earlier !== undefined) {
        unused();
        return earlier;
      }
    }
    const start = Date.now();
    const logs = new ActivationLogs(limits.logs * MB);
    const deadline = start + limits.timeout;
    const { args, initEnv } = partitionArgs(msg.args, action.parameters);
    const env = {
      ...(msg.user.apiKey === undefined ? {} : { __OW_API_KEY: msg.user.apiKey }),
      __OW_NAMESPACE: msg.user.namespace,
      __OW_ACTION_NAME: `/${msg.actionPath}/${action.name}`,
      __OW_ACTION_VERSION: action.version,
      __OW_ACTIVATION_ID: msg.activationId,
      __OW_TRANSACTION_ID: msg.transactionId,
      __OW_DEADLINE: String(deadline),
    };
    let outcome: Outcome | undefined;
    let initTime: number | undefined;
    if (!container.initialized) {
      let init = this.initializing.get(container);
      if (init === undefined) {
        const payload: InitPayload = {
          name: action.name,
          main: exec.main ?? 'main',
          binary: exec.binary,
          env: { ...initEnv, ...env },
          ...(exec.code === undefined ? {} : { code: exec.code }),
        };
        init = container.init(payload, limits.timeout, logs);
        this.initializing.set(container, init);
        initTime = 0; // this activation pays the cold start
      }
      outcome = await init;
      if (initTime !== undefined) initTime = Date.now() - start;
    }
    if (outcome === undefined) {
      const run: RunPayload = {
        value: args,
        namespace: msg.user.namespace,
        action_name: env.__OW_ACTION_NAME,
        action_version: action.version,
        activation_id: msg.activationId,
        transaction_id: msg.transactionId,
        deadline: String(deadline),
        ...(msg.user.apiKey === undefined ? {} : { api_key: msg.user.apiKey }),
      };
      outcome = await container.run(run, limits.timeout, logs, this.o.resultLimitBytes);
    }
    this.pool.release(container, outcome.discard);
    const end = Date.now();
    return {
      record: this.record(msg, start, end, outcome.response, logs.lines, {
        timedOut: outcome.timedOut,
        waitTime: start - msg.receivedAt,
        ...(initTime === undefined ? {} : { initTime }),
      }),
    };
  }

  /**
   * Claims the activation before its code starts. Undefined: go ahead. Otherwise another invoker claimed it
   * first and died (this is a redelivery): its effects may have happened, so unless the action is
   * `retry-safe` it is not run again — it ends with the record the first run left, or a whisk internal error
   * saying why.
   */
  private async claim(
    msg: ActivationMessage,
    annotations: readonly KeyValue[],
  ): Promise<Executed | undefined> {
    let result;
    try {
      result = await this.o.claims!.claim(msg.activationId, this.o.id);
    } catch (err) {
      this.o.onError?.(err);
      throw new NotStarted('cannot record the start of the activation');
    }
    if (result.claimed) return undefined;
    if (isTruthy(getAnnotation(annotations, RETRY_SAFE_ANNOTATION))) {
      await this.o.claims!.reclaim(msg.activationId, this.o.id).catch((err: unknown) => {
        this.o.onError?.(err);
        throw new NotStarted('cannot record the start of the activation');
      });
      return undefined;
    }
    const existing = await this.o.store?.getActivation(msg.user.namespace, msg.activationId);
    if (existing !== undefined) return { record: existing, stored: true, interrupted: true };
    const now = Date.now();
    const response = whiskError(ActivationMessages.interrupted(result.owner));
    const record = this.record(msg, now, now, response, [], {});
    record.annotations.push({ key: 'interrupted', value: { invoker: result.owner } });
    return { record, interrupted: true };
  }

  private record(
    msg: ActivationMessage,
    start: number,
    end: number,
    response: ActivationResponse,
    logs: string[],
    timing: { timedOut?: boolean; waitTime?: number; initTime?: number },
  ): ActivationRecord {
    const a = msg.action;
    const annotations: KeyValue[] = [
      { key: 'limits', value: a.limits },
      { key: 'path', value: `${msg.actionPath}/${a.name}` },
      { key: 'kind', value: a.exec.kind },
      { key: 'timeout', value: timing.timedOut ?? false },
      { key: 'waitTime', value: timing.waitTime ?? Math.max(0, start - msg.receivedAt) },
    ];
    if (timing.initTime !== undefined) annotations.push({ key: 'initTime', value: timing.initTime });
    if (msg.annotations !== undefined) annotations.push(...msg.annotations);
    return activationRecord({
      namespace: msg.user.namespace,
      subject: msg.user.subject,
      name: a.name,
      version: a.version,
      activationId: msg.activationId,
      start,
      end,
      cause: msg.cause,
      response,
      logs,
      annotations,
    });
  }

  /** Stops taking work, finishes what is running, then removes every container. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.probes?.drain();
    await Promise.all([...this.adopted.keys()].map((t) => this.unadopt(t)));
    await this.subscription?.drain();
    await this.pool.close();
  }
}

const whiskError = (message: string): ActivationResponse => ({
  statusCode: StatusCode.WhiskError,
  result: { error: message },
});

/** Parameters marked `init` go to /init's environment instead of /run's arguments. */
function partitionArgs(
  args: unknown,
  params: readonly KeyValue[],
): { args: unknown; initEnv: Record<string, string> } {
  const initKeys = params.filter((p) => p.init === true).map((p) => p.key);
  if (initKeys.length === 0 || args === null || typeof args !== 'object' || Array.isArray(args)) {
    return { args, initEnv: {} };
  }
  const rest = { ...(args as Record<string, unknown>) };
  const initEnv: Record<string, string> = {};
  for (const k of initKeys) {
    if (k in rest) {
      initEnv[k] = envString(rest[k]);
      delete rest[k];
    }
  }
  return { args: rest, initEnv };
}
