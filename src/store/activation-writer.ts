/**
 * Writes activation records in batches, off the invocation path: records are queued, and a timer flushes
 * them in one transaction. Until flushed, `get` serves them from memory so that a client reading its
 * activation right after a blocking invoke never sees a 404.
 */
import type { ActivationRecord } from '../core/activation.js';
import type { Store } from './store.js';

export interface ActivationWriterOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Records held while the store is failing; beyond this the oldest are dropped (and reported). */
  maxPending?: number;
  onError?: (err: unknown, pending: number) => void;
}

export class ActivationWriter {
  private pending = new Map<string, ActivationRecord>();
  /** Callers waiting until a record is in the store (cluster invokers acknowledge work only then). */
  private readonly waiting = new Map<string, (() => void)[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;

  constructor(
    private readonly store: Store,
    private readonly options: ActivationWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 10;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxPending = options.maxPending ?? 200_000;
  }

  add(record: ActivationRecord): void {
    this.pending.set(record.activationId, record);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) {
        this.pending.delete(oldest);
        this.settle(oldest);
      }
      this.options.onError?.(
        new Error('activation write queue overflow: dropped the oldest record'),
        this.pending.size,
      );
    }
    this.schedule(this.pending.size >= this.maxBatch ? 0 : this.flushIntervalMs);
  }

  /** A record not yet written, scoped to its namespace. */
  get(namespace: string, activationId: string): ActivationRecord | undefined {
    const r = this.pending.get(activationId);
    return r !== undefined && r.namespace === namespace ? r : undefined;
  }

  /** Resolves once the record with this id is in the store (at once when none is pending). */
  persisted(activationId: string): Promise<void> {
    if (!this.pending.has(activationId)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiting.get(activationId);
      if (list === undefined) this.waiting.set(activationId, [resolve]);
      else list.push(resolve);
    });
  }

  private settle(activationId: string): void {
    const list = this.waiting.get(activationId);
    if (list === undefined) return;
    this.waiting.delete(activationId);
    for (const resolve of list) resolve();
  }

  get size(): number {
    return this.pending.size;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.flushing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  /** Writes everything queued so far; resolves once it is in the store. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing !== undefined) await this.flushing;
    if (this.pending.size === 0) return;
    this.flushing = this.writeAll();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.pending.size > 0)
      this.schedule(this.failures === 0 ? 0 : Math.min(5000, 50 * 2 ** this.failures));
  }

  private async writeAll(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()].slice(0, this.maxBatch);
      try {
        await this.store.putActivations(batch);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.options.onError?.(err, this.pending.size);
        return;
      }
      // Only drop what was written: records re-added meanwhile (same id) are idempotent anyway.
      for (const r of batch) {
        if (this.pending.get(r.activationId) === r) this.pending.delete(r.activationId);
        this.settle(r.activationId);
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
