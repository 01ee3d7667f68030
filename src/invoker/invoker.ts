/**
 * The invoker: takes activation messages from its bus topic, runs each in a container from its pool,
 * writes the activation record (batched) and sends the completion back to the controller that asked.
 * Every message it accepts ends with a record, whatever goes wrong.
 */
import type { ActivationRecord, ActivationResponse } from '../core/activation.js';
import { ActivationMessages, StatusCode } from '../core/activation.js';
import type { CodeExec, BlackboxExec, KeyValue } from '../core/entities.js';
import { MB } from '../core/limits.js';
import type { ActivationMessage, CompletionMessage } from '../core/messages.js';
import { resolveKind, SKELETON_IMAGE, type RuntimeFamily } from '../core/runtimes.js';
import type { Delivery, MessageBus, Subscription } from '../bus/bus.js';
import type { ActivationWriter } from '../store/activation-writer.js';
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
}

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
  /** Initialisations in progress, shared by activations that reached a concurrent container early. */
  private readonly initializing = new WeakMap<Container, Promise<Outcome | undefined>>();

  constructor(private readonly o: InvokerOptions) {
    this.pool = new ContainerPool(o.sandboxes, { ...o.pool, env: { __OW_API_HOST: o.apiHost } }, o.onError);
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

  private async handle(delivery: Delivery<ActivationMessage>): Promise<void> {
    const msg = delivery.data;
    let record: ActivationRecord;
    try {
      record = await this.execute(msg);
    } catch (err) {
      this.o.onError?.(err);
      const now = Date.now();
      record = this.record(
        msg,
        now,
        now,
        { statusCode: StatusCode.WhiskError, result: { error: ActivationMessages.provisionError } },
        [],
        {},
      );
    }
    if (msg.store) this.o.writer.add(record);
    const completion: CompletionMessage = { activationId: msg.activationId, record, invoker: this.o.id };
    try {
      await this.o.bus.publish(msg.replyTo, completion);
    } catch (err) {
      this.o.onError?.(err);
    }
    delivery.ack();
  }

  private async execute(msg: ActivationMessage): Promise<ActivationRecord> {
    const action = msg.action;
    const exec = action.exec as CodeExec | BlackboxExec;
    const runtime = runtimeOf(exec);
    const limits = action.limits;
    if (runtime === undefined) {
      const now = Date.now();
      return this.record(
        msg,
        now,
        now,
        whiskError(`The runtime '${exec.kind}' is not available on this invoker.`),
        [],
        {},
      );
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
      });
    } catch (err) {
      const now = Date.now();
      const message =
        err instanceof PoolBusyError
          ? err.message
          : runtime.image !== undefined
            ? `${ActivationMessages.imagePullError(runtime.image)} (${this.o.sandboxes.name === 'process' ? 'the process sandbox runs only the built-in runtimes; docker images need the docker sandbox' : String(err)})`
            : ActivationMessages.provisionError;
      if (!(err instanceof PoolBusyError)) this.o.onError?.(err);
      return this.record(msg, now, now, whiskError(message), [], {});
    }
    const container = lease.container;
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
    return this.record(msg, start, end, outcome.response, logs.lines, {
      timedOut: outcome.timedOut,
      waitTime: start - msg.receivedAt,
      ...(initTime === undefined ? {} : { initTime }),
    });
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
    return {
      namespace: msg.user.namespace,
      name: a.name,
      version: a.version,
      subject: msg.user.subject,
      publish: false,
      activationId: msg.activationId,
      start,
      end,
      duration: end - start,
      ...(msg.cause === undefined ? {} : { cause: msg.cause }),
      response,
      logs,
      annotations,
    };
  }

  /** Stops taking work, finishes what is running, then removes every container. */
  async stop(): Promise<void> {
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
