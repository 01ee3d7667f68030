/**
 * The cluster's LoadBalancer: places each activation on an invoker's work topic with home-invoker
 * hashing (sharding.ts), within each invoker's memory (shared out between the controllers alive), and
 * keeps the health view honest: completions count as outcomes, missing completions as timeouts, and
 * new or unhealthy invokers get a health-test action until it succeeds.
 */
import type { MessageBus } from '../bus/bus.js';
import { MessageTooLargeError } from '../bus/bus.js';
import { newActivationId, StatusCode } from '../core/activation.js';
import type { ActionDoc, Exec } from '../core/entities.js';
import { Messages, WhirlError } from '../core/errors.js';
import type { ActivationMessage, CompletionMessage } from '../core/messages.js';
import type { InvokerHealth, InvokerState } from './health.js';
import type { LoadBalancer } from './load-balancer.js';
import { homeHash, schedule } from './sharding.js';

export interface ClusterBalancerOptions {
  bus: MessageBus;
  health: InvokerHealth;
  controllerId: string;
  /** This controller's completion topic (health tests answer there too). */
  replyTo: string;
  /** Controllers alive now, this one included: each places at most its share of an invoker's memory. */
  controllers: () => number;
  /** An activation got no completion in time (its invoker died and nobody finished it). */
  onExpired: (activationId: string) => void;
  /** Code up to this size travels with the message; bigger code is fetched by the invoker (default 8 KB). */
  inlineCodeBytes?: number;
  /** Between two health tests of an invoker that is not up (default 10 s). */
  probeIntervalMs?: number;
  /** How long to wait for a completion before counting a timeout (default OpenWhisk's rule). */
  completionTimeoutMs?: (actionTimeoutMs: number) => number;
  /** Smallest share of an invoker any controller may use, MB (default 128). */
  minShareMB?: number;
}

interface Placed {
  invoker: string;
  memoryMB: number;
  timer: NodeJS.Timeout;
}

/** The OpenWhisk wire word of each state on `GET /invokers`. */
const WIRE_STATE: Record<InvokerState, string> = {
  up: 'up',
  unhealthy: 'unhealthy',
  unresponsive: 'unresponsive',
  offline: 'down',
};

/** OpenWhisk's forced-completion rule: max(timeout, 1 min) × 2 + 1 min. */
const defaultCompletionTimeout = (timeoutMs: number) => Math.max(timeoutMs, 60_000) * 2 + 60_000;

const PROBE_TIMEOUT_MS = 30_000;

/** Where an invoker listens for health tests (fan-out: a test nobody hears is simply sent again). */
export const probeTopic = (invoker: string): string => `${invoker}.probe`;

export class ClusterBalancer implements LoadBalancer {
  private readonly used = new Map<string, number>();
  private readonly placed = new Map<string, Placed>();
  /** Health tests in flight: activation id → invoker. */
  private readonly probes = new Map<string, { invoker: string; sent: number }>();
  private readonly lastProbe = new Map<string, number>();
  private readonly ticker: NodeJS.Timeout;
  private readonly healthAction: ActionDoc;
  private readonly inlineCodeBytes: number;
  private readonly probeIntervalMs: number;
  private readonly completionTimeout: (t: number) => number;

  constructor(private readonly o: ClusterBalancerOptions) {
    this.inlineCodeBytes = o.inlineCodeBytes ?? 8 * 1024;
    this.probeIntervalMs = o.probeIntervalMs ?? 10_000;
    this.completionTimeout = o.completionTimeoutMs ?? defaultCompletionTimeout;
    this.healthAction = {
      namespace: 'whisk.system',
      name: `invokerHealthTestAction${o.controllerId}`,
      version: '0.0.1',
      publish: false,
      annotations: [],
      updated: 0,
      exec: { kind: 'nodejs:20', code: 'function main(params) { return params; }', binary: false },
      parameters: [],
      limits: { timeout: 10_000, memory: 128, logs: 1, concurrency: 1 },
    };
    this.ticker = setInterval(() => this.probe(), 500);
    this.ticker.unref();
  }

