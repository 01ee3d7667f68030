/**
 * Starting activations and waiting for them: builds the activation message, hands it to the load
 * balancer, and resolves blocking callers when the invoker's completion comes back on this controller's
 * reply topic. Counts each namespace's activations in flight (for the concurrency throttle).
 */
import type { ActivationRecord } from '../core/activation.js';
import { newActivationId } from '../core/activation.js';
import type { KeyValue } from '../core/entities.js';
import { getAnnotation, isTruthy, toObject } from '../core/entities.js';
import { Messages, WhirlError, badRequest } from '../core/errors.js';
import type { ActivationMessage, CompletionMessage } from '../core/messages.js';
import type { MessageBus, Subscription } from '../bus/bus.js';
import type { LoadBalancer } from '../scheduler/load-balancer.js';
import type { Caller } from './identities.js';
import type { ResolvedAction } from './resolve.js';

export interface InvokeOptions {
  /** How long to wait for the result; 0 for a non-blocking invoke. */
  waitMs: number;
  transactionId: string;
  cause?: string;
  annotations?: KeyValue[];
  /** Set by the route when the request arrived (for `waitTime`). */
  receivedAt?: number;
}

export interface Started {
  activationId: string;
  /** Present when the activation completed within the wait. */
  record?: ActivationRecord;
}

interface Waiter {
  resolve: (record: ActivationRecord | undefined) => void;
  timer: NodeJS.Timeout | undefined;
}

export class Invocations {
  private readonly waiters = new Map<string, Waiter>();
  /** Activations dispatched and not yet completed, by activation id → namespace. */
  private readonly inFlight = new Map<string, string>();
  private readonly perNamespace = new Map<string, number>();
  private subscription: Subscription | undefined;
  /** Told of every completion that reaches this controller (cluster: load balancer, health, caches). */
  readonly completionListeners: ((c: CompletionMessage) => void)[] = [];
  /**
   * Where to read a record that was too big for the bus (cluster: the store, once the invoker wrote it).
   * Without it, such a waiter gets no record (202).
   */
  recordSource:
    ((namespace: string, activationId: string) => Promise<ActivationRecord | undefined>) | undefined;

  constructor(
    private readonly bus: MessageBus,
    private readonly balancer: LoadBalancer,
    /** This controller's completion topic. */
    readonly replyTo: string,
  ) {}

  /** Subscribes to this controller's completions; resolves once they reach it (before any invoke). */
  start(): Promise<void> {
    this.subscription = this.bus.subscribe<CompletionMessage>(this.replyTo, (d) => {
      this.completed(d.data);
      d.ack();
    });
    return this.subscription.ready;
  }

  /** Activations of `namespace` dispatched by this controller and not yet completed. */
  inFlightOf(namespace: string): number {
    return this.perNamespace.get(namespace) ?? 0;
  }

  /** In-flight counts of every namespace with activations in flight (shared with other controllers). */
  inFlightCounts(): ReadonlyMap<string, number> {
    return this.perNamespace;
  }

  /** Gives up on an activation whose completion never came (its invoker died): frees its count. */
  expire(activationId: string): void {
    this.untrack(activationId);
    this.waiters.get(activationId)?.resolve(undefined);
  }

  /** The arguments for the action: defined parameters below the payload; `final` ones may not be overridden. */
  static arguments(action: ResolvedAction, payload: Record<string, unknown>): Record<string, unknown> {
    if (isTruthy(getAnnotation(action.doc.annotations, 'final'))) {
      const defined = new Set(action.params.map((p) => p.key));
      if (Object.keys(payload).some((k) => defined.has(k))) throw badRequest(Messages.reservedParams);
    }
    return { ...toObject(action.params), ...payload };
  }

  async invoke(caller: Caller, action: ResolvedAction, args: unknown, o: InvokeOptions): Promise<Started> {
    const activationId = newActivationId();
    const provideKey = getAnnotation(action.doc.annotations, 'provide-api-key');
    const msg: ActivationMessage = {
      activationId,
      transactionId: o.transactionId,
      user: {
        namespace: caller.namespace,
        subject: caller.subject,
        // A missing annotation means "yes" for actions created before the annotation existed. An owner
        // acting without its key (web actions) has none to give.
        ...((provideKey === undefined || isTruthy(provideKey)) && caller.authKey !== ''
          ? { apiKey: caller.authKey }
          : {}),
      },
      actionPath: action.path,
      rev: action.rev,
      action: action.doc,
      args,
      annotations: [...action.annotations, ...(o.annotations ?? [])],
      ...(o.cause === undefined ? {} : { cause: o.cause }),
      receivedAt: o.receivedAt ?? Date.now(),
      replyTo: this.replyTo,
      store: caller.limits.storeActivations,
      // Either side may keep the action off the outside network: its owner (annotation) or its caller.
      ...(caller.limits.outboundNetwork && getAnnotation(action.doc.annotations, 'outbound-network') !== false
        ? {}
        : { network: 'api-only' as const }),
    };
    const result = o.waitMs > 0 ? this.waitFor(activationId, o.waitMs) : undefined;
    this.track(activationId, caller.namespace);
    try {
      await this.balancer.publish(msg);
    } catch (err) {
      this.untrack(activationId);
      this.waiters.get(activationId)?.resolve(undefined);
      if (err instanceof WhirlError) throw err;
      throw new WhirlError(503, Messages.serviceUnavailable);
    }
    const record = await result;
    return record === undefined ? { activationId } : { activationId, record };
  }

  private waitFor(activationId: string, ms: number): Promise<ActivationRecord | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (r) => {
          if (waiter.timer !== undefined) clearTimeout(waiter.timer);
          this.waiters.delete(activationId);
          resolve(r);
        },
        timer: undefined,
      };
      waiter.timer = setTimeout(() => waiter.resolve(undefined), ms);
      this.waiters.set(activationId, waiter);
    });
  }

  private track(id: string, namespace: string): void {
    this.inFlight.set(id, namespace);
    this.perNamespace.set(namespace, (this.perNamespace.get(namespace) ?? 0) + 1);
  }

  private untrack(id: string): void {
    const ns = this.inFlight.get(id);
    if (ns === undefined) return;
    this.inFlight.delete(id);
    const n = (this.perNamespace.get(ns) ?? 1) - 1;
    if (n <= 0) this.perNamespace.delete(ns);
    else this.perNamespace.set(ns, n);
  }

  private completed(c: CompletionMessage): void {
    this.untrack(c.activationId);
    for (const l of this.completionListeners) l(c);
    const waiter = this.waiters.get(c.activationId);
    if (waiter === undefined) return;
    if (c.record !== undefined || this.recordSource === undefined) waiter.resolve(c.record);
    else
      this.recordSource(c.namespace, c.activationId).then(
        (r) => waiter.resolve(r),
        () => waiter.resolve(undefined),
      );
  }

  /** Stops listening once no caller waits any more (bounded by the longest wait). */
  async stop(graceMs = 65_000): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.waiters.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const w of [...this.waiters.values()]) w.resolve(undefined);
    await this.subscription?.drain();
  }
}