  async publish(msg: ActivationMessage): Promise<void> {
    const invokers = this.o.health.list();
    const share = (memoryMB: number) =>
      Math.max(this.o.minShareMB ?? 128, Math.floor(memoryMB / Math.max(1, this.o.controllers())));
    const slots = invokers.map((v) => ({
      usable: v.state === 'up',
      freeMB: share(v.memoryMB) - (this.used.get(v.id) ?? 0),
    }));
    const memoryMB = msg.action.limits.memory;
    const placement = schedule(
      slots,
      homeHash(msg.user.namespace, `${msg.actionPath}/${msg.action.name}`),
      memoryMB,
    );
    if (placement === undefined) throw new WhirlError(503, Messages.serviceUnavailable);
    const invoker = invokers[placement.index]!.id;
    this.place(msg.activationId, invoker, memoryMB, msg.action.limits.timeout);
    try {
      // The activation id de-duplicates: a publish retried after a lost acknowledgement is stored once.
      await this.o.bus.publish(invoker, this.wire(msg), { id: msg.activationId });
    } catch (err) {
      this.free(msg.activationId);
      if (err instanceof MessageTooLargeError) {
        throw new WhirlError(413, Messages.requestTooLarge(err.size, err.max));
      }
      throw err;
    }
  }

  /** The message as it travels: without big code (the invoker reads it from the store by revision). */
  private wire(msg: ActivationMessage): ActivationMessage {
    const exec = msg.action.exec;
    if (!('code' in exec) || exec.code === undefined || exec.code.length <= this.inlineCodeBytes) return msg;
    const { code: _code, ...rest } = exec;
    return { ...msg, action: { ...msg.action, exec: rest as Exec }, codeInStore: true };
  }

  private place(activationId: string, invoker: string, memoryMB: number, timeoutMs: number): void {
    this.used.set(invoker, (this.used.get(invoker) ?? 0) + memoryMB);
    const timer = setTimeout(() => {
      // No completion in time: free the memory, count a timeout against the invoker, and let the
      // controller stop counting the activation as in flight.
      this.free(activationId);
      this.o.health.record(invoker, 'timeout');
      this.o.onExpired(activationId);
    }, this.completionTimeout(timeoutMs));
    timer.unref();
    this.placed.set(activationId, { invoker, memoryMB, timer });
  }

  private free(activationId: string): void {
    const p = this.placed.get(activationId);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.placed.delete(activationId);
    const left = (this.used.get(p.invoker) ?? 0) - p.memoryMB;
    if (left <= 0) this.used.delete(p.invoker);
    else this.used.set(p.invoker, left);
  }

  /** Every completion reaching this controller. */
  completed(c: CompletionMessage): void {
    const probe = this.probes.get(c.activationId);
    if (probe !== undefined) {
      this.probes.delete(c.activationId);
      if (c.invoker !== probe.invoker) return;
      if (c.record?.response.statusCode === StatusCode.Success) this.o.health.passedTest(c.invoker);
      else this.o.health.record(c.invoker, 'systemError');
      return;
    }
    this.free(c.activationId);
    if (c.interrupted === true) return;
    const code = c.record?.response.statusCode;
    this.o.health.record(c.invoker, code === StatusCode.WhiskError ? 'systemError' : 'success');
  }

  /**
   * Sends a health test to each invoker that is alive but not up, at most once per probe interval. Tests go
   * to the invoker's probe topic, not its work topic: a test must not wait behind a backlog of work.
   */
  private probe(): void {
    const now = Date.now();
    for (const [id, p] of this.probes) if (now - p.sent > PROBE_TIMEOUT_MS) this.probes.delete(id);
    for (const v of this.o.health.list()) {
      if (v.state === 'up' || v.state === 'offline') continue;
      const last = this.lastProbe.get(v.id) ?? 0;
      if (last !== 0 && now - last < this.probeIntervalMs) continue;
      this.lastProbe.set(v.id, now);
      const activationId = newActivationId();
      this.probes.set(activationId, { invoker: v.id, sent: now });
      const msg: ActivationMessage = {
        activationId,
        transactionId: `health-${this.o.controllerId}`,
        user: { namespace: 'whisk.system', subject: 'whisk.system' },
        actionPath: 'whisk.system',
        rev: 0,
        action: this.healthAction,
        args: { probe: now },
        receivedAt: now,
        replyTo: this.o.replyTo,
        store: false,
      };
      this.o.bus
        .publish(probeTopic(v.id), msg, { durable: false })
        .catch(() => this.probes.delete(activationId));
    }
  }

  /** `GET /invokers`: each invoker's state, in OpenWhisk's words. */
  invokerStates(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of this.o.health.list()) out[v.id] = WIRE_STATE[v.state];
    return out;
  }

  /** Memory this controller has placed on each invoker and not yet seen completed, MB. */
  usedMemory(): ReadonlyMap<string, number> {
    return this.used;
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const p of this.placed.values()) clearTimeout(p.timer);
  }
}
